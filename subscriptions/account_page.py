"""What the reader's account page says about them: who they are, what gives them access
and what it costs, their private feed.

The page is one template (templates/subscriptions/account.html); this module gathers
what it needs so the view stays one line. Nothing here decides access (access.py does)
or words a price of its own: a subscription's price is its own terms, as Stripe bills
them, said by the one price rule (Plan.price_parts); the billing sentences reuse
emails.price_of, as the emails do.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from . import access, billing, emails, private_feeds
from .models import ComplimentaryAccess, Plan, Subscription, default_plan


def subscription_price_parts(subscription: Subscription) -> tuple[str, str]:
    """("$0.50/week", "billed $2.00 every 4 weeks") for what this subscription is billed:
    its recorded terms put through Plan.price_parts, the plan's while Stripe has not said."""
    if subscription.amount_cents is None or not subscription.interval:
        return subscription.plan.price_parts() if subscription.plan else ("", "")
    terms = Plan(
        amount_cents=subscription.amount_cents,
        currency=subscription.currency or "usd",
        interval=subscription.interval,
        interval_count=subscription.interval_count or 1,
    )
    return terms.price_parts()


def complimentary_access(user) -> ComplimentaryAccess | None:
    """The running complimentary access that lasts longest (a gift's months follow the access
    before them, so the last row's end is when reading stops)."""
    return ComplimentaryAccess.objects.filter(user=user, until__gt=timezone.now()).order_by("-until").first()


def gift_of(grant: ComplimentaryAccess | None) -> Any:
    """The gift subscription that granted this access, if a gift did (growth's GiftSubscription,
    reached through its one-to-one `access`: this app does not import growth)."""
    return getattr(grant, "gift", None) if grant is not None else None


def context(request: HttpRequest) -> dict[str, Any]:
    user = request.user
    ent = access.entitlement(request)
    subscription = user.subscriptions.select_related("plan").first()
    configured = billing.is_configured()
    grant = complimentary_access(user) if ent.reason == access.Reason.COMPLIMENTARY else None
    headline, billed = subscription_price_parts(subscription) if subscription else ("", "")
    # A reader with nothing to manage is offered the plan the paywall offers, at its price.
    offer = default_plan() if configured and not ent.entitled else None
    # Staff and complimentary readers are told that first; an old, ended subscription of
    # theirs is history, not their plan.
    show_subscription = bool(
        subscription
        and subscription.status != Subscription.Status.INCOMPLETE
        and not (ent.reason in (access.Reason.STAFF, access.Reason.COMPLIMENTARY)
                 and subscription.status in Subscription.ENDED_STATUSES)
    )
    return {
        "ent": ent,
        "subscription": subscription,
        "show_subscription": show_subscription,
        # Account deletion waits for a subscription that can still bill to be cancelled.
        "can_still_bill": bool(subscription and subscription.status in Subscription.LIVE_STATUSES),
        "price_headline": headline,
        "price_billed": billed,
        "bill": emails.price_of(subscription) if subscription else "",
        "grant": grant,
        "gift": gift_of(grant),
        "offer": offer,
        "offer_price": offer.price_parts() if offer else ("", ""),
        "feed_token": private_feeds.feed_token_get_or_create(user=user) if ent.entitled else None,
        # A renewal waiting for the reader's bank: "confirm your payment" with its link, not "update your card".
        "pay_url": billing.payment_waiting_url(subscription) if subscription and configured else "",
        "stripe_configured": configured,
        "has_customer": hasattr(user, "stripe_customer"),
        "comments": user.comments.select_related("article").order_by("-created_at")[:50],
    }
