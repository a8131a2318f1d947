"""Offers: what a reader may take now, what was taken, and what it brings in.

Stripe decides whether a promotion code is honoured (billing.promotion_code_usable, and
Checkout itself); the page only shows what Stripe will grant, and never a discount it did not."""

from __future__ import annotations

import logging
from typing import Any

import stripe
from django.db import IntegrityError, transaction

from subscriptions import billing
from subscriptions.models import Plan, Subscription, money

from .models import Offer, OfferRedemption

log = logging.getLogger(__name__)


def offer_open(code: str) -> Offer | None:
    """The offer of this code if a reader may take it now (locally and, for a discount, in Stripe)."""
    offer = Offer.objects.select_related("plan").filter(code=code).first()
    if offer is None or not offer.is_open():
        return None
    if offer.is_discount:
        try:
            if not billing.promotion_code_usable(offer.stripe_promotion_code_id):
                return None
        except (stripe.StripeError, billing.NotConfigured):
            log.warning("offer %s: Stripe could not confirm its promotion code", code, exc_info=True)
            return None
    return offer


def offer_plans(offer: Offer) -> list[Plan]:
    plans = Plan.objects.active().exclude(stripe_price_id="")
    return [p for p in plans if offer.applies_to(p)]


def redemption_record(session: dict[str, Any], sub: Subscription | None) -> OfferRedemption | None:
    """A subscription Checkout completed: when it carried one of our offers, count it once. A
    discount counts only when Stripe applied the offer's own promotion code to the session."""
    code = str((session.get("metadata") or {}).get("offer") or "")
    if not code or sub is None:
        return None
    offer = Offer.objects.filter(code=code).first()
    if offer is None:
        return None
    if offer.is_discount:
        applied = {billing._id(d.get("promotion_code")) for d in session.get("discounts") or [] if isinstance(d, dict)}
        if offer.stripe_promotion_code_id not in applied:
            log.warning("checkout session %s names offer %s but Stripe applied %s", session.get("id"), code, applied)
            return None
    try:
        with transaction.atomic():
            return OfferRedemption.objects.create(
                offer=offer, user_id=sub.user_id, stripe_checkout_session_id=session["id"],
                stripe_subscription_id=sub.stripe_subscription_id or "")
    except IntegrityError:
        return OfferRedemption.objects.filter(stripe_checkout_session_id=session["id"]).first()


def offers_report() -> list[dict]:
    """Per offer: redemptions, and the monthly revenue of the subscriptions it brought that still pay."""
    report = []
    for offer in Offer.objects.all():
        sub_ids = list(offer.redemption_rows.values_list("stripe_subscription_id", flat=True))
        paying = Subscription.objects.paying().filter(stripe_subscription_id__in=sub_ids).select_related("plan")
        cents = round(sum(s.monthly_cents() for s in paying))
        report.append({"offer": offer, "redemptions": len(sub_ids), "paying": paying.count(),
                       "revenue_cents": cents, "revenue": money(cents)})
    return report
