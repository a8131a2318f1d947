"""One subscription and one trial per reader, and a whole subscription life
walked on Stripe's clock (the fake's test clock), every event delivered signed."""

from __future__ import annotations

import pytest
import stripe
from django.core import mail
from django.test import Client

from newsroom import account_deletion as accounts
from subscriptions import access, billing
from subscriptions.models import Subscription
from tests.conftest import make_subscription, make_user
from tests.conftest_billing import deliver
from tests.stripe_fake import StripeFake

pytestmark = pytest.mark.django_db


def _deliver_all(client: Client, events: list[dict]) -> None:
    for event in events:
        assert deliver(client, event["type"], event["data"]["object"], event["id"]).status_code == 200


def _open_checkout(client: Client, fake: StripeFake, plan: str = "weekly") -> dict:
    location = client.post("/subscribe/checkout/", {"plan": plan})["Location"]
    return next(s for s in fake.sessions.values() if s["url"] == location)


def test_two_tabs_paid_together_leave_one_subscription_and_one_charge(stripe_env, django_capture_on_commit_callbacks) -> None:  # noqa: E501
    user = make_user()
    make_subscription(user, "canceled")  # a returning reader: no trial, both tabs charge at once
    tab1, tab2 = Client(), Client()
    tab1.force_login(user)
    tab2.force_login(user)
    assert tab1.post("/subscribe/checkout/", {"plan": "weekly"}).status_code == 303
    (first,) = stripe_env.sessions.values()
    stripe_env.complete_checkout(first["id"])  # paid in tab 1; its webhook is still on its way
    assert tab2.post("/subscribe/checkout/", {"plan": "annual"}).status_code == 303
    second = next(s for s in stripe_env.sessions.values() if s["id"] != first["id"])
    stripe_env.complete_checkout(second["id"])  # paid in tab 2 as well
    assert len(stripe_env.charges) == 2

    with django_capture_on_commit_callbacks(execute=True):
        _deliver_all(tab1, stripe_env.events)
    kept = stripe_env.subscriptions[first["subscription"]]
    dropped = stripe_env.subscriptions[second["subscription"]]
    assert kept["status"] == "active" and dropped["status"] == "canceled"
    assert sum(c["amount"] - c["refunded"] for c in stripe_env.charges.values()) == 200  # one charge stands
    assert dict(Subscription.objects.filter(user=user).exclude(stripe_subscription_id__startswith="sub_test")
                .values_list("stripe_subscription_id", "status")) == {kept["id"]: "active", dropped["id"]: "canceled"}
    assert access.user_entitlement(user).entitled
    assert any("duplicate subscription" in m.subject for m in mail.outbox if m.to == [user.email])


def test_a_second_trial_with_the_same_card_ends_at_once(stripe_env, django_capture_on_commit_callbacks) -> None:
    client = Client()
    first, second = make_user(), make_user()
    for user in (first, second):
        client.force_login(user)
        session = _open_checkout(client, stripe_env)
        assert session["_params"]["subscription_data"]["trial_period_days"] == "14"  # Checkout cannot know yet
        stripe_env.complete_checkout(session["id"], card="4000056655665556")
        with django_capture_on_commit_callbacks(execute=True):
            _deliver_all(client, stripe_env.events)
        stripe_env.events.clear()
    assert Subscription.objects.get(user=first).status == "trialing"
    sub = Subscription.objects.get(user=second)
    assert sub.status == "active" and sub.trial_end is not None
    assert stripe_env.subscriptions[sub.stripe_subscription_id]["status"] == "active"
    assert [c["amount"] for c in stripe_env.charges.values()] == [200]  # charged now, not in 14 days
    assert any("without a free trial" in m.subject for m in mail.outbox if m.to == [second.email])


def test_a_deleted_account_does_not_give_a_second_trial_to_the_same_email(client, stripe_env, django_capture_on_commit_callbacks) -> None:  # noqa: E501
    user = make_user("again@example.com")
    client.force_login(user)
    session = _open_checkout(client, stripe_env)
    stripe_env.complete_checkout(session["id"])
    with django_capture_on_commit_callbacks(execute=True):
        _deliver_all(client, stripe_env.events)
    sub_id = Subscription.objects.get(user=user).stripe_subscription_id
    stripe_env.update_subscription(sub_id, status="canceled")
    billing.sync_subscription({"id": sub_id})
    accounts.account_delete(user=user)

    client.force_login(make_user("Again@example.com"))
    assert "Start free trial" not in client.get("/subscribe/").content.decode()
    session = _open_checkout(client, stripe_env)
    assert "trial_period_days" not in session["_params"].get("subscription_data", {})


def test_a_subscription_life_on_stripes_clock(client, stripe_env, settings, django_capture_on_commit_callbacks) -> None:
    """trial → active → renewal → failed payment → past_due (grace) → unpaid → canceled."""
    settings.PAST_DUE_GRACE_DAYS = 3
    user = make_user()
    client.force_login(user)
    session = _open_checkout(client, stripe_env)
    stripe_env.complete_checkout(session["id"])

    def step(days: float) -> Subscription:
        events = stripe_env.advance(int(days * 86400)) if days else list(stripe_env.events)
        with django_capture_on_commit_callbacks(execute=True):
            _deliver_all(client, events)
        stripe_env.events.clear()
        return Subscription.objects.get(user=user)

    assert step(0).status == "trialing" and access.user_entitlement(user).entitled
    sub = step(14.1)
    assert sub.status == "active" and access.user_entitlement(user).entitled  # trial over, first $2.00 charged
    sub = step(28)
    assert sub.status == "active"  # renewed
    assert [c["amount"] for c in stripe_env.charges.values()] == [200, 200]
    stripe_env.declining.add(sub.stripe_customer_id)
    sub = step(28)
    assert sub.status == "past_due" and access.user_entitlement(user).entitled  # in grace
    assert any("payment failed" in m.subject.lower() for m in mail.outbox)
    assert "Payment failed — update your card" in client.get("/account/").content.decode()
    sub = step(3)
    assert sub.status == "past_due"  # first retry failed too
    sub = step(13)
    assert sub.status == "unpaid" and not access.user_entitlement(user).entitled
    stripe.Subscription.cancel(sub.stripe_subscription_id)  # the operator gives up
    sub = step(0)
    assert sub.status == "canceled" and not access.user_entitlement(user).entitled
    assert len(stripe_env.charges) == 2  # no charge was made after the card started failing


def test_a_duplicate_is_refunded_even_when_the_first_attempt_fails_half_way(stripe_env) -> None:
    user = make_user()
    make_subscription(user, "canceled")  # a returning reader: both tabs charge at once
    client = Client()
    client.force_login(user)
    first = stripe_env.complete_checkout(_open_checkout(client, stripe_env)["id"])
    assert deliver(client, "customer.subscription.created", first).status_code == 200
    # The second tab's Checkout was paid before the first subscription reached the site.
    Subscription.objects.filter(stripe_subscription_id=first["id"]).update(status="incomplete")
    dup = stripe_env.complete_checkout(_open_checkout(client, stripe_env, "annual")["id"])
    Subscription.objects.filter(stripe_subscription_id=first["id"]).update(status="active")
    intent = list(stripe_env.charges)[-1]
    failures = iter(range(1))  # the refund fails once (the library's retries replay the stored 500)
    stripe_env.fail_when = lambda method, path: path == "/v1/refunds" and next(failures, None) is not None
    assert deliver(client, "customer.subscription.created", dup).status_code == 500
    # Nothing was cancelled before the money went back, so Stripe's retry finds it to do.
    assert stripe_env.subscriptions[dup["id"]]["status"] == "active"
    assert stripe_env.charges[intent]["refunded"] == 0
    assert deliver(client, "customer.subscription.created", dup).status_code == 200  # Stripe's retry
    assert stripe_env.subscriptions[dup["id"]]["status"] == "canceled"
    assert stripe_env.charges[intent]["refunded"] == 2400 and len(stripe_env.refunds) == 1
    assert Subscription.objects.get(stripe_subscription_id=dup["id"]).status == "canceled"
