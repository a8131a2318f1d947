"""Webhook effects: idempotent, order-free, retried after failure, repaired by reconcile."""

from __future__ import annotations

import random
import threading
import time
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from subscriptions import access, billing
from subscriptions.models import DailyStat, Plan, StripeEvent, Subscription
from tests.conftest import make_user
from tests.conftest_billing import deliver, event_json, sign

pytestmark = pytest.mark.django_db


def _price(code: str = "weekly") -> str:
    return Plan.objects.get(code=code).stripe_price_id


def _new_subscriber(fake, status: str = "trialing", trial_days: int = 14):
    user = make_user()
    customer = billing.customer_for(user)
    days = trial_days if status == "trialing" else 0
    sub = fake.make_subscription(customer, _price(), status=status, trial_days=days)
    return user, sub


def _stat(name: str) -> int:
    return sum(DailyStat.objects.filter(name=name).values_list("value", flat=True))


def _invoice(sub: dict) -> dict:
    # Newer API shape: the subscription id under parent.subscription_details.
    return {"id": "in_" + sub["id"][4:], "object": "invoice", "customer": sub["customer"],
            "parent": {"type": "subscription_details", "subscription_details": {"subscription": sub["id"]}}}


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_deliveries_of_one_event_have_one_effect(stripe_env, live_server) -> None:
    user, sub = _new_subscriber(stripe_env)
    payload = event_json("customer.subscription.created", sub, event_id="evt_once")
    statuses: list[int] = []
    barrier = threading.Barrier(50)

    def post() -> None:
        req = urllib.request.Request(live_server.url + "/stripe/webhook/", data=payload.encode(), method="POST",
                                     headers={"Content-Type": "application/json", "Stripe-Signature": sign(payload)})
        barrier.wait()
        for attempt in range(10):
            try:
                with urllib.request.urlopen(req, timeout=60) as resp:
                    statuses.append(resp.status)
                    return
            except urllib.error.HTTPError as exc:
                statuses.append(exc.code)
                return
            except OSError:
                # The test server's listen backlog is small; like Stripe, deliver again.
                time.sleep(0.05 * (attempt + 1))

    threads = [threading.Thread(target=post) for _ in range(50)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert statuses == [200] * 50
    assert StripeEvent.objects.filter(event_id="evt_once").count() == 1
    assert Subscription.objects.filter(stripe_subscription_id=sub["id"]).count() == 1
    assert _stat("trial_started") == 1
    assert len([m for m in mail.outbox if m.to == [user.email]]) == 1  # one welcome email
    # Exactly one delivery did the work: one fetch of the subscription from Stripe.
    assert stripe_env.count("GET", f"/v1/subscriptions/{sub['id']}") == 1
    connection.close()


def test_redelivery_is_a_no_op(client, stripe_env) -> None:
    user, sub = _new_subscriber(stripe_env)
    assert deliver(client, "customer.subscription.created", sub, "evt_dup").status_code == 200
    stripe_env.update_subscription(sub["id"], status="active")
    assert deliver(client, "customer.subscription.created", sub, "evt_dup").status_code == 200
    assert Subscription.objects.get().status == "trialing"  # the duplicate did nothing
    assert StripeEvent.objects.count() == 1


def test_stale_payload_cannot_undo_newer_state(client, stripe_env) -> None:
    """updated(active) arrives before created(incomplete): the end state is active."""
    user, sub = _new_subscriber(stripe_env, status="incomplete")
    created_payload = dict(sub)
    stripe_env.update_subscription(sub["id"], status="active")
    deliver(client, "customer.subscription.updated", stripe_env.subscriptions[sub["id"]])
    deliver(client, "customer.subscription.created", created_payload)
    assert Subscription.objects.get().status == "active"
    assert access.user_entitlement(user).entitled


def test_shuffled_replay_of_a_whole_life_ends_canceled(client, stripe_env) -> None:
    user, sub = _new_subscriber(stripe_env)
    snapshots = []
    events = []
    for status in ("trialing", "active", "past_due", "active", "past_due", "canceled"):
        stripe_env.update_subscription(sub["id"], status=status)
        snapshot = dict(stripe_env.subscriptions[sub["id"]])
        snapshots.append(snapshot)
        kind = {"trialing": "customer.subscription.created", "canceled": "customer.subscription.deleted"}.get(
            status, "customer.subscription.updated")
        events.append((kind, snapshot, f"evt_{len(events)}"))
    events += [("customer.subscription.trial_will_end", snapshots[0], "evt_twe"),
               ("invoice.paid", _invoice(sub), "evt_paid"),
               ("invoice.payment_failed", _invoice(sub), "evt_failed")]
    stripe_env.update_subscription(sub["id"], canceled_at=int(time.time()), ended_at=int(time.time()))
    events += events[:4]  # duplicates, same ids
    random.Random(5).shuffle(events)
    for kind, obj, event_id in events:
        assert deliver(client, kind, obj, event_id).status_code == 200
    local = Subscription.objects.get()
    assert local.status == "canceled" and local.canceled_at is not None
    assert local.past_due_since is None
    assert not access.user_entitlement(user).entitled
    assert StripeEvent.objects.count() == 9


def test_processing_error_returns_500_then_retry_succeeds(client, stripe_env) -> None:
    user, sub = _new_subscriber(stripe_env, status="active")
    stripe_env.fail_next = 10  # Stripe is down: the library's own retries fail too
    assert deliver(client, "customer.subscription.created", sub, "evt_retry").status_code == 500
    assert not StripeEvent.objects.exists() and not Subscription.objects.exists()
    stripe_env.fail_next = 0
    assert deliver(client, "customer.subscription.created", sub, "evt_retry").status_code == 200
    assert Subscription.objects.get().status == "active"
    assert StripeEvent.objects.filter(event_id="evt_retry").count() == 1


def test_checkout_completed_webhook_links_by_client_reference_and_customer(client, stripe_env) -> None:
    user = make_user("same@example.com")
    client.force_login(user)
    client.post("/subscribe/checkout/", {"plan": "weekly"})
    (session,) = stripe_env.sessions.values()
    stripe_env.complete_checkout(session["id"])
    public = {k: v for k, v in session.items() if not k.startswith("_")}
    client.logout()
    assert deliver(client, "checkout.session.completed", public).status_code == 200
    local = Subscription.objects.get()
    assert local.user == user and local.status == "trialing"
    # The success page after the webhook just shows the result.
    client.force_login(user)
    assert "Welcome aboard" in client.get(f"/subscribe/success/?session_id={session['id']}").content.decode()
    assert Subscription.objects.count() == 1


def test_subscriptions_to_prices_not_ours_or_unknown_customers_are_ignored(client, stripe_env) -> None:
    user = make_user()
    customer = billing.customer_for(user)
    foreign = stripe_env.make_subscription(customer, "price_someone_else")
    stranger = stripe_env.make_subscription("cus_unknown", _price())
    assert deliver(client, "customer.subscription.created", foreign).status_code == 200
    assert deliver(client, "customer.subscription.created", stranger).status_code == 200
    assert not Subscription.objects.exists()
    assert not access.user_entitlement(user).entitled


def test_trial_will_end_emails_and_trial_end_without_card_removes_access(
    client, stripe_env, django_capture_on_commit_callbacks
) -> None:
    user, sub = _new_subscriber(stripe_env, trial_days=3)
    stripe_env.update_subscription(sub["id"], default_payment_method=None)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, "customer.subscription.created", sub)
        deliver(client, "customer.subscription.trial_will_end", sub)
    assert any("trial ends in 3 days" in m.subject for m in mail.outbox)
    assert access.user_entitlement(user).entitled
    # The trial ends with no card: Stripe cancels (trial_settings missing_payment_method=cancel).
    stripe_env.update_subscription(sub["id"], status="canceled", canceled_at=int(time.time()))
    deliver(client, "customer.subscription.deleted", stripe_env.subscriptions[sub["id"]])
    assert Subscription.objects.get().status == "canceled"
    assert not access.user_entitlement(user).entitled
    # Paused is Stripe's other trial-end behaviour: also no access.
    stripe_env.update_subscription(sub["id"], status="paused")
    deliver(client, "customer.subscription.updated", sub)
    assert not access.user_entitlement(user).entitled


def test_payment_failed_grace_then_no_access(client, stripe_env, settings, django_capture_on_commit_callbacks) -> None:
    settings.PAST_DUE_GRACE_DAYS = 3
    user, sub = _new_subscriber(stripe_env, status="active")
    deliver(client, "customer.subscription.created", sub)
    stripe_env.update_subscription(sub["id"], status="past_due")
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, "invoice.payment_failed", _invoice(sub)).status_code == 200
    local = Subscription.objects.get()
    assert local.status == "past_due" and local.past_due_since is not None
    assert any("payment failed" in m.subject.lower() for m in mail.outbox)
    assert access.user_entitlement(user).entitled
    client.force_login(user)
    assert "Payment failed — update your card" in client.get("/account/").content.decode()
    # A second failure does not restart the grace period.
    first_since = local.past_due_since
    deliver(client, "invoice.payment_failed", _invoice(sub))
    assert Subscription.objects.get().past_due_since == first_since
    local = Subscription.objects.get()
    local.past_due_since = timezone.now() - timedelta(days=4)  # the grace period has run out
    local.save()
    assert not access.user_entitlement(user).entitled
    # Card updated, invoice paid: access back, grace cleared.
    stripe_env.update_subscription(sub["id"], status="active")
    deliver(client, "invoice.paid", _invoice(sub))
    assert Subscription.objects.get().past_due_since is None
    assert access.user_entitlement(user).entitled


def test_cancel_at_period_end_keeps_access_until_the_end(client, stripe_env) -> None:
    user, sub = _new_subscriber(stripe_env, status="active")
    end = int(time.time()) + 5 * 86400
    stripe_env.update_subscription(sub["id"], cancel_at_period_end=True, current_period_end=end)
    deliver(client, "customer.subscription.updated", sub)
    local = Subscription.objects.get()
    assert local.cancel_at_period_end and int(local.current_period_end.timestamp()) == end
    assert access.user_entitlement(user).entitled
    client.force_login(user)
    page = client.get("/account/").content.decode()
    assert "will not renew" in page and "Manage billing" in page
    stripe_env.update_subscription(sub["id"], status="canceled", canceled_at=end)
    deliver(client, "customer.subscription.deleted", sub)
    assert not access.user_entitlement(user).entitled


def test_reconcile_fixes_missed_webhooks_and_is_safe_to_repeat(stripe_env) -> None:
    missed_user, missed = _new_subscriber(stripe_env)  # no webhook ever arrived
    changed_user, changed = _new_subscriber(stripe_env, status="active")
    billing.sync_subscription(changed)
    stripe_env.update_subscription(changed["id"], status="canceled", canceled_at=int(time.time()))
    stripe_env.make_subscription(billing.customer_for(make_user()), "price_someone_else")
    for _ in range(120):  # more than one page of the list
        stripe_env.make_subscription("cus_not_ours", "price_someone_else")

    call_command("stripe_reconcile")
    state = dict(Subscription.objects.values_list("stripe_subscription_id", "status"))
    assert state == {missed["id"]: "trialing", changed["id"]: "canceled"}
    assert access.user_entitlement(missed_user).entitled and not access.user_entitlement(changed_user).entitled
    call_command("stripe_reconcile")
    assert dict(Subscription.objects.values_list("stripe_subscription_id", "status")) == state
    assert _stat("trial_started") == 1


def test_subscription_living_in_localstripe_syncs_by_webhook_and_reconcile(client, stripe_env) -> None:
    """A subscription created and paid inside localstripe (legacy plan shape, a real
    invoice and card charge there) is read the same way as a Checkout one."""
    import stripe

    user = make_user()
    customer = billing.customer_for(user)
    price = _price()
    # Stripe-side setup: localstripe only knows Plans, so the plan carries our price id.
    product = stripe.Product.create(name="Ledger weekly (localstripe)")
    stripe.Plan.create(id=price, product=product.id, amount=50, currency="usd", interval="week")
    card = stripe.PaymentMethod.create(type="card", card={"number": "4242424242424242", "exp_month": 12,
                                                          "exp_year": 2035, "cvc": "123"})
    stripe.PaymentMethod.attach(card.id, customer=customer)
    stripe.Customer.modify(customer, invoice_settings={"default_payment_method": card.id})
    sub = stripe.Subscription.create(customer=customer, items=[{"plan": price}]).to_dict()
    assert sub["status"] == "active"

    assert deliver(client, "customer.subscription.created", sub).status_code == 200
    local = Subscription.objects.get(stripe_subscription_id=sub["id"])
    assert local.status == "active" and local.plan.code == "weekly" and local.current_period_end
    assert access.user_entitlement(user).entitled

    stripe.Subscription.delete(sub["id"])  # webhook missed: reconcile catches it
    call_command("stripe_reconcile")
    assert Subscription.objects.get(stripe_subscription_id=sub["id"]).status == "canceled"
    assert not access.user_entitlement(user).entitled


def test_invoice_events_in_the_older_api_shape_are_understood(client, stripe_env) -> None:
    user, sub = _new_subscriber(stripe_env, status="past_due")
    old_shape = {"id": "in_old", "object": "invoice", "customer": sub["customer"], "subscription": sub["id"]}
    assert deliver(client, "invoice.payment_failed", old_shape).status_code == 200
    assert Subscription.objects.get().status == "past_due"
