"""The only module that talks to Stripe.

Stripe is the source of truth for billing; this module creates Stripe objects
(products, prices, customers, Checkout and portal sessions) and fetches the
current state of subscriptions. Turning that state into local rows is
`sync_subscription`, used by the webhook, the success page and reconcile.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import stripe
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.mail import mail_admins
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import emails, stats
from .models import Plan, PlanPrice, StripeCustomer, Subscription, TrialClaim

log = logging.getLogger(__name__)

# A double click within this many seconds reuses the same Checkout Session.
CHECKOUT_REUSE_SECONDS = 60
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
def _attempt(purpose: str, *, seconds: int = IDEMPOTENCY_KEY_SECONDS, **fixed: Any) -> Iterator[dict[str, Any]]:
    """The idempotency key (and any `fixed` parameters) of one attempt at `purpose`.

    Repeating the same purpose within `seconds` (a double click, a crash
    before our commit) reuses the key and the fixed parameters, so Stripe
    answers with the first result instead of acting twice. But Stripe also
    keeps a 5xx answer for the key's 24 hours: after a server error or a
    network failure (the library's own retries, which reuse the key, have
    given up) the attempt is dropped, and the next one gets a fresh key
    instead of the stored error."""
    cache_key = f"stripe-attempt:{purpose}"
    attempt = cache.get(cache_key)
    if attempt is None:
        attempt = {"key": f"ledger-{purpose}-{secrets.token_hex(6)}", **fixed}
        cache.set(cache_key, attempt, seconds)
    try:
        yield attempt
    except (stripe.APIConnectionError, stripe.APIError):
        cache.delete(cache_key)
        raise


@contextmanager
def _idempotency_key(purpose: str) -> Iterator[str]:
    with _attempt(purpose) as attempt:
        yield attempt["key"]


# --- plans -----------------------------------------------------------------


def _lookup_key(plan: Plan) -> str:
    return f"ledger_{plan.code}"


def _price_terms(price: Any) -> tuple[int, str, str, int]:
    recurring = price.get("recurring") or {}
    return (price["unit_amount"], price["currency"], recurring.get("interval"), recurring.get("interval_count") or 1)


def _record_price(plan: Plan, price: Any) -> None:
    """Make `price` the plan's current one: remember it, archive the others locally."""
    amount, currency, interval, count = _price_terms(price)
    PlanPrice.objects.update_or_create(
        stripe_price_id=price["id"],
        defaults={"plan": plan, "amount_cents": amount, "currency": currency, "interval": interval,
                  "interval_count": count, "archived_at": None},
    )
    plan.prices.exclude(stripe_price_id=price["id"]).filter(archived_at=None).update(archived_at=timezone.now())
    plan.stripe_price_id = price["id"]
    plan.amount_cents, plan.currency, plan.interval, plan.interval_count = amount, currency, interval, count


def _ensure_product(plan: Plan, existing_price: Any | None) -> str:
    if not plan.stripe_product_id:
        if existing_price is not None:  # a restored database or a second site: adopt Stripe's product
            plan.stripe_product_id = _id(existing_price["product"])
        else:
            with _idempotency_key(f"product-{plan.code}") as key:
                product = stripe.Product.create(
                    name=f"{settings.SITE_NAME} {plan.name}", metadata={"plan_code": plan.code}, idempotency_key=key
                )
            plan.stripe_product_id = product.id
        plan.save(update_fields=["stripe_product_id"])
    return plan.stripe_product_id


def _create_price(plan: Plan, terms: tuple[int, str, str, int], *, transfer: bool) -> Any:
    amount, currency, interval, count = terms
    purpose = f"price-{plan.code}-{amount}-{currency}-{interval}-{count}-{plan.stripe_price_id or 'first'}"
    with _idempotency_key(purpose) as key:
        return stripe.Price.create(
            product=plan.stripe_product_id,
            unit_amount=amount,
            currency=currency,
            recurring={"interval": interval, "interval_count": count},
            lookup_key=_lookup_key(plan),
            # Moves the lookup key from the plan's previous price in the same call.
            transfer_lookup_key=transfer,
            metadata={"plan_code": plan.code},
            idempotency_key=key,
        ).to_dict()


def plan_change_price(plan: Plan, *, amount_cents: int, currency: str, interval: str, interval_count: int) -> None:
    """Sell `plan` at new terms. Stripe prices are immutable: this creates a new
    price (taking over the lookup key), archives the old one in Stripe — its
    subscribers keep billing at it, and it stays in the plan's price history so
    they keep mapping to the plan — and only then changes the plan's terms and
    current price id (saved by the caller). On a Stripe error nothing changes
    here, so the site goes on advertising what Checkout charges."""
    _configure()
    old = plan.stripe_price_id
    _ensure_product(plan, None)
    price = _create_price(plan, (amount_cents, currency, interval, interval_count), transfer=True)
    if old and old != price["id"]:
        stripe.Price.modify(old, active=False)
    _record_price(plan, price)


def sync_plans() -> list[str]:
    """Make Stripe sell every active plan at its terms. Safe twice, and on a
    second site or a restored database: a price already holding the plan's
    lookup key is adopted when its terms match, replaced when they don't."""
    _configure()
    done = []
    for plan in Plan.objects.filter(is_active=True):
        current = plan.prices.filter(stripe_price_id=plan.stripe_price_id).first() if plan.stripe_price_id else None
        if current is not None and current.terms() == plan.terms():
            continue
        found = stripe.Price.list(lookup_keys=[_lookup_key(plan)], limit=1).data
        existing = found[0].to_dict() if found else None
        with transaction.atomic():
            _ensure_product(plan, existing)
            if existing is not None and _price_terms(existing) == plan.terms() and existing.get("active", True):
                _record_price(plan, existing)
                done.append(f"found price {plan.code} {existing['id']}")
            else:
                terms = plan.terms()
                price = _create_price(plan, terms, transfer=existing is not None)
                old = [p for p in {plan.stripe_price_id, existing and existing["id"]} if p and p != price["id"]]
                for price_id in old:
                    stripe.Price.modify(price_id, active=False)
                _record_price(plan, price)
                done.append(f"created price {plan.code} {price['id']}")
            plan.save()
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
    return Subscription.objects.live().filter(user=user).exists()


def create_checkout_session(user, plan: Plan, *, success_url: str, cancel_url: str) -> Any:
    """A Checkout Session in subscription mode for this user and plan, payable
    for 30 minutes; the reader's other open sessions are expired, so two tabs
    cannot both be paid.

    A double click (or a reload of the POST) within a minute
    sends the same parameters under the same idempotency key and gets the same
    session back instead of a second one."""
    customer = customer_for(user)
    # The free trial is for a reader's first subscription, not every re-subscribe.
    first_time = not had_trial(user)
    sub_data: dict[str, Any] = {"metadata": {"user_id": str(user.pk), "plan": plan.code}}
    if plan.trial_days and first_time:
        sub_data["trial_period_days"] = plan.trial_days
        # A trial that ends without a card ends the subscription (no free ride).
        sub_data["trial_settings"] = {"end_behavior": {"missing_payment_method": "cancel"}}
    with transaction.atomic():
        # One reader's Checkout starts one at a time (two tabs racing, a double
        # click), so each sees the other's attempt and session.
        get_user_model().objects.select_for_update().only("pk").get(pk=user.pk)
        # Customer ids are unique across Stripe, so this key cannot collide between sites.
        purpose = f"checkout-{customer}-{plan.stripe_price_id}-{int(first_time)}"
        # Stripe refuses less than 30 minutes from its own clock: a minute's
        # margin for the request's way there and for clock skew.
        expires_at = int(time.time()) + CHECKOUT_LIFETIME_SECONDS + 60
        with _attempt(purpose, seconds=CHECKOUT_REUSE_SECONDS, expires_at=expires_at) as attempt:
            session = stripe.checkout.Session.create(
                mode="subscription",
                customer=customer,
                client_reference_id=str(user.pk),
                metadata={"user_id": str(user.pk), "plan": plan.code},
                line_items=[{"price": plan.stripe_price_id, "quantity": 1}],
                subscription_data=sub_data,
                success_url=success_url,
                cancel_url=cancel_url,
                expires_at=attempt["expires_at"],
                idempotency_key=attempt["key"],
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


def all_customers() -> Iterator[Any]:
    """Every customer of the Stripe account, a page of 100 at a time (stripe_adopt matches them by email)."""
    _configure()
    return (customer.to_dict() for customer in stripe.Customer.list(limit=100).auto_paging_iter())


def site_id() -> str:
    """This site's name in a subscription's metadata `site` (STRIPE_SITE_ID, else SITE_URL's host):
    a Stripe account shared by several sites holds subscriptions that are not ours to adopt."""
    return settings.STRIPE_SITE_ID or urlsplit(settings.SITE_URL).hostname or ""


def subscription_site(stripe_sub: Any) -> str:
    """The site a subscription's metadata says it belongs to ("" when it does not say)."""
    return str((stripe_sub.get("metadata") or {}).get("site") or "")


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


def _plan_for_price(price_id: str | None) -> Plan | None:
    """The plan a Stripe price belongs to, current or any earlier price of it."""
    if not price_id:
        return None
    return (
        Plan.objects.filter(prices__stripe_price_id=price_id).first()
        or Plan.objects.filter(stripe_price_id=price_id).first()
    )


def sync_subscription(stripe_sub: Any, *, user=None, refetch: bool = True) -> Subscription | None:
    """Make the local row match Stripe's subscription. Idempotent; order-free.

    `stripe_sub` only says which subscription; with `refetch` (the default) the
    current object is fetched again while the local row is locked, so two
    concurrent syncs cannot write older data over newer. New subscriptions to
    prices that are not ours, or for customers we don't know, are ignored; a
    subscription we already mirror is kept up to date even when its price is
    unknown to us (changed in Stripe's dashboard), and staff are told.
    The user is found by Stripe customer id (or given by the caller who
    verified it, e.g. Checkout's client_reference_id), never by email.

    A reader's second live subscription (two tabs both paid) is cancelled and
    its charge refunded or voided; a trial the reader's card or email already
    had is ended at once. Either way the reader is told by email."""
    sub_id = stripe_sub["id"]
    price_id = _price_id(stripe_sub)
    plan = _plan_for_price(price_id)
    known = Subscription.objects.filter(stripe_subscription_id=sub_id).exists()
    if plan is None and not known:
        log.info("ignoring subscription %s: price %s is not ours", sub_id, price_id)
        if user is not None or StripeCustomer.objects.filter(customer_id=_id(stripe_sub.get("customer"))).exists():
            _tell_staff_unknown_price(sub_id, price_id)
        return None
    customer_id = _id(stripe_sub.get("customer"))
    if user is None:
        sc = StripeCustomer.objects.filter(customer_id=customer_id).select_related("user").first()
        if sc is None and not known:
            log.warning("ignoring subscription %s: unknown customer %s", sub_id, customer_id)
            return None
        user = sc.user if sc else None

    with transaction.atomic():
        if user is not None:
            # One reader's subscriptions are written one at a time, so two
            # arriving together (two tabs) see each other.
            get_user_model().objects.select_for_update().only("pk").get(pk=user.pk)
        local, created = Subscription.objects.get_or_create(
            stripe_subscription_id=sub_id,
            defaults={"user": user, "plan": plan, "stripe_customer_id": customer_id or ""},
        )
        local = Subscription.objects.select_for_update().get(pk=local.pk)
        if refetch and not created:
            stripe_sub = retrieve_subscription(sub_id)
            price_id = _price_id(stripe_sub)
            plan = _plan_for_price(price_id)
        if created and local.user_id and stripe_sub["status"] in Subscription.LIVE_STATUSES:
            stripe_sub = _refuse_duplicate(local, stripe_sub) or _end_repeated_trial(local, stripe_sub)
        if plan is None and local.stripe_price_id != price_id:
            # Status, dates and cancellation still follow Stripe; the plan stays what it was.
            # Told when the price changes to one no plan has had, not on every later event: a
            # subscription adopted on the old site's price (adopt_subscription) is expected there.
            transaction.on_commit(lambda: _tell_staff_unknown_price(sub_id, price_id))
        old_status = "" if created else local.status
        new_status = stripe_sub["status"]
        local.plan = plan or local.plan
        _record_price_paid(local, stripe_sub)
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
        local.save()
        _record_transition(local, old_status, new_status)
    return local


def _record_price_paid(local: Subscription, stripe_sub: Any) -> None:
    """The price the subscription bills at, our plan's or not: what the admin and the export show."""
    item = _first_item(stripe_sub)
    price = item.get("price") or item.get("plan")
    local.stripe_price_id = _price_id(stripe_sub) or local.stripe_price_id
    if isinstance(price, dict):
        recurring = price.get("recurring") or {}
        local.amount_cents = price.get("unit_amount", price.get("amount"))
        local.currency = price.get("currency") or ""
        local.interval = recurring.get("interval") or price.get("interval") or ""
        local.interval_count = recurring.get("interval_count") or price.get("interval_count") or 1


def adopt_subscription(stripe_sub: Any, *, user) -> Subscription:
    """Take on a subscription Stripe already bills for `user` (made by the site the newsroom
    moved from), recorded as a webhook records one: by sync_subscription, under its locks.

    The row starts at the status Stripe has, so adopting is no transition (no welcome
    email, no "subscription started" on the dashboard) and never a duplicate to refund:
    the reader has been paying all along. A price none of our plans has had is kept (plan
    None, the price and amount recorded); later webhooks keep it in step like any other.
    The reader's customer is linked when they have none yet, so those webhooks find them."""
    customer_id = _id(stripe_sub.get("customer")) or ""
    with transaction.atomic():
        get_user_model().objects.select_for_update().only("pk").get(pk=user.pk)
        linked = StripeCustomer.objects.filter(Q(user=user) | Q(customer_id=customer_id)).exists()
        if customer_id and not linked:
            StripeCustomer.objects.create(user=user, customer_id=customer_id)
        Subscription.objects.get_or_create(
            stripe_subscription_id=stripe_sub["id"],
            defaults={"user": user, "stripe_customer_id": customer_id, "status": stripe_sub["status"],
                      "stripe_price_id": _price_id(stripe_sub) or ""},
        )
        local = sync_subscription(stripe_sub, user=user, refetch=False)
    assert local is not None  # the row exists, so sync never ignores it
    return local


def _tell_staff_unknown_price(sub_id: str, price_id: str | None) -> None:
    if not cache.add(f"stripe-unknown-price:{sub_id}:{price_id}", 1, 24 * 3600):
        return  # told already today; every event of that subscription would repeat it
    log.error("Stripe subscription %s is on price %s, which no plan has had", sub_id, price_id)
    mail_admins(
        f"Stripe subscription {sub_id} is on an unknown price",
        f"Subscription {sub_id} in Stripe is on price {price_id}, which none of the site's plans has ever had.\n"
        "Its status and dates are kept in step; its plan is left as it was. If the price was made in the Stripe "
        "dashboard, change the plan in the site's admin instead (Subscriptions → Plans), which creates the price "
        "in Stripe and keeps the history.",
        fail_silently=True,
    )


def _refuse_duplicate(local: Subscription, stripe_sub: Any) -> Any | None:
    """A reader's second live subscription: cancel it in Stripe, refund or void
    what it charged, and tell the reader. The first one stays."""
    first = (
        Subscription.objects.live().filter(user_id=local.user_id)
        .exclude(pk=local.pk)
        .order_by("created_at")
        .first()
    )
    if first is None:
        return None
    sub_id = stripe_sub["id"]
    log.warning("user %s has subscription %s; cancelling duplicate %s", local.user_id, first.stripe_subscription_id,
                sub_id)
    # Money first, then the cancellation: a retry after a failure in between
    # still finds the subscription live and finishes the job.
    invoice_id = _id(stripe_sub.get("latest_invoice"))
    if invoice_id:
        invoice = stripe.Invoice.retrieve(invoice_id, expand=["payments"]).to_dict()
        if invoice["status"] in ("open", "draft"):
            stripe.Invoice.void_invoice(invoice_id)
        elif invoice["status"] == "paid" and invoice.get("amount_paid"):
            for payment in (invoice.get("payments") or {}).get("data", []):
                intent = _id((payment.get("payment") or {}).get("payment_intent"))
                if intent:
                    _refund(intent)
    try:
        canceled = stripe.Subscription.cancel(sub_id).to_dict()
    except stripe.InvalidRequestError:
        # Already cancelled by an earlier attempt whose transaction rolled back.
        canceled = retrieve_subscription(sub_id)
        if canceled["status"] != Subscription.Status.CANCELED:
            raise
    transaction.on_commit(lambda: emails.duplicate_canceled(local))
    return canceled


def _refund(payment_intent: str) -> None:
    try:
        with _idempotency_key(f"refund-{payment_intent}") as key:
            stripe.Refund.create(payment_intent=payment_intent, idempotency_key=key)
    except stripe.InvalidRequestError:
        # Refunded by an earlier attempt (whose key we no longer have): nothing left to give back.
        log.warning("refund of %s refused; already refunded?", payment_intent, exc_info=True)


def _digest(value: str) -> str:
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()


def _end_repeated_trial(local: Subscription, stripe_sub: Any) -> Any:
    """One free trial per person: a trial whose card (fingerprint) or email
    already had one ends now — Stripe invoices at once — and the reader is told.
    Otherwise the card and email are recorded as having had their trial."""
    if stripe_sub["status"] != Subscription.Status.TRIALING:
        return stripe_sub
    sub_id = stripe_sub["id"]
    claims = [(TrialClaim.Kind.EMAIL, _digest(local.user.email))] if local.user and local.user.email else []
    pm_id = _id(stripe_sub.get("default_payment_method"))
    if pm_id:
        card = stripe.PaymentMethod.retrieve(pm_id).to_dict().get("card") or {}
        if card.get("fingerprint"):
            claims.append((TrialClaim.Kind.CARD, _digest(card["fingerprint"])))
    had_one = any(
        TrialClaim.objects.filter(kind=kind, digest=digest).exclude(stripe_subscription_id=sub_id).exists()
        for kind, digest in claims
    )
    if had_one:
        with _idempotency_key(f"end-trial-{sub_id}") as key:
            ended = stripe.Subscription.modify(sub_id, trial_end="now", idempotency_key=key).to_dict()
        transaction.on_commit(lambda: emails.trial_refused(local))
        return ended
    for kind, digest in claims:
        TrialClaim.objects.get_or_create(kind=kind, digest=digest, defaults={"stripe_subscription_id": sub_id})
    return stripe_sub


def had_trial(user) -> bool:
    """Has this reader (by any account with their email, deleted ones included) had a free trial?"""
    if Subscription.objects.filter(user=user).exclude(status=Subscription.Status.INCOMPLETE).exists():
        return True
    return bool(user.email) and TrialClaim.objects.filter(kind=TrialClaim.Kind.EMAIL,
                                                          digest=_digest(user.email)).exists()


def balance_summary(since: datetime) -> dict[str, int]:
    """Money Stripe moved since `since`, from its balance transactions: what
    readers paid (less refunds), Stripe's fees, and what reaches the bank."""
    _configure()
    totals = {"gross": 0, "fees": 0, "net": 0}
    for obj in stripe.BalanceTransaction.list(created={"gte": int(since.timestamp())}, limit=100).auto_paging_iter():
        txn = obj.to_dict()
        if txn["type"] in ("charge", "payment", "refund", "payment_refund"):
            totals["gross"] += txn["amount"]
            totals["fees"] += txn["fee"]
            totals["net"] += txn["net"]
    return totals


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
