"""The webhook accepts only events signed with our secret, fresh, on the exact body."""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client

from subscriptions.models import StripeEvent, Subscription
from tests.conftest_billing import deliver, event_json, sign

pytestmark = pytest.mark.django_db

URL = "/stripe/webhook/"


def _post(client: Client, payload: str, signature: str | None):
    extra = {"HTTP_STRIPE_SIGNATURE": signature} if signature is not None else {}
    return client.post(URL, data=payload, content_type="application/json", **extra)


def _nothing_written() -> bool:
    return not StripeEvent.objects.exists() and not Subscription.objects.exists()


@pytest.fixture
def sub_event(stripe_env) -> str:
    """A real, processable event: a subscription of ours for a known customer."""
    from subscriptions import billing
    from subscriptions.models import Plan
    from tests.conftest import make_user

    customer = billing.customer_for(make_user())
    sub = stripe_env.make_subscription(customer, Plan.objects.get(code="weekly").stripe_price_id)
    return event_json("customer.subscription.created", sub)


def test_valid_signature_is_processed(client, sub_event) -> None:
    assert _post(client, sub_event, sign(sub_event)).status_code == 200
    assert StripeEvent.objects.count() == 1 and Subscription.objects.count() == 1


@pytest.mark.parametrize(
    "case",
    ["missing", "empty", "garbage", "wrong_secret", "altered_body", "stale", "no_v1", "v0_only"],
)
def test_bad_signatures_are_400_and_write_nothing(client, sub_event, case: str) -> None:
    payload, signature = sub_event, sign(sub_event)
    if case == "missing":
        signature = None
    elif case == "empty":
        signature = ""
    elif case == "garbage":
        signature = "not-a-signature"
    elif case == "wrong_secret":
        signature = sign(payload, secret="whsec_someone_else")
    elif case == "altered_body":
        data = json.loads(payload)
        data["data"]["object"]["status"] = "canceled"
        payload = json.dumps(data)  # signature is for the original bytes
    elif case == "stale":
        signature = sign(payload, timestamp=int(time.time()) - 3600)
    elif case == "no_v1":
        signature = signature.split(",")[0]
    elif case == "v0_only":
        signature = signature.replace("v1=", "v0=")
    resp = _post(client, payload, signature)
    assert resp.status_code == 400
    assert _nothing_written()


def test_not_json_with_valid_signature_is_400(client, stripe_env) -> None:
    assert _post(client, "{not json", sign("{not json")).status_code == 400
    assert _nothing_written()


def test_no_webhook_secret_configured_is_400(client, sub_event, settings) -> None:
    settings.STRIPE_WEBHOOK_SECRET = ""
    assert _post(client, sub_event, sign(sub_event)).status_code == 400
    assert _nothing_written()


def test_webhook_is_csrf_exempt_and_post_only(sub_event) -> None:
    client = Client(enforce_csrf_checks=True)
    assert _post(client, sub_event, sign(sub_event)).status_code == 200
    assert client.get(URL).status_code == 405


def test_unknown_event_type_is_200_and_ignored(client, stripe_env) -> None:
    resp = deliver(client, "issuing_card.created", {"id": "ic_1", "object": "issuing.card"})
    assert resp.status_code == 200
    assert _nothing_written()
