"""What an outside probe found: a body is checked for its size and its signature
before any JSON is parsed, so a deeply nested or huge body is a 400 or 413,
never a 500, and writes nothing."""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client

from subscriptions.models import StripeEvent, Subscription
from tests.conftest_billing import WEBHOOK_SECRET, event_json, sign

pytestmark = pytest.mark.django_db

URL = "/stripe/webhook/"


@pytest.fixture(autouse=True)
def _secret(settings) -> None:
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET


def post(payload: str | bytes, signature: str) -> int:
    response = Client().post(URL, data=payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature)
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
    base = json.loads(event_json("charge.dispute.created", {"id": "dp_1", "object": "dispute"}))
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
