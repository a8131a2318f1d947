"""Stripe webhook: events are triggers, Stripe's current objects are the truth.

Rules (see README "Subscriptions and Stripe"):
* a body longer than STRIPE_WEBHOOK_MAX_BYTES (default 512 KiB) -> 413, read no further;
* the signature is checked on the raw bytes before any JSON is parsed; a bad
  signature, or a signed body that is not JSON or not an event -> 400, nothing written;
* the event id is inserted into StripeEvent in the same transaction as the
  effect, so a redelivery (even a concurrent one) is a no-op and a failure rolls
  both back, letting Stripe's retry do the work;
* the subscription is fetched from Stripe before writing, so the order in which
  events arrive does not matter;
* unknown event types -> 200;
* a signed event whose object names nothing we can act on (no id, an id of the
  wrong kind, an invoice's subscription that is a number...) -> 200: it is
  recorded without effect in its own transaction (a redelivery is a no-op) and
  logged as an error with its id and what was wrong. Stripe's current objects
  are never "unusable": a failure there is ours;
* any other failure (the database, Stripe unreachable or refusing a
  well-formed id, a bug) -> 500, both rolled back, and Stripe retries.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any

import stripe
from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import billing, emails, experiments
from .models import StripeCustomer, Subscription

log = logging.getLogger(__name__)


def _claim_event(event_id: str, event_type: str) -> bool:
    """Insert the event row; False when it was already processed.

    A concurrent duplicate blocks on the unique index until the first
    transaction ends: it then sees a conflict (first committed) or inserts
    (first rolled back) and does the work itself."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO subscriptions_stripeevent (event_id, type, received_at) VALUES (%s, %s, %s) "
            "ON CONFLICT (event_id) DO NOTHING RETURNING id",
            [event_id, event_type, timezone.now()],
        )
        return cursor.fetchone() is not None


class UnusableEvent(Exception):
    """A genuine event whose object names nothing we can act on; retrying cannot help."""


_STRIPE_ID = re.compile(r"[a-z]+_[A-Za-z0-9_]{1,250}")


def _object_id(value: Any, prefix: str) -> str:
    """The id of the object an event's field names (an id, or an object with one)."""
    if isinstance(value, dict):
        value = value.get("id")
    if isinstance(value, str) and value.startswith(prefix) and _STRIPE_ID.fullmatch(value):
        return value
    shown = repr(value[:40]) if isinstance(value, str) else type(value).__name__
    raise UnusableEvent(f"expected a {prefix}... id, got {shown}")


def _field(obj: Any, name: str) -> Any:
    """obj[name] of an optional object of an event (None when obj is absent)."""
    if obj is None:
        return None
    if not isinstance(obj, dict):
        raise UnusableEvent(f"expected an object holding {name!r}, got {type(obj).__name__}")
    return obj.get(name)


def _subscription_id_of_invoice(invoice: dict[str, Any]) -> str | None:
    """None for an invoice of no subscription (a one-off)."""
    # API >= 2025-03-31 moved it under parent.subscription_details.
    sub = invoice.get("subscription") or _field(_field(invoice.get("parent"), "subscription_details"), "subscription")
    return _object_id(sub, "sub_") if sub else None


def _user_of_reference(reference: Any) -> Any:
    """The user our Checkout named in client_reference_id (str(user.pk)), or None: sessions
    another integration made in the same Stripe account carry references of their own."""
    from django.contrib.auth import get_user_model

    if not (isinstance(reference, str) and reference.isascii() and reference.isdigit()):
        return None
    return get_user_model().objects.filter(pk=int(reference)).first()


def fulfil_checkout_session(session: Any) -> Subscription | None:
    """Link a completed Checkout Session to our user and sync its subscription.

    Used by the webhook and the success page. The user comes from our own
    client_reference_id, and must match the session's customer when we
    already know the user's customer."""
    if session.get("mode") != "subscription" or not session.get("subscription"):
        return None
    user = _user_of_reference(session.get("client_reference_id"))
    customer_id = billing._id(session.get("customer"))
    if user is None or not customer_id:
        log.warning("checkout session %s has no known user/customer", session.get("id"))
        return None
    known = StripeCustomer.objects.filter(user=user).values_list("customer_id", flat=True).first()
    if known and known != customer_id:
        log.warning("checkout session %s customer %s is not user %s's", session.get("id"), customer_id, user.pk)
        return None
    site = str((session.get("metadata") or {}).get("site") or "")
    if not known and site != billing.site_id():
        # Only a session this site made may link a customer to a user: on a Stripe account
        # shared with another site (or staging), its client_reference_id names its own users.
        log.warning("checkout session %s was made by site %r, not this one (%r): ignored", session.get("id"), site,
                    billing.site_id())
        return None
    if not known and not billing.customer_exists(customer_id):
        # Deleted since (its customer.deleted came first): nothing to link, nothing to open.
        log.warning("checkout session %s: customer %s no longer exists in Stripe", session.get("id"), customer_id)
        return None
    if not known:
        StripeCustomer.objects.get_or_create(user=user, defaults={"customer_id": customer_id})
    stripe_sub = billing.retrieve_subscription(billing._id(session["subscription"]))
    return billing.sync_subscription(stripe_sub, user=user)


def _sync_by_id(sub_id: str | None) -> Subscription | None:
    if not sub_id:
        return None
    sub = billing.sync_subscription(billing.retrieve_subscription(sub_id))
    experiments.count_success(sub)  # a trial or payment in a paywall experiment counts for the reader's arm
    return sub


def _on_checkout_completed(obj: dict[str, Any]) -> None:
    from growth import gifts, offers  # growth sits above subscriptions: asked here, never imported at the top

    session = billing.retrieve_checkout_session(_object_id(obj.get("id"), "cs_"))
    if session.get("mode") == "payment":
        gifts.gift_paid(session)  # a gift subscription bought once (the only one-off Checkout we make)
        return
    sub = fulfil_checkout_session(session)
    offers.redemption_record(session, sub)


def _on_subscription(obj: dict[str, Any]) -> None:
    _sync_by_id(_object_id(obj.get("id"), "sub_"))


def _on_trial_will_end(obj: dict[str, Any]) -> None:
    sub = _sync_by_id(_object_id(obj.get("id"), "sub_"))
    if sub is not None and sub.status == Subscription.Status.TRIALING:
        transaction.on_commit(lambda: emails.trial_ending(sub))


def _on_invoice_paid(obj: dict[str, Any]) -> None:
    _sync_by_id(_subscription_id_of_invoice(obj))


def _on_payment_failed(obj: dict[str, Any]) -> None:
    sub = _sync_by_id(_subscription_id_of_invoice(obj))
    invoice_id = _object_id(obj.get("id"), "in_")
    # A payment waiting for the card holder to authenticate gets its own email, with the link
    # (invoice.payment_action_required): "update your card" would send them the wrong way.
    if sub is not None and not billing.invoice_waiting_for_holder(invoice_id):
        transaction.on_commit(lambda: emails.payment_failed(sub))


def _on_payment_action_required(obj: dict[str, Any]) -> None:
    sub = _sync_by_id(_subscription_id_of_invoice(obj))
    url = billing.invoice_waiting_for_holder(_object_id(obj.get("id"), "in_"))
    if sub is not None and url:
        transaction.on_commit(lambda: emails.payment_action_required(sub, url))


def _on_charge_refunded(obj: dict[str, Any]) -> None:
    from growth import gifts

    charge_id = _object_id(obj.get("id"), "ch_")
    if gifts.gift_charge_refunded(charge_id):  # a gift's payment: the gift stops giving access
        return
    billing.payment_reversed(charge_id=charge_id, reason=Subscription.EndedBySite.REFUND)


def _on_dispute_created(obj: dict[str, Any]) -> None:
    charge_id = billing.dispute_charge(_object_id(obj.get("id"), "dp_"))
    billing.payment_reversed(charge_id=charge_id, reason=Subscription.EndedBySite.DISPUTE)


def _on_customer_deleted(obj: dict[str, Any]) -> None:
    billing.customer_deleted(_object_id(obj.get("id"), "cus_"))


HANDLERS: dict[str, Callable[[dict[str, Any]], None]] = {
    "checkout.session.completed": _on_checkout_completed,
    "customer.subscription.created": _on_subscription,
    "customer.subscription.updated": _on_subscription,
    "customer.subscription.deleted": _on_subscription,
    "customer.subscription.paused": _on_subscription,
    "customer.subscription.resumed": _on_subscription,
    "customer.subscription.trial_will_end": _on_trial_will_end,
    "invoice.paid": _on_invoice_paid,
    "invoice.payment_failed": _on_payment_failed,
    "invoice.payment_action_required": _on_payment_action_required,
    "charge.refunded": _on_charge_refunded,
    "charge.dispute.created": _on_dispute_created,
    # A closed dispute changes only the figures (balance transactions): access ended when it opened.
    "customer.deleted": _on_customer_deleted,
}


def process_event(event: dict[str, Any]) -> bool:
    """Apply one verified event exactly once. Returns False for a duplicate.

    An unusable event is recorded without effect: whatever its handler wrote
    before finding out is rolled back first."""
    handler = HANDLERS.get(event["type"])
    if handler is None:
        return True
    try:
        with transaction.atomic():
            if not _claim_event(event["id"], event["type"]):
                return False
            try:
                handler(event["data"]["object"])
            except stripe.InvalidRequestError as exc:
                # Stripe says what the event names does not exist (another account's, or gone):
                # no retry can change that. Anything else (429, 5xx, network) is raised: a retry can.
                if exc.http_status != 404:
                    raise
                raise UnusableEvent(f"Stripe has no such object: {exc.user_message or exc}") from exc
    except UnusableEvent as exc:
        log.error("Stripe event %s (%s) cannot be used, recorded without effect: %s", event["id"], event["type"], exc)
        with transaction.atomic():
            return _claim_event(event["id"], event["type"])
    return True


# Clock skew allowed for a signature's or an event's time ahead of ours.
FUTURE_SKEW_SECONDS = 300
LAST_REPRESENTABLE_TIMESTAMP = 253402300799  # 9999-12-31T23:59:59Z
_TIMESTAMP = re.compile(r"(?:^|,)t=(\d{1,12})(?:,|$)")
_EVENT_ID = re.compile(r"evt_[A-Za-z0-9_]{1,250}")


def _signature_problem(signature: str) -> str | None:
    """What is wrong with the header's shape (the stripe library fails with TypeError or
    AttributeError on some of these, and lets a date in the future pass), or None."""
    if not signature.isascii() or not signature.isprintable():
        return "malformed signature"
    stamp = _TIMESTAMP.search(signature)
    if stamp is None:
        return "malformed signature"
    if int(stamp.group(1)) > time.time() + FUTURE_SKEW_SECONDS:
        return "signature dated in the future"
    return None


def _parse_event(body: bytes) -> dict[str, Any]:
    """The verified body as an event; ValueError saying why it is none."""
    try:
        event = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        raise ValueError("not JSON") from None
    data = event.get("data") if isinstance(event, dict) else None
    if not (
        isinstance(data, dict)
        and isinstance(data.get("object"), dict)
        and isinstance(event.get("id"), str)
        and _EVENT_ID.fullmatch(event["id"])  # it is stored: no NUL, no 10 KB id
        and isinstance(event.get("type"), str)
    ):
        raise ValueError("not an event object")
    # Not "after now": events of a Stripe test clock carry its simulated (future) time. But a
    # date past year 9999 is no date at all (and would overflow any datetime made from it).
    created = event.get("created", 0)
    if not isinstance(created, int) or not 0 <= created <= LAST_REPRESENTABLE_TIMESTAMP:
        raise ValueError("event date out of range")
    return event


def _read_body(request: HttpRequest) -> bytes | None:
    """The body, or None when it is longer than STRIPE_WEBHOOK_MAX_BYTES (read no further)."""
    limit = settings.STRIPE_WEBHOOK_MAX_BYTES
    body = request.read(limit + 1)
    return None if len(body) > limit else body


@csrf_exempt  # Stripe cannot send a CSRF token; the signature is the authentication.
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    signature = request.headers.get("Stripe-Signature")
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not signature or not secret:
        return HttpResponse("missing signature", status=400)
    if (problem := _signature_problem(signature)) is not None:
        return HttpResponse(problem, status=400)
    body = _read_body(request)
    if body is None:
        return HttpResponse("too large", status=413)
    # The signature first, on the raw bytes: nothing unsigned is ever parsed.
    try:
        stripe.WebhookSignature.verify_header(body, signature, secret, stripe.Webhook.DEFAULT_TOLERANCE)
    except (ValueError, stripe.SignatureVerificationError):  # ValueError: a body that is not UTF-8
        return HttpResponse("bad signature", status=400)
    try:
        event = _parse_event(body)
    except ValueError as exc:
        return HttpResponse(str(exc), status=400)
    try:
        process_event(event)
    except Exception:
        log.exception("webhook %s (%s) failed; Stripe will retry", event["id"], event["type"])
        return HttpResponse("error", status=500)
    return HttpResponse("ok")
