"""What an outside probe found, and what Stripe itself could send that we cannot use.

Unsigned: a body is checked for its size and its signature before any JSON is
parsed, so a deeply nested or huge body is a 400 or 413, never a 500.
Signed but unusable: an event whose object names nothing we can act on is
recorded (a redelivery is a no-op), logged for staff and answered 200 — a 500
would have Stripe retry it for days. Nothing about a subscription changes.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time

import pytest
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from subscriptions import billing
from subscriptions.models import Plan, StripeCustomer, StripeEvent, Subscription
from subscriptions.webhooks import HANDLERS
from tests.conftest import make_user
from tests.conftest_billing import WEBHOOK_SECRET, event_json, sign

pytestmark = pytest.mark.django_db

URL = "/stripe/webhook/"
FUZZ_EXAMPLES = int(os.getenv("FUZZ_EXAMPLES", "60"))


@pytest.fixture(autouse=True)
def _secret(settings) -> None:
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET


# One client for the module: a new one loads the middleware again, and whitenoise rescans the static files.
CLIENT = Client()


def post(payload: str | bytes, signature: str) -> int:
    response = CLIENT.post(URL, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)
    return response.status_code


def _nothing_written() -> bool:
    return not StripeEvent.objects.exists() and not Subscription.objects.exists()


# --- the body: its size, its signature, then its JSON ---------------------------------------------------


def test_a_deeply_nested_unsigned_body_is_400_and_writes_nothing() -> None:
    payload = "[" * 100_000
    wrong = f"t={int(time.time())},v1={'0' * 64}"
    assert post(payload, wrong) == 400
    assert _nothing_written()


@pytest.mark.parametrize("payload", ["[" * 100_000, "[" * 50_000 + "]" * 50_000, '{"a":' * 50_000 + "1" + "}" * 50_000])
def test_a_deeply_nested_signed_body_is_400(payload: str) -> None:
    assert post(payload, sign(payload)) == 400
    assert _nothing_written()


def test_a_signed_body_that_is_not_utf8_is_400() -> None:
    payload = b'{"id": "evt_\xff"}'
    assert post(payload, sign(payload.decode("latin-1"))) == 400
    assert _nothing_written()


def _padded_event(size: int) -> str:
    """A well-formed event of an unknown type (answered 200 when accepted), `size` bytes long."""
    base = json.loads(event_json("issuing_card.created", {"id": "ic_1", "object": "issuing.card"}))
    base["data"]["object"]["padding"] = ""
    pad = size - len(json.dumps(base))
    base["data"]["object"]["padding"] = "x" * pad
    payload = json.dumps(base)
    assert len(payload) == size
    return payload


def test_an_oversize_body_is_413_even_when_signed() -> None:
    payload = _padded_event(512 * 1024 + 1)
    assert post(payload, sign(payload)) == 413
    assert _nothing_written()


def test_the_size_bound_is_a_setting(settings) -> None:
    settings.STRIPE_WEBHOOK_MAX_BYTES = 4096
    small, large = _padded_event(4096), _padded_event(4097)
    assert post(small, sign(small)) == 200
    assert post(large, sign(large)) == 413


@pytest.mark.parametrize(
    "event",
    [
        {"type": "customer.subscription.updated", "data": {"object": {"id": "sub_1"}}},  # no id
        {"id": "evt_1", "data": {"object": {"id": "sub_1"}}},  # no type
        {"id": "evt_" + "1" * 300, "type": "customer.subscription.updated", "data": {"object": {"id": "sub_1"}}},
        {"id": "evt_\x00", "type": "customer.subscription.updated", "data": {"object": {"id": "sub_1"}}},
        {"id": "evt_1", "type": "customer.subscription.updated"},  # no data
        {"id": "evt_1", "type": "customer.subscription.updated", "data": {"object": "sub_1"}},
        {"id": "evt_1", "type": "customer.subscription.updated", "data": {"object": None}},
        {"id": "evt_1", "type": "invoice.paid", "data": {"object": ["in_1"]}},
    ],
)
def test_a_signed_body_that_is_no_event_is_400(event: dict) -> None:
    payload = json.dumps(event)
    assert post(payload, sign(payload)) == 400
    assert _nothing_written()


# --- signed, but nothing we can use -----------------------------------------------------------------------


def _deliver_twice(event_type: str, obj: dict) -> tuple[int, int, str]:
    payload = event_json(event_type, obj)
    first = post(payload, sign(payload))
    second = post(payload, sign(payload))
    return first, second, json.loads(payload)["id"]


def _recorded_without_effect(event_type: str, obj: dict) -> None:
    """Answered 200 twice, recorded once, and no subscription anywhere."""
    first, second, event_id = _deliver_twice(event_type, obj)
    assert (first, second) == (200, 200)
    assert list(StripeEvent.objects.values_list("event_id", "type")) == [(event_id, event_type)]
    assert not Subscription.objects.exists()


SUBSCRIPTION_TYPES = sorted(t for t in HANDLERS if t.startswith("customer.subscription."))


@pytest.mark.parametrize("event_type", SUBSCRIPTION_TYPES)
@pytest.mark.parametrize(
    "obj",
    [
        {"object": "subscription", "customer": "cus_1", "status": "active"},  # no id
        {"id": None, "customer": "cus_1"},
        {"id": 12345, "customer": "cus_1"},
        {"id": ["sub_1"]},
        {"id": {"id": {"id": "sub_1"}}},
        {"id": ""},
        {"id": "sub_../../v1/customers"},
        {"id": "sub_" + "1" * 300},
        {"id": "cus_1"},  # an id, but not a subscription's
    ],
    ids=lambda obj: repr(obj)[:40],
)
def test_a_subscription_event_without_a_usable_id_is_recorded_without_effect(
    stripe_env, event_type: str, obj: dict, caplog
) -> None:
    _recorded_without_effect(event_type, obj)
    assert any(r.levelname == "ERROR" and "cannot be used" in r.getMessage() for r in caplog.records)
    assert stripe_env.count("GET", "/v1/subscriptions") == 0  # nothing was fetched for it


@pytest.mark.parametrize(
    ("event_type", "obj"),
    [
        ("customer.subscription.updated", {"id": "sub_NotInStripe1", "customer": "cus_1", "status": "active"}),
        ("invoice.paid", {"id": "in_NotInStripe1", "subscription": "sub_NotInStripe1", "customer": "cus_1"}),
        ("checkout.session.completed", {"id": "cs_test_NotInStripe1", "mode": "subscription"}),
    ],
    ids=["subscription", "invoice", "checkout session"],
)
def test_an_event_for_an_object_stripe_says_does_not_exist_is_recorded_without_effect(
    stripe_env, event_type: str, obj: dict, caplog
) -> None:
    """Stripe answers 404 for what the event names (another account's object, or one long gone):
    a retry cannot change that, so it is not a 500 for Stripe to resend for three days."""
    _recorded_without_effect(event_type, obj)
    assert any(r.levelname == "ERROR" and "cannot be used" in r.getMessage() for r in caplog.records)


def test_a_subscription_event_without_a_customer_uses_stripes_own_object(client, stripe_env) -> None:
    """The event only says which subscription: what it lacks, Stripe's current object has."""
    user = make_user()
    customer = billing.customer_for(user)
    sub = stripe_env.make_subscription(customer, Plan.objects.get(code="weekly").stripe_price_id)
    payload = event_json("customer.subscription.updated", {"id": sub["id"], "object": "subscription"})
    assert post(payload, sign(payload)) == 200
    assert Subscription.objects.get().user == user


INVOICE_TYPES = sorted(t for t in HANDLERS if t.startswith("invoice."))


@pytest.mark.parametrize("event_type", INVOICE_TYPES)
@pytest.mark.parametrize(
    "obj",
    [
        {"id": "in_1", "subscription": 42},
        {"id": "in_1", "subscription": ["sub_1"]},
        {"id": "in_1", "subscription": {"id": None}},
        {"id": "in_1", "subscription": {"object": "subscription"}},
        {"id": "in_1", "parent": "sub_1"},
        {"id": "in_1", "parent": ["sub_1"]},
        {"id": "in_1", "parent": {"subscription_details": "sub_1"}},
        {"id": "in_1", "parent": {"subscription_details": {"subscription": 7}}},
        {"id": "in_1", "parent": {"subscription_details": {"subscription": "in_1"}}},
        {"id": 3, "customer": {"deleted": True}, "lines": "all of them"},  # and no subscription: a one-off invoice
    ],
    ids=lambda obj: repr(obj)[:40],
)
def test_an_invoice_event_with_garbage_fields_is_recorded_without_effect(
    stripe_env, event_type: str, obj: dict
) -> None:
    _recorded_without_effect(event_type, obj)


@pytest.mark.parametrize(
    "obj", [{"object": "checkout.session"}, {"id": 42}, {"id": "sub_1"}, {"id": "cs_\n"}, {"customer": {}}]
)
def test_a_checkout_event_without_a_usable_session_id_is_recorded_without_effect(stripe_env, obj: dict) -> None:
    _recorded_without_effect("checkout.session.completed", obj)


@pytest.mark.parametrize("reference", ["order-123", "9" * 40, "-1", "1.0", " 7", "٣", "1\x00", ""])
def test_a_checkout_session_with_a_foreign_client_reference_is_recorded_without_effect(
    stripe_env, reference: str
) -> None:
    """A Checkout Session another integration made in the same Stripe account (Payment Links, a
    shop): its client_reference_id is no user of ours, so it links nothing."""
    user = make_user()
    session = billing.create_checkout_session(
        user,
        Plan.objects.get(code="weekly"),
        success_url="http://testserver/ok/{CHECKOUT_SESSION_ID}",
        cancel_url="http://testserver/no/",
    )
    stripe_env.sessions[session["id"]]["client_reference_id"] = reference
    stripe_env.complete_checkout(session["id"])
    obj = dict(stripe_env.sessions[session["id"]], client_reference_id=reference)
    _recorded_without_effect("checkout.session.completed", {k: v for k, v in obj.items() if not k.startswith("_")})
    assert list(StripeCustomer.objects.values_list("user", flat=True)) == [user.pk]


# --- generated: hostile but signed ------------------------------------------------------------------------

# A well-formed id of an object Stripe does not have is not garbage: Stripe answers 404 and the
# webhook answers 500 (the key sees another account or mode; a retry after the fix applies it).
_FETCHABLE = re.compile(r"(sub|cs)_[A-Za-z0-9_]+")
_strings = st.one_of(
    st.sampled_from(["", "sub_", "cs_", "in_1", "sub_\x00", "sub_/../x", "9" * 40, "x" * 300, "ü", "null"]),
    st.text(max_size=30),
).filter(lambda s: not _FETCHABLE.fullmatch(s))
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | _strings,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["id", "object"]) | _strings, inner, max_size=3)
    ),
    max_leaves=8,
)
_FIELDS = ["id", "object", "customer", "subscription", "parent", "client_reference_id", "mode", "status", "items"]
_objects = st.fixed_dictionaries(
    {},
    optional={name: _json for name in _FIELDS}
    | {
        "parent": _json
        | st.fixed_dictionaries({"subscription_details": st.fixed_dictionaries({"subscription": _json})})
    },
)


@hsettings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(event_type=st.sampled_from(sorted(HANDLERS)), obj=_objects)
def test_hostile_signed_events_never_get_a_5xx(stripe_env, event_type: str, obj: dict) -> None:
    event_id = "evt_" + secrets.token_hex(10)
    payload = event_json(event_type, obj, event_id)
    status = post(payload, sign(payload))
    assert status == 200, payload
    assert post(payload, sign(payload)) == 200
    assert StripeEvent.objects.filter(event_id=event_id).count() == 1
    assert not Subscription.objects.exists()
