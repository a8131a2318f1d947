"""Gift subscriptions: bought once, sent on a date, redeemed once, refundable.

A gift is paid through Checkout in payment mode (billing.gift_checkout_session); the
webhook's checkout.session.completed (or the thanks page) marks it paid and sends the
buyer a receipt. On its delivery date (`manage.py deliver_gifts`, run every few minutes
like the newsletter's sender) the recipient gets a link with a long random token, of which
only a hash is kept. Redeeming grants ComplimentaryAccess for the months bought, so
subscriptions/access.py decides about gift readers as about any complimentary reader;
nothing renews and no card is kept. A refunded gift's access ends at once.

A reader who already pays is not given the gift on top of what they pay for: the link
stays good, and they redeem it once their subscription has ended (docs/growth.md says why).
"""

from __future__ import annotations

import calendar
import logging
import secrets
from datetime import date, datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from subscriptions import billing
from subscriptions.models import ComplimentaryAccess, Subscription

from . import attribution
from .models import GiftSubscription, token_hash

log = logging.getLogger(__name__)


class GiftNotRedeemable(Exception):
    """Why this gift cannot be redeemed now, in words for the reader."""


def gift_price_cents(months: int) -> int:
    return settings.GIFT_PRICES_CENTS[months]


def add_months(moment: datetime, months: int) -> datetime:
    """The same day `months` later (the month's last day when it has no such day)."""
    month = moment.month - 1 + months
    year, month = moment.year + month // 12, month % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def gift_create(*, months: int, buyer, buyer_email: str, buyer_name: str, recipient_email: str,
                recipient_name: str, message: str, deliver_on: date) -> GiftSubscription:
    return GiftSubscription.objects.create(
        months=months, amount_cents=gift_price_cents(months), currency=settings.GIFT_CURRENCY,
        buyer=buyer if buyer is not None and buyer.is_authenticated else None, buyer_email=buyer_email,
        buyer_name=buyer_name, recipient_email=recipient_email, recipient_name=recipient_name, message=message,
        deliver_on=deliver_on,
    )


def _gift_of_session(session: dict) -> GiftSubscription | None:
    """The gift a Checkout Session of ours paid for, or None (another integration's payment)."""
    metadata = session.get("metadata") or {}
    gift_id = str(metadata.get("gift") or "")
    if str(metadata.get("site") or "") != billing.site_id() or not gift_id.isdigit() \
            or session.get("client_reference_id") != f"gift-{gift_id}":
        log.info("payment session %s is not a gift of this site", session.get("id"))
        return None
    return GiftSubscription.objects.filter(pk=int(gift_id)).first()


def gift_paid(session: dict) -> GiftSubscription | None:
    """A gift's Checkout Session completed (webhook or thanks page; either order, any number of times).
    Marks it paid once, sends the buyer's receipt, and sends the gift now when its day has come."""
    gift = _gift_of_session(session)
    if gift is None or session.get("payment_status") != "paid":
        return gift
    with transaction.atomic():
        gift = GiftSubscription.objects.select_for_update().get(pk=gift.pk)
        if gift.status != GiftSubscription.Status.UNPAID:
            return gift
        gift.status = GiftSubscription.Status.PAID
        gift.stripe_checkout_session_id = session["id"]
        gift.stripe_payment_intent_id = billing._id(session.get("payment_intent")) or ""
        gift.save()
        paid = gift
        transaction.on_commit(lambda: _email(paid, "receipt", paid.buyer_email))
        if gift.deliver_on <= timezone.localdate():
            transaction.on_commit(lambda: gift_deliver(paid.pk))
    return gift


def gift_deliver(gift_id: int, *, resend: bool = False) -> bool:
    """Send the recipient their link (a new one: only its hash is kept, so a resend replaces the
    old link). The row stays locked while the email goes out, so two senders send it once; a
    mail failure rolls back and the next run tries again. True when sent."""
    with transaction.atomic():
        gift = GiftSubscription.objects.select_for_update(skip_locked=True).filter(pk=gift_id).first()
        allowed = (GiftSubscription.Status.PAID, GiftSubscription.Status.DELIVERED) if resend \
            else (GiftSubscription.Status.PAID,)
        if gift is None or gift.status not in allowed:
            return False
        token = secrets.token_urlsafe(32)
        gift.token_hash = token_hash(token)
        gift.status = GiftSubscription.Status.DELIVERED
        gift.delivered_at = timezone.now()
        gift.save()
        link = settings.SITE_URL + reverse("subscriptions:redeem", args=[token])
        _email(gift, "gift", gift.recipient_email, link=link, raise_errors=True)
    return True


def deliver_due(today: date | None = None) -> int:
    """Send every paid gift whose day has come; how many were sent."""
    today = today or timezone.localdate()
    due = GiftSubscription.objects.filter(status=GiftSubscription.Status.PAID, deliver_on__lte=today)
    sent = 0
    for gift_id in due.values_list("pk", flat=True):
        try:
            sent += gift_deliver(gift_id)
        except Exception:  # one address's mail failure must not hold up the others
            log.exception("gift %s could not be sent; the next run tries again", gift_id)
    return sent


def gift_for_token(token: str) -> GiftSubscription | None:
    if not token or len(token) > 100:
        return None
    return GiftSubscription.objects.filter(token_hash=token_hash(token)).first()


def paying_subscriber(user) -> bool:
    """Does this reader have a subscription that bills (a gift would run under it unused)?"""
    return Subscription.objects.live().filter(user=user).exists()


def gift_redeem(*, gift_id: int, user) -> GiftSubscription:
    """Give `user` the gift's months of access, once. The gift row is locked, so two clicks (or two
    readers holding the link) redeem it once; the loser is told it was redeemed."""
    with transaction.atomic():
        gift = GiftSubscription.objects.select_for_update().get(pk=gift_id)
        if gift.status == GiftSubscription.Status.REDEEMED:
            raise GiftNotRedeemable("This gift has already been redeemed.")
        if gift.status != GiftSubscription.Status.DELIVERED:
            raise GiftNotRedeemable("This gift is no longer valid.")
        if paying_subscriber(user):
            raise GiftNotRedeemable("You already have a subscription: keep this link and redeem it once "
                                    "your subscription has ended.")
        now = timezone.now()
        # Access already given (a complimentary reader): the gift's months follow it.
        start = max([now, *ComplimentaryAccess.objects.filter(user=user, until__gt=now)
                    .values_list("until", flat=True)])
        gift.access = ComplimentaryAccess.objects.create(
            user=user, until=add_months(start, gift.months), note=f"Gift subscription #{gift.pk}")
        gift.status = GiftSubscription.Status.REDEEMED
        gift.redeemed_by, gift.redeemed_at = user, now
        gift.save()
        attribution.conversion_record(kind="gift", key=f"gift-{gift.pk}", user=user, gift=True)
        redeemed = gift
        transaction.on_commit(lambda: _email(redeemed, "redeemed", redeemed.buyer_email))
    return gift


def gift_refund(gift: GiftSubscription) -> None:
    """Staff refund a gift: Stripe gives the money back, then the gift stops giving access."""
    if not gift.stripe_payment_intent_id:
        raise ValueError("This gift was never paid.")
    billing.gift_refund(gift.stripe_payment_intent_id)
    gift_mark_refunded(payment_intent=gift.stripe_payment_intent_id)


def gift_mark_refunded(*, payment_intent: str) -> GiftSubscription | None:
    with transaction.atomic():
        gift = GiftSubscription.objects.select_for_update().filter(stripe_payment_intent_id=payment_intent).first()
        if gift is None or gift.status == GiftSubscription.Status.REFUNDED:
            return gift
        gift.status = GiftSubscription.Status.REFUNDED
        gift.refunded_at = timezone.now()
        gift.token_hash = None  # the link redeems nothing any more
        if gift.access is not None:
            gift.access.until = min(gift.access.until, gift.refunded_at)
            gift.access.save(update_fields=["until"])  # the receivers forget the reader's cached entitlement
        gift.save()
    return gift


def gift_charge_refunded(charge_id: str) -> bool:
    """charge.refunded: True when the charge paid for a gift (then handled here), False otherwise."""
    if not GiftSubscription.objects.exclude(stripe_payment_intent_id="").exists():
        return False
    payment_intent, refunded = billing.charge_payment_intent(charge_id)
    if not payment_intent or not GiftSubscription.objects.filter(stripe_payment_intent_id=payment_intent).exists():
        return False
    if refunded:
        gift_mark_refunded(payment_intent=payment_intent)
    return True


def _email(gift: GiftSubscription, name: str, to: str, *, link: str = "", raise_errors: bool = False) -> None:
    context = {"gift": gift, "link": link, "SITE_NAME": settings.SITE_NAME, "SITE_URL": settings.SITE_URL,
               "subscribe_url": settings.SITE_URL + reverse("subscriptions:pricing")}
    subject = render_to_string(f"growth/email/{name}_subject.txt", context).strip()
    body = render_to_string(f"growth/email/{name}_message.txt", context)
    try:
        send_mail(f"[{settings.SITE_NAME}] {subject}", body, settings.DEFAULT_FROM_EMAIL, [to])
    except Exception:
        if raise_errors:
            raise
        log.exception("could not send the %s email of gift %s", name, gift.pk)
