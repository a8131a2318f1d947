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

from newsroom import versioned_cache

from . import emails, experiments, signals, stats
from .models import Plan, PlanPrice, StripeCustomer, Subscription, TrialClaim, trial_used

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


def _attempt_key(purpose: str) -> str:
    """Where the attempt at `purpose` is kept: the same under every release, so a double
    click that spans a deploy's two releases still reuses one idempotency key. Both read
    the attempt (a dict of strings and numbers): a release that changes its fields names
    this key anew."""
    return versioned_cache.every_release(f"stripe-attempt:{purpose}")


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
    cache_key = _attempt_key(purpose)
    attempt = cache.get(cache_key)
    if attempt is None:
        attempt = {"key": f"ledger-{purpose}-{secrets.token_hex(6)}", **fixed}
        cache.set(cache_key, attempt, seconds)
    try:
        yield attempt
    except (stripe.APIConnectionError, stripe.APIError):
        cache.delete(cache_key)
        raise


def _reuse_only_an_open_session(purpose: str) -> None:
    """Forget the attempt at a Checkout `purpose` whose session is no longer open, so the
    next attempt gets a new key (a new session) instead of Stripe's stored answer: a reader
    switching weekly -> annual -> weekly within the minute had their first weekly session
    expired by the annual one, and was sent back to it."""
    cache_key = _attempt_key(purpose)
    attempt = cache.get(cache_key)
    if attempt and attempt.get("session") and \
            stripe.checkout.Session.retrieve(attempt["session"]).to_dict().get("status") != "open":
        cache.delete(cache_key)


def _remember_session(purpose: str, session_id: str) -> None:
    """Note which session an attempt at `purpose` made (see _reuse_only_an_open_session)."""
    cache_key = _attempt_key(purpose)
    attempt = cache.get(cache_key)
    if attempt is not None and attempt.get("session") != session_id:
        cache.set(cache_key, {**attempt, "session": session_id}, CHECKOUT_REUSE_SECONDS)


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
                    name=f"{settings.SITE_NAME} {plan.name}", metadata={"plan_code": plan.code, "site": site_id()},
                    idempotency_key=key,
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
            metadata={"plan_code": plan.code, "site": site_id()},
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
        sold = stripe.Price.retrieve(plan.stripe_price_id).to_dict() if current is not None else None
        if sold is not None and current.terms() == plan.terms() and sold.get("active", True) \
                and sold.get("lookup_key") == _lookup_key(plan):
            continue
        found = stripe.Price.list(lookup_keys=[_lookup_key(plan)], limit=1).data
        existing = found[0].to_dict() if found else None
        with transaction.atomic():
            _ensure_product(plan, existing)
            if existing is not None and _price_terms(existing) == plan.terms() and existing.get("active", True):
                _record_price(plan, existing)
                done.append(f"found price {plan.code} {existing['id']}")
            elif sold is not None and _price_terms(sold) == plan.terms():
                # Archived in Stripe's dashboard, or left without its lookup key by a change that
                # never reached the plan: sell it again rather than make another at the same terms.
                stripe.Price.modify(sold["id"], active=True, lookup_key=_lookup_key(plan), transfer_lookup_key=True)
                if existing is not None and existing["id"] != sold["id"]:
                    stripe.Price.modify(existing["id"], active=False)
                _record_price(plan, {**sold, "active": True})
                done.append(f"reactivated price {plan.code} {sold['id']}")
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


def customer_for(user, *, replacing: str = "") -> str:
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
        # A customer deleted in Stripe is replaced under a key of its own: the first key's
        # answer (kept by Stripe for a day) is the deleted customer.
        purpose = f"customer-{user.pk}-{int(user.date_joined.timestamp())}"
        purpose += f"-after-{replacing}" if replacing else ""
        with _idempotency_key(purpose) as key:
            customer = stripe.Customer.create(
                email=user.email, metadata={"user_id": str(user.pk), "site": site_id()}, idempotency_key=key
            )
        StripeCustomer.objects.create(user=user, customer_id=customer.id)
        return customer.id


def customer_email_update(*, user) -> bool:
    """Give the reader's Stripe customer their current email (after they changed it here), so
    receipts and failed-payment emails from Stripe reach them. Returns False when Stripe could
    not be told now (down, refusing): nothing is lost, the address lives in our database and
    `customers_email_reconcile` (run by stripe_reconcile) sends it later."""
    if not is_configured() or not user.email:
        return False
    customer = StripeCustomer.objects.filter(user_id=user.pk).values_list("customer_id", flat=True).first()
    if not customer:
        return False
    _configure()
    try:
        stripe.Customer.modify(customer, email=user.email)
    except stripe.StripeError:
        log.warning("could not give Stripe customer %s the new email of user %s; stripe_reconcile will retry",
                    customer, user.pk, exc_info=True)
        return False
    return True


def customers_email_reconcile() -> int:
    """Every customer of ours whose email in Stripe is not the reader's current one gets it
    (a change Stripe missed while down, or made in the admin). Reads the customer list a page
    of 100 at a time; returns how many were corrected."""
    links = dict(StripeCustomer.objects.exclude(user__email="").values_list("customer_id", "user__email"))
    fixed = 0
    for customer in all_customers():
        email = links.get(customer["id"])
        if email and not customer.get("deleted") and customer.get("email") != email:
            try:
                stripe.Customer.modify(customer["id"], email=email)
            except stripe.InvalidRequestError:  # one customer Stripe refuses does not stop the others
                log.warning("Stripe refused the email of customer %s", customer["id"], exc_info=True)
                continue
            fixed += 1
    return fixed


def customer_forget(*, customer_id: str, why: str) -> int:
    """Stripe no longer has this customer (deleted): unlink it, so the reader's next
    Checkout makes a new one. Their subscriptions ended with it (Stripe cancels them).
    Returns how many links were removed."""
    links = list(StripeCustomer.objects.filter(customer_id=customer_id).values_list("user_id", flat=True))
    removed, _ = StripeCustomer.objects.filter(customer_id=customer_id).delete()
    if removed:
        log.warning("Stripe customer %s of user(s) %s is gone (%s): unlinked", customer_id, links, why)
        transaction.on_commit(lambda: mail_admins(
            f"Stripe customer {customer_id} was deleted",
            f"Stripe customer {customer_id} (user {', '.join(map(str, links))}) no longer exists in Stripe ({why}). "
            "The site has forgotten it; the reader gets a new customer at their next Checkout. Their subscriptions "
            "ended with the customer; payments made by it stay in Stripe's records.",
            fail_silently=True,
        ))
    return removed


def _no_such_customer(exc: stripe.InvalidRequestError) -> bool:
    return exc.code == "resource_missing" or "No such customer" in str(exc.user_message or exc)


def has_live_subscription(user) -> bool:
    return Subscription.objects.live().filter(user=user).exists()


def create_checkout_session(user, plan: Plan, *, success_url: str, cancel_url: str, offer: Any = None) -> Any:
    """A Checkout Session in subscription mode for this user and plan, payable
    for 30 minutes; the reader's other open sessions are expired, so two tabs
    cannot both be paid.

    A double click (or a reload of the POST) within a minute
    sends the same parameters under the same idempotency key and gets the same
    session back instead of a second one. A customer Stripe no longer has
    (deleted, and its webhook lost) is forgotten and replaced, once, and staff are told.
    An `offer` (growth.models.Offer) applies its promotion code, or gives its longer trial."""
    try:
        return _create_checkout_session(user, plan, success_url=success_url, cancel_url=cancel_url, offer=offer)
    except stripe.InvalidRequestError as exc:
        if exc.param != "customer" and not _no_such_customer(exc):
            raise
        customer = StripeCustomer.objects.filter(user=user).values_list("customer_id", flat=True).first()
        if not customer:
            raise
        log.warning("Checkout for user %s: Stripe has no customer %s (%s); making a new one", user.pk, customer, exc)
        with transaction.atomic():
            customer_forget(customer_id=customer, why="Checkout was refused: No such customer")
        customer_for(user, replacing=customer)
        return _create_checkout_session(user, plan, success_url=success_url, cancel_url=cancel_url, offer=offer)


def _create_checkout_session(user, plan: Plan, *, success_url: str, cancel_url: str, offer: Any = None) -> Any:
    customer = customer_for(user)
    # The free trial is for a reader's first subscription, not every re-subscribe.
    first_time = not had_trial(user)
    sub_data: dict[str, Any] = {"metadata": {"user_id": str(user.pk), "plan": plan.code, "site": site_id()}}
    # The trial the reader was offered: the plan's, or the paywall terms' (an experiment arm's).
    trial_days = experiments.trial_days_for(user, plan)
    # An offer: its promotion code (Stripe checks it again), or its longer trial. Without one,
    # readers may type a code at Checkout when the setting allows (Stripe refuses both at once).
    offered: dict[str, Any] = {}
    metadata = {"user_id": str(user.pk), "plan": plan.code, "site": site_id()}
    if offer is not None:
        metadata["offer"] = offer.code
        if offer.is_discount:
            offered["discounts"] = [{"promotion_code": offer.stripe_promotion_code_id}]
            # No trial under a discount: Stripe would spend a "first period" discount on the trial's
            # $0 invoice, and the offer page promises the first payment discounted.
            trial_days = 0
        else:
            trial_days = offer.trial_days
    elif settings.CHECKOUT_ALLOW_PROMOTION_CODES:
        offered["allow_promotion_codes"] = True
    if trial_days and first_time:
        sub_data["trial_period_days"] = trial_days
        # A trial that ends without a card ends the subscription (no free ride).
        sub_data["trial_settings"] = {"end_behavior": {"missing_payment_method": "cancel"}}
    with transaction.atomic():
        # One reader's Checkout starts one at a time (two tabs racing, a double
        # click), so each sees the other's attempt and session.
        get_user_model().objects.select_for_update().only("pk").get(pk=user.pk)
        # Customer ids are unique across Stripe, so this key cannot collide between sites.
        purpose = f"checkout-{customer}-{plan.stripe_price_id}-{int(first_time)}"
        purpose += f"-{offer.code}-{offer.stripe_promotion_code_id}-{trial_days}" if offer is not None else ""
        purpose += "-codes" if "allow_promotion_codes" in offered else ""
        # Any other parameter that differs (a trial, the way back) is another attempt: a key is
        # never sent again with other parameters, which Stripe refuses.
        purpose += "-" + hashlib.sha256(repr((sub_data, success_url, cancel_url)).encode()).hexdigest()[:12]
        _reuse_only_an_open_session(purpose)
        # Stripe refuses less than 30 minutes from its own clock: a minute's
        # margin for the request's way there and for clock skew.
        expires_at = int(time.time()) + CHECKOUT_LIFETIME_SECONDS + 60
        with _attempt(purpose, seconds=CHECKOUT_REUSE_SECONDS, expires_at=expires_at) as attempt:
            session = stripe.checkout.Session.create(
                mode="subscription",
                customer=customer,
                client_reference_id=str(user.pk),
                metadata=metadata,
                line_items=[{"price": plan.stripe_price_id, "quantity": 1}],
                subscription_data=sub_data,
                success_url=success_url,
                cancel_url=cancel_url,
                expires_at=attempt["expires_at"],
                idempotency_key=attempt["key"],
                **offered,
            )
        _remember_session(purpose, session.id)
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
    return stripe.billing_portal.Session.create(customer=customer, return_url=return_url,
                                                configuration=portal_configuration())


# What a reader may do in the Billing Portal: see their invoices (receipts), change their card,
# and cancel at the period end (access lasts until then; webhooks follow cancel_at_period_end).
PORTAL_FEATURES = {
    "invoice_history": {"enabled": True},
    "payment_method_update": {"enabled": True},
    "subscription_cancel": {"enabled": True, "mode": "at_period_end"},
}


def portal_configuration() -> str:
    """The id of this site's Billing Portal configuration, made the first time and found again
    by its metadata. Without one, Stripe refuses every portal session until someone saves the
    portal settings in the dashboard ("your test mode default configuration has not been
    created"); with ours, the portal works on a fresh account and its features are in code."""
    _configure()
    mark = {"made_by": "ledger", "site": site_id()}
    for conf in stripe.billing_portal.Configuration.list(active=True, limit=100).auto_paging_iter():
        metadata = conf.to_dict().get("metadata") or {}
        if all(metadata.get(k) == v for k, v in mark.items()):
            return conf.id
    # Two first visits at once may each make one: identical, and either serves.
    return stripe.billing_portal.Configuration.create(features=PORTAL_FEATURES, metadata=mark).id


def retrieve_subscription(subscription_id: str) -> Any:
    _configure()
    # Plain dicts from here on: the rest of the code reads them with .get().
    return stripe.Subscription.retrieve(subscription_id).to_dict()


def all_subscriptions() -> Iterator[Any]:
    _configure()
    return (sub.to_dict() for sub in stripe.Subscription.list(status="all", limit=100).auto_paging_iter())


def subscription_reconcile(listed: Any) -> Subscription | None:
    """Correct one subscription from a list page (`stripe_reconcile`). A list page is read
    before the objects on it are written, and a webhook may have changed one since: the
    listed object only names the subscription. One we mirror is fetched again while its row
    is locked (sync_subscription's refetch, the webhooks' own lock), so a stale page cannot
    turn `canceled` back into `active`; one we do not mirror yet is fetched first."""
    if Subscription.objects.filter(stripe_subscription_id=listed["id"]).exists():
        return sync_subscription(listed)
    return sync_subscription(retrieve_subscription(listed["id"]))


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


def sync_subscription(
    stripe_sub: Any, *, user=None, refetch: bool = True, ended_by_site: str = ""
) -> Subscription | None:
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
    had is ended at once. Either way the reader is told by email. That check runs
    whenever a subscription becomes live here, so one that starts incomplete and is
    paid later is caught too.

    A subscription whose metadata names another site (a Stripe account shared with
    staging, or with another newsroom) is not ours, and is ignored. `ended_by_site`
    records why the site itself cancelled it (churn leaves duplicates and replacements out).
    The grace of a past-due subscription runs from Stripe's own moment (its latest
    invoice's finalization), not from when a webhook happened to reach us."""
    sub_id = stripe_sub["id"]
    owner = subscription_site(stripe_sub)
    if owner and owner != site_id() and not Subscription.objects.filter(stripe_subscription_id=sub_id).exists():
        log.info("ignoring subscription %s: its metadata names the site %r, not ours (%r)", sub_id, owner, site_id())
        return None
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
        was_live = not created and local.status in Subscription.LIVE_STATUSES
        if not was_live and local.user_id and stripe_sub["status"] in Subscription.LIVE_STATUSES:
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
        local.collection_paused = bool(stripe_sub.get("pause_collection"))
        local.has_paid = local.has_paid or new_status == Subscription.Status.ACTIVE or (
            created and _billed_before_it_ended(stripe_sub))
        if ended_by_site and new_status in Subscription.ENDED_STATUSES and not local.ended_by_site:
            local.ended_by_site = ended_by_site
        if new_status == Subscription.Status.PAST_DUE:
            local.past_due_since = local.past_due_since or _failed_since(stripe_sub) or timezone.now()
        else:
            local.past_due_since = None
        local.save()
        _record_transition(local, old_status, new_status)
    return local


def _billed_before_it_ended(stripe_sub: Any) -> bool:
    """A subscription first seen already ended (events out of order, reconcile): had it got past
    its trial, so that Stripe billed it? (Seen live, `has_paid` follows its active status.)"""
    if stripe_sub["status"] not in (Subscription.Status.CANCELED, Subscription.Status.UNPAID):
        return False
    trial_end, ended = stripe_sub.get("trial_end"), stripe_sub.get("canceled_at") or stripe_sub.get("ended_at")
    return not trial_end or bool(ended and trial_end < ended)


def _failed_since(stripe_sub: Any) -> datetime | None:
    """When the payment that made the subscription past due was first asked for: its latest
    invoice's finalization (Stripe's clock, whatever our webhooks missed)."""
    invoice = stripe_sub.get("latest_invoice")
    if isinstance(invoice, str):
        invoice = stripe.Invoice.retrieve(invoice).to_dict()
    if not invoice:
        return None
    moments = invoice.get("status_transitions") or {}
    return _ts(moments.get("finalized_at") or invoice.get("created"))


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
    # Every release's: during a deploy, both releases' webhooks would otherwise tell staff once each.
    if not cache.add(versioned_cache.every_release(f"stripe-unknown-price:{sub_id}:{price_id}"), 1, 24 * 3600):
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
    local.ended_by_site = Subscription.EndedBySite.DUPLICATE
    log.warning("user %s has subscription %s; cancelling duplicate %s", local.user_id, first.stripe_subscription_id,
                sub_id)
    # Money first, then the cancellation: a retry after a failure in between
    # still finds the subscription live and finishes the job.
    invoice_id = _id(stripe_sub.get("latest_invoice"))
    if invoice_id:
        invoice = stripe.Invoice.retrieve(invoice_id, expand=["payments"]).to_dict()
        if invoice["status"] == "draft":
            # Stripe voids only finalized invoices (open or uncollectible); a draft is deleted.
            stripe.Invoice.delete(invoice_id)
        elif invoice["status"] in ("open", "uncollectible"):
            stripe.Invoice.void_invoice(invoice_id)
        elif invoice["status"] == "paid" and invoice.get("amount_paid"):
            for payment in (invoice.get("payments") or {}).get("data", []):
                intent = _id((payment.get("payment") or {}).get("payment_intent"))
                if intent:
                    _refund(intent)
    canceled = _cancel(sub_id)
    transaction.on_commit(lambda: emails.duplicate_canceled(local))
    return canceled


def _cancel(sub_id: str) -> Any:
    """Cancel a subscription in Stripe now; one already cancelled (an earlier attempt
    whose transaction rolled back, a redelivery) is simply fetched."""
    try:
        return stripe.Subscription.cancel(sub_id).to_dict()
    except stripe.InvalidRequestError:
        canceled = retrieve_subscription(sub_id)
        if canceled["status"] not in Subscription.ENDED_STATUSES:
            raise
        return canceled


# --- money coming back: refunds and disputes ----------------------------------------------


def _subscription_id_of(invoice: Any) -> str | None:
    # API >= 2025-03-31 names it under parent.subscription_details.
    details = (invoice.get("parent") or {}).get("subscription_details") or {}
    return _id(invoice.get("subscription") or details.get("subscription"))


def _is_ours(stripe_sub: Any) -> bool:
    """Made by this site: mirrored here, or of a customer of ours, and named for no other site."""
    owner = subscription_site(stripe_sub)
    if owner and owner != site_id():
        return False
    return Subscription.objects.filter(stripe_subscription_id=stripe_sub["id"]).exists() or \
        StripeCustomer.objects.filter(customer_id=_id(stripe_sub.get("customer"))).exists()


def payment_reversed(*, charge_id: str, reason: str) -> Subscription | None:
    """A charge was refunded or disputed (`reason` is Subscription.EndedBySite.REFUND or DISPUTE).

    What it does to access, decided once here: any dispute, or a full refund of the
    subscription's latest invoice, ends the subscription in Stripe at once — the card is
    not charged again (a disputed card would be) and the reader stops reading. A partial
    refund, or a refund of an older period, changes nothing but the figures (which come
    from Stripe's balance transactions). Charges of no subscription of ours are left alone.
    Everything is read from Stripe's current objects, so redeliveries and order do not matter."""
    charge = stripe.Charge.retrieve(charge_id).to_dict()
    intent = _id(charge.get("payment_intent"))
    if not intent:
        return None
    pays = stripe.InvoicePayment.list(payment={"type": "payment_intent", "payment_intent": intent}, limit=1).data
    if not pays:
        log.info("%s of charge %s: no invoice, no subscription", reason, charge_id)
        return None
    invoice = stripe.Invoice.retrieve(_id(pays[0].to_dict()["invoice"])).to_dict()
    sub_id = _subscription_id_of(invoice)
    if not sub_id:
        return None
    stripe_sub = retrieve_subscription(sub_id)
    if not _is_ours(stripe_sub):
        log.info("%s of charge %s: subscription %s is not ours", reason, charge_id, sub_id)
        return None
    ends = reason == Subscription.EndedBySite.DISPUTE or (
        charge.get("refunded") and invoice["id"] == _id(stripe_sub.get("latest_invoice")))
    if ends and stripe_sub["status"] not in Subscription.ENDED_STATUSES:
        log.warning("%s of charge %s: cancelling subscription %s", reason, charge_id, sub_id)
        stripe_sub = _cancel(sub_id)
    return sync_subscription(stripe_sub, refetch=False, ended_by_site=reason if ends else "")


def dispute_charge(dispute_id: str) -> str:
    """The charge a dispute is about, from Stripe's current dispute."""
    _configure()
    return _id(stripe.Dispute.retrieve(dispute_id).to_dict()["charge"])


def customer_exists(customer_id: str) -> bool:
    """Does Stripe still have this customer (not deleted)?"""
    _configure()
    try:
        return not stripe.Customer.retrieve(customer_id).to_dict().get("deleted")
    except stripe.InvalidRequestError as exc:
        if _no_such_customer(exc):
            return False
        raise


def customer_deleted(customer_id: str) -> int:
    """customer.deleted: forget our link when Stripe confirms the customer is gone."""
    if customer_exists(customer_id):
        return 0  # a stale event: the customer still exists
    return customer_forget(customer_id=customer_id, why="customer.deleted")


def invoice_waiting_for_holder(invoice_id: str) -> str:
    """The hosted page where the card holder authenticates this invoice's payment, when its
    payment waits for them (a renewal under strong customer authentication); else ""."""
    _configure()
    try:
        invoice = stripe.Invoice.retrieve(invoice_id).to_dict()
    except stripe.InvalidRequestError as exc:
        if exc.code != "resource_missing":
            raise
        return ""  # an event naming an invoice Stripe does not know: at worst the generic email
    if invoice.get("status") != "open" or not invoice.get("hosted_invoice_url"):
        return ""
    for payment in (p.to_dict() for p in stripe.InvoicePayment.list(invoice=invoice_id, limit=10).data):
        intent = _id((payment.get("payment") or {}).get("payment_intent"))
        if intent and stripe.PaymentIntent.retrieve(intent).to_dict().get("status") == "requires_action":
            return invoice["hosted_invoice_url"]
    return ""


def payment_waiting_url(local: Subscription) -> str:
    """The hosted invoice page where the reader confirms their subscription's latest payment
    with their bank (3-D Secure), when it waits for them; else "". For the account page, so
    a reader who must confirm is not told to update a card that works. Cached a few minutes:
    it costs Stripe calls, and a confirmed payment makes the subscription active (not asked)."""
    if local.status != Subscription.Status.PAST_DUE or not local.stripe_subscription_id:
        return ""
    key = f"stripe-payment-waiting:{local.stripe_subscription_id}"
    url = cache.get(key)
    if url is None:
        try:
            invoice_id = _id(retrieve_subscription(local.stripe_subscription_id).get("latest_invoice"))
            url = invoice_waiting_for_holder(invoice_id) if invoice_id else ""
        except stripe.StripeError:
            log.warning("could not ask Stripe whether subscription %s waits for its reader",
                        local.stripe_subscription_id, exc_info=True)
            return ""
        cache.set(key, url, 300)
    return url


def subscriptions_replace_unpayable(user) -> int:
    """Before a reader who wants to pay again goes to Checkout: end their subscriptions
    that cannot give access and bill nothing on their own — paused (a trial ended with no
    card), unpaid (every retry failed) or with collection paused — so paying leaves one
    subscription. Stripe is asked first; local state may be behind. Returns how many ended."""
    _configure()
    ended = 0
    stuck = Subscription.objects.live().filter(user=user).filter(
        Q(status__in=(Subscription.Status.PAUSED, Subscription.Status.UNPAID)) | Q(collection_paused=True)
    )
    for local in stuck.exclude(stripe_subscription_id=None):
        stripe_sub = retrieve_subscription(local.stripe_subscription_id)
        if stripe_sub["status"] in (Subscription.Status.PAUSED, Subscription.Status.UNPAID) or \
                (stripe_sub["status"] in Subscription.LIVE_STATUSES and stripe_sub.get("pause_collection")):
            stripe_sub = _cancel(stripe_sub["id"])
            ended += 1
        sync_subscription(stripe_sub, refetch=False, ended_by_site=Subscription.EndedBySite.REPLACED)
    return ended


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
    return get_user_model().objects.filter(pk=user.pk).filter(trial_used()).exists()


PAID = ("charge", "payment")
REFUNDED = ("refund", "payment_refund", "payment_failure_refund")
DISPUTED = ("dispute", "dispute_reversal")  # reporting categories of "adjustment" transactions


def balance_summary(since: datetime) -> dict[str, dict[str, int]]:
    """Money Stripe moved since `since`, per currency, from its balance transactions: what
    readers paid, what went back to them as refunds and as disputes (won ones come back),
    Stripe's fees (the dispute fee among them), and what reaches the bank:
    net = gross - refunds - disputes - fees."""
    _configure()
    totals: dict[str, dict[str, int]] = {}
    for obj in stripe.BalanceTransaction.list(created={"gte": int(since.timestamp())}, limit=100).auto_paging_iter():
        txn = obj.to_dict()
        kind = txn["type"]
        disputed = kind == "adjustment" and txn.get("reporting_category") in DISPUTED
        if kind not in PAID + REFUNDED and not disputed:
            continue
        row = totals.setdefault(txn["currency"], {"gross": 0, "refunds": 0, "disputes": 0, "fees": 0, "net": 0})
        if kind in PAID:
            row["gross"] += txn["amount"]
        elif kind in REFUNDED:
            row["refunds"] -= txn["amount"]
        else:
            row["disputes"] -= txn["amount"]
        row["fees"] += txn["fee"]
        row["net"] += txn["net"]
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
        signals.subscription_started.send(sender=Subscription, subscription=local)  # e.g. staff's welcome email


# --- Offers and gift subscriptions (growth/, docs/growth.md) -----------------------------------
# An offer is a Stripe coupon and its promotion code; a gift is a one-time Checkout payment.
# Coupons and promotion codes are immutable in Stripe but for a promotion code's `active`:
# changed terms make a new pair (under a key of the new terms) and retire the old code.


def offer_sync(offer: Any) -> None:
    """Make Stripe hold `offer` (a growth.models.Offer, saved): its coupon and promotion code at
    the offer's terms, active as the offer is. Called by the admin once the form is valid, and
    safe twice: the same terms reuse the same idempotency keys and change nothing. A longer-trial
    offer has no Stripe objects (Checkout is given the trial); a code it had is retired."""
    _configure()
    terms = offer.terms_key() if offer.is_discount else ""
    old_code = offer.stripe_promotion_code_id
    if old_code and offer.stripe_terms == terms:
        stripe.PromotionCode.modify(old_code, active=bool(offer.is_active))
        return
    if old_code:
        # Retired first: Stripe allows one active promotion code of a given code.
        stripe.PromotionCode.modify(old_code, active=False)
    if not offer.is_discount:
        offer.stripe_coupon_id = offer.stripe_promotion_code_id = ""
        offer.stripe_terms = terms
        offer.save(update_fields=["stripe_coupon_id", "stripe_promotion_code_id", "stripe_terms"])
        return
    coupon: dict[str, Any] = {"duration": offer.duration, "name": offer.name[:40],
                              "metadata": {"offer": offer.code, "site": site_id()}}
    if offer.kind == "percent":
        coupon["percent_off"] = offer.percent_off
    else:
        coupon.update(amount_off=offer.amount_off_cents, currency=offer.currency.lower())
    if offer.duration == "repeating":
        coupon["duration_in_months"] = offer.duration_in_months
    if offer.plan_id:
        coupon["applies_to"] = {"products": [_ensure_product(offer.plan, None)]}
    with _idempotency_key(f"coupon-{terms}") as key:
        made = stripe.Coupon.create(**coupon, idempotency_key=key)
    promo: dict[str, Any] = {"code": offer.code, "promotion": {"type": "coupon", "coupon": made.id},
                             "active": bool(offer.is_active), "metadata": {"offer": offer.code, "site": site_id()}}
    if offer.ends_at:
        promo["expires_at"] = int(offer.ends_at.timestamp())
    if offer.max_redemptions:
        promo["max_redemptions"] = offer.max_redemptions
    with _idempotency_key(f"promotion-code-{terms}") as key:
        code = stripe.PromotionCode.create(**promo, idempotency_key=key)
    offer.stripe_coupon_id, offer.stripe_promotion_code_id, offer.stripe_terms = made.id, code.id, terms
    offer.save(update_fields=["stripe_coupon_id", "stripe_promotion_code_id", "stripe_terms"])


def promotion_code_usable(promotion_code_id: str) -> bool:
    """Does Stripe still honour this promotion code (active, not expired, not used up)?"""
    _configure()
    code = stripe.PromotionCode.retrieve(promotion_code_id).to_dict()
    if not code.get("active"):
        return False
    if code.get("expires_at") and code["expires_at"] <= time.time():
        return False
    return not (code.get("max_redemptions") and code.get("times_redeemed", 0) >= code["max_redemptions"])


def gift_checkout_session(gift: Any, *, success_url: str, cancel_url: str) -> Any:
    """A Checkout Session in payment mode for one gift (growth.models.GiftSubscription, saved):
    one payment of the gift's price, nothing recurring, no card kept. The gift's id is the
    idempotency key, so a double click pays one session."""
    _configure()
    expires_at = int(time.time()) + CHECKOUT_LIFETIME_SECONDS + 60
    metadata = {"gift": str(gift.pk), "site": site_id()}
    with _attempt(f"gift-checkout-{gift.pk}", seconds=CHECKOUT_REUSE_SECONDS, expires_at=expires_at) as attempt:
        return stripe.checkout.Session.create(
            mode="payment",
            customer_email=gift.buyer_email,
            client_reference_id=f"gift-{gift.pk}",
            metadata=metadata,
            payment_intent_data={"metadata": metadata},
            line_items=[{"quantity": 1, "price_data": {
                "currency": gift.currency, "unit_amount": gift.amount_cents,
                "product_data": {"name": f"{settings.SITE_NAME}: a {gift.months}-month gift subscription"}}}],
            success_url=success_url,
            cancel_url=cancel_url,
            expires_at=attempt["expires_at"],
            idempotency_key=attempt["key"],
        )


def gift_refund(payment_intent: str) -> None:
    """Give a gift's payment back in full (staff's refund; charge.refunded then follows)."""
    _configure()
    _refund(payment_intent)


def charge_payment_intent(charge_id: str) -> tuple[str | None, bool]:
    """The payment intent a charge belongs to, and whether the charge is refunded in full."""
    _configure()
    charge = stripe.Charge.retrieve(charge_id).to_dict()
    return _id(charge.get("payment_intent")), bool(charge.get("refunded"))
