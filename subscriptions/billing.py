"""The only module that talks to Stripe.

Stripe is the source of truth for billing; this module creates Stripe objects
(products, prices, customers, Checkout and portal sessions) and fetches the
current state of subscriptions. Turning that state into local rows is
`sync_subscription`, used by the webhook, the success page and reconcile.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import stripe
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from . import emails, stats
from .models import Plan, StripeCustomer, Subscription

log = logging.getLogger(__name__)

# Statuses in which a reader already has (or is about to have) a subscription,
# so a second Checkout would double-bill.
LIVE_STATUSES = {Subscription.Status.TRIALING, Subscription.Status.ACTIVE, Subscription.Status.PAST_DUE}
# A double click within this many seconds reuses the same Checkout Session.
CHECKOUT_BUCKET_SECONDS = 600
# How long a Checkout Session stays payable (Stripe allows 30 minutes to 24 hours).
CHECKOUT_LIFETIME_SECONDS = 30 * 60
# Stripe remembers an idempotency key for 24 hours.
IDEMPOTENCY_KEY_SECONDS = 24 * 3600


class NotConfigured(Exception):
    """No Stripe secret key: payments are off (a first local run)."""


def is_configured() -> bool:
    return bool(settings.STRIPE_SECRET_KEY)


def _configure() -> None:
    # Read settings on every call so tests and operators can change them at run time.
    if not is_configured():
        raise NotConfigured("STRIPE_SECRET_KEY is not set")
    stripe.api_key = settings.STRIPE_SECRET_KEY
    stripe.api_base = settings.STRIPE_API_BASE or "https://api.stripe.com"
    stripe.api_version = settings.STRIPE_API_VERSION
    stripe.max_network_retries = 2


@contextmanager
def _idempotency_key(purpose: str) -> Iterator[str]:
    """The idempotency key of one attempt at `purpose`.

    Repeating the same purpose (a double click, a crash before our commit)
    reuses the key, so Stripe answers with the first result instead of acting
    twice. But Stripe also keeps a 5xx answer for the key's 24 hours: after a
    server error or a network failure (the library's own retries, which reuse
    the key, have given up) the key is dropped, and the next attempt gets a
    fresh one instead of the stored error."""
    cache_key = f"stripe-idempotency:{purpose}"
    key = cache.get(cache_key)
    if key is None:
        key = f"ledger-{purpose}-{secrets.token_hex(6)}"
        cache.set(cache_key, key, IDEMPOTENCY_KEY_SECONDS)
    try:
        yield key
    except (stripe.APIConnectionError, stripe.APIError):
        cache.delete(cache_key)
        raise


# --- plans -----------------------------------------------------------------


def sync_plans() -> list[str]:
    """Create the product and price of every active plan when missing. Safe twice:
    plans that already have ids are left alone, and idempotency keys make a crash
    between Stripe's answer and our save harmless."""
    _configure()
    done = []
    for plan in Plan.objects.filter(is_active=True):
        if not plan.stripe_product_id:
            with _idempotency_key(f"product-{plan.code}") as key:
                product = stripe.Product.create(
                    name=f"{settings.SITE_NAME} {plan.name}", metadata={"plan_code": plan.code}, idempotency_key=key
                )
            plan.stripe_product_id = product.id
            plan.save(update_fields=["stripe_product_id"])
            done.append(f"product {plan.code} {product.id}")
        if not plan.stripe_price_id:
            with _idempotency_key(f"price-{plan.code}-{plan.amount_cents}-{plan.currency}-{plan.interval}") as key:
                price = stripe.Price.create(
                    product=plan.stripe_product_id,
                    unit_amount=plan.amount_cents,
                    currency=plan.currency,
                    recurring={"interval": plan.interval},
                    lookup_key=f"ledger_{plan.code}",
                    metadata={"plan_code": plan.code},
                    idempotency_key=key,
                )
            plan.stripe_price_id = price.id
            plan.save(update_fields=["stripe_price_id"])
            done.append(f"price {plan.code} {price.id}")
    return done


# --- customers and sessions --------------------------------------------------


def customer_for(user) -> str:
    """The user's one Stripe customer id, created the first time.

    Locking the user row serialises concurrent callers (a double click), so the
    second sees the first one's StripeCustomer row; the idempotency key covers
    a crash between Stripe's answer and our commit."""
    _configure()
    with transaction.atomic():
        get_user_model().objects.select_for_update().only("pk").get(pk=user.pk)
        existing = StripeCustomer.objects.filter(user_id=user.pk).values_list("customer_id", flat=True).first()
        if existing:
            return existing
        # pk + join time: a reset database (or another site on the same
        # Stripe account) reusing pk 5 must not get someone else's customer.
        with _idempotency_key(f"customer-{user.pk}-{int(user.date_joined.timestamp())}") as key:
            customer = stripe.Customer.create(email=user.email, metadata={"user_id": str(user.pk)}, idempotency_key=key)
        StripeCustomer.objects.create(user=user, customer_id=customer.id)
        return customer.id


def has_live_subscription(user) -> bool:
    return Subscription.objects.filter(user=user, status__in=LIVE_STATUSES).exists()


def create_checkout_session(user, plan: Plan, *, success_url: str, cancel_url: str) -> Any:
    """A Checkout Session in subscription mode for this user and plan, payable
    for 30 minutes; the reader's other open sessions are expired, so two tabs
    cannot both be paid.

    A double click (or a reload of the POST) within the same ten-minute bucket
    sends the same parameters under the same idempotency key and gets the same
    session back instead of a second one."""
    customer = customer_for(user)
    # The free trial is for a reader's first subscription, not every re-subscribe.
    first_time = not Subscription.objects.filter(user=user).exclude(status=Subscription.Status.INCOMPLETE).exists()
    sub_data: dict[str, Any] = {"metadata": {"user_id": str(user.pk), "plan": plan.code}}
    if plan.trial_days and first_time:
        sub_data["trial_period_days"] = plan.trial_days
        # A trial that ends without a card ends the subscription (no free ride).
        sub_data["trial_settings"] = {"end_behavior": {"missing_payment_method": "cancel"}}
    bucket = int(time.time() // CHECKOUT_BUCKET_SECONDS)
    # The same for every click in the bucket, and at least 30 minutes away.
    expires_at = (bucket + 1) * CHECKOUT_BUCKET_SECONDS + CHECKOUT_LIFETIME_SECONDS
    with transaction.atomic():
        # One reader's Checkout starts one at a time (two tabs racing), so each
        # sees and expires the other's session.
        get_user_model().objects.select_for_update().only("pk").get(pk=user.pk)
        # Customer ids are unique across Stripe, so this key cannot collide between sites.
        with _idempotency_key(f"checkout-{customer}-{plan.stripe_price_id}-{int(first_time)}-{bucket}") as key:
            session = stripe.checkout.Session.create(
                mode="subscription",
                customer=customer,
                client_reference_id=str(user.pk),
                metadata={"user_id": str(user.pk), "plan": plan.code},
                line_items=[{"price": plan.stripe_price_id, "quantity": 1}],
                subscription_data=sub_data,
                success_url=success_url,
                cancel_url=cancel_url,
                expires_at=expires_at,
                idempotency_key=key,
            )
        for other in stripe.checkout.Session.list(customer=customer, status="open", limit=100).auto_paging_iter():
            if other.id != session.id:
                try:
                    stripe.checkout.Session.expire(other.id)
                except stripe.InvalidRequestError:
                    pass  # completed or expired meanwhile: fulfilment handles a second subscription
    return session


def retrieve_checkout_session(session_id: str) -> Any:
    _configure()
    return stripe.checkout.Session.retrieve(session_id).to_dict()


def portal_session(user, *, return_url: str) -> Any:
    _configure()
    customer = StripeCustomer.objects.filter(user=user).values_list("customer_id", flat=True).first()
    if not customer:
        return None
    return stripe.billing_portal.Session.create(customer=customer, return_url=return_url)


def retrieve_subscription(subscription_id: str) -> Any:
    _configure()
    # Plain dicts from here on: the rest of the code reads them with .get().
    return stripe.Subscription.retrieve(subscription_id).to_dict()


def all_subscriptions() -> Iterator[Any]:
    _configure()
    return (sub.to_dict() for sub in stripe.Subscription.list(status="all", limit=100).auto_paging_iter())


# --- Stripe state -> local rows ---------------------------------------------


def _ts(value: Any) -> datetime | None:
    return datetime.fromtimestamp(int(value), tz=UTC) if value else None


def _id(value: Any) -> str | None:
    """An expandable field: an id string or an object with an id."""
    if value is None or isinstance(value, str):
        return value
    return value.get("id")


def _first_item(stripe_sub: Any) -> dict:
    items = (stripe_sub.get("items") or {}).get("data") or []
    return items[0] if items else {}


def _price_id(stripe_sub: Any) -> str | None:
    item = _first_item(stripe_sub)
    # Newer API versions put the price on the item; older ones (and localstripe) a plan.
    return _id(item.get("price")) or _id(item.get("plan"))


def _period_end(stripe_sub: Any) -> datetime | None:
    # Since API 2025-03-31 the period lives on the item, before that on the subscription.
    return _ts(stripe_sub.get("current_period_end") or _first_item(stripe_sub).get("current_period_end"))


def sync_subscription(stripe_sub: Any, *, user=None, refetch: bool = True) -> Subscription | None:
    """Make the local row match Stripe's subscription. Idempotent; order-free.

    `stripe_sub` only says which subscription; with `refetch` (the default) the
    current object is fetched again while the local row is locked, so two
    concurrent syncs cannot write older data over newer. Subscriptions to
    prices that are not ours, or for customers we don't know, are ignored.
    The user is found by Stripe customer id (or given by the caller who
    verified it, e.g. Checkout's client_reference_id), never by email."""
    sub_id = stripe_sub["id"]
    plan = Plan.objects.filter(stripe_price_id=_price_id(stripe_sub)).first() if _price_id(stripe_sub) else None
    if plan is None:
        log.info("ignoring subscription %s: price %s is not ours", sub_id, _price_id(stripe_sub))
        return None
    customer_id = _id(stripe_sub.get("customer"))
    if user is None:
        sc = StripeCustomer.objects.filter(customer_id=customer_id).select_related("user").first()
        if sc is None:
            log.warning("ignoring subscription %s: unknown customer %s", sub_id, customer_id)
            return None
        user = sc.user

    with transaction.atomic():
        local, created = Subscription.objects.get_or_create(
            stripe_subscription_id=sub_id,
            defaults={"user": user, "plan": plan, "stripe_customer_id": customer_id or ""},
        )
        local = Subscription.objects.select_for_update().get(pk=local.pk)
        if refetch and not created:
            stripe_sub = retrieve_subscription(sub_id)
            plan = Plan.objects.filter(stripe_price_id=_price_id(stripe_sub)).first() or plan
        old_status = "" if created else local.status
        new_status = stripe_sub["status"]
        local.plan = plan
        local.stripe_customer_id = customer_id or local.stripe_customer_id
        local.status = new_status
        local.trial_end = _ts(stripe_sub.get("trial_end"))
        local.current_period_end = _period_end(stripe_sub)
        local.cancel_at_period_end = bool(stripe_sub.get("cancel_at_period_end") or stripe_sub.get("cancel_at"))
        local.canceled_at = _ts(stripe_sub.get("canceled_at"))
        if new_status == Subscription.Status.PAST_DUE:
            local.past_due_since = local.past_due_since or timezone.now()
        else:
            local.past_due_since = None
        local.stripe_synced_at = timezone.now()
        local.save()
        _record_transition(local, old_status, new_status)
    return local


def _record_transition(local: Subscription, old: str, new: str) -> None:
    """Counters and emails for status changes; each change is seen once because
    the row is locked and compared with what it was."""
    if old == new:
        return
    entitled = {Subscription.Status.TRIALING, Subscription.Status.ACTIVE}
    if new == Subscription.Status.TRIALING and old in ("", Subscription.Status.INCOMPLETE):
        stats.bump("trial_started")
    if new == Subscription.Status.ACTIVE and old == Subscription.Status.TRIALING:
        stats.bump("trial_converted")
    if new == Subscription.Status.ACTIVE and old in ("", Subscription.Status.INCOMPLETE):
        stats.bump("subscription_started")
    if new == Subscription.Status.CANCELED:
        stats.bump("subscription_canceled")
    if new in entitled and old in ("", Subscription.Status.INCOMPLETE):
        transaction.on_commit(lambda: emails.welcome(local))
