"""Pricing, Checkout, success page, portal and plan sync over real HTTP fakes."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone

from subscriptions import access, billing
from subscriptions.models import Plan, StripeCustomer, Subscription
from tests.conftest import make_subscription, make_user

pytestmark = pytest.mark.django_db


def _checkout(client: Client, plan: str = "weekly"):
    return client.post("/subscribe/checkout/", {"plan": plan})


def test_pricing_without_keys_tells_readers_soon_and_staff_what_to_set_up(client, settings) -> None:
    settings.STRIPE_SECRET_KEY = ""
    body = client.get("/subscribe/").content.decode()
    assert "Subscriptions are not open yet" in body
    assert "STRIPE_SECRET_KEY" not in body and "manage.py" not in body and "README" not in body
    # No way to a plan; what works instead is offered: a free account (no plan to come back to) and the digest.
    assert "/subscribe/checkout/" not in body and "/accounts/signup/?next" not in body
    assert 'href="/accounts/signup/"' in body and 'href="/newsletter/' in body
    assert "days free" not in body and "free trial" not in body.lower()
    client.force_login(make_user())
    assert "STRIPE_SECRET_KEY" not in client.get("/subscribe/").content.decode()
    client.force_login(make_user(is_staff=True))
    body = client.get("/subscribe/").content.decode()
    assert "STRIPE_SECRET_KEY" in body and "stripe_sync_plans" in body


def test_pricing_shows_plans_trial_terms_and_signup_with_way_back(client, stripe_env) -> None:
    body = client.get("/subscribe/?plan=weekly").content.decode()
    # Each plan's price said once: the headline and how it is billed, not again in the trial's terms.
    assert body.count("$0.50/week") == 1 and body.count("billed $2.00 every 4 weeks") == 1
    assert "14 days free: nothing is charged before day 15" in body
    assert "No ads" in body and "comments" in body
    assert "/accounts/signup/?next=%2Fsubscribe%2F%3Fplan%3Dweekly" in body
    assert "Subscriptions are not open yet" not in body
    assert 'class="plan plan--chosen" id="plan-weekly"' in body
    assert "Save $2.00 a year (8%) over weekly" in body  # annual $24.00 vs 52 weeks at $0.50


def test_checkout_without_keys_does_not_call_stripe(client, settings, stripe_fake) -> None:
    settings.STRIPE_SECRET_KEY = ""
    client.force_login(make_user())
    resp = _checkout(client)
    assert resp.status_code == 302 and resp["Location"] == "/subscribe/"
    assert StripeCustomer.objects.count() == 0


def test_checkout_needs_login_and_verified_email(client, stripe_env) -> None:
    resp = _checkout(client)
    assert resp.status_code == 302 and "/accounts/login/" in resp["Location"]
    client.force_login(make_user(verified=False))
    resp = _checkout(client)
    assert resp.status_code == 302 and resp["Location"] == "/accounts/email/"
    assert stripe_env.sessions == {}


def test_full_checkout_trial_then_success_page_grants_access(
    client, stripe_env, django_capture_on_commit_callbacks
) -> None:
    user = make_user()
    client.force_login(user)
    resp = _checkout(client)
    assert resp.status_code == 303
    (session,) = stripe_env.sessions.values()
    assert resp["Location"] == session["url"]
    params = session["_params"]
    plan = Plan.objects.get(code="weekly")
    assert params["line_items"] == [{"price": plan.stripe_price_id, "quantity": "1"}]
    assert params["client_reference_id"] == str(user.pk)
    assert params["metadata"]["user_id"] == str(user.pk)
    assert params["subscription_data"]["trial_period_days"] == "14"
    assert params["subscription_data"]["trial_settings"]["end_behavior"]["missing_payment_method"] == "cancel"
    assert params["customer"] == user.stripe_customer.customer_id

    # Before paying, the success URL grants nothing even with a session id.
    client.get(session["success_url"].replace("http://testserver", ""))
    assert not access.user_entitlement(user).entitled

    stripe_env.complete_checkout(session["id"])
    with django_capture_on_commit_callbacks(execute=True):
        page = client.get(session["success_url"].replace("http://testserver", ""))
    assert "Welcome aboard" in page.content.decode()
    assert "Your free trial has started" in page.content.decode() and "trialing" not in page.content.decode()
    sub = Subscription.objects.get(user=user)
    assert sub.status == "trialing" and sub.plan == plan
    assert sub.trial_end > timezone.now() + timedelta(days=13)
    assert access.user_entitlement(user).entitled
    assert [m.to for m in mail.outbox] == [[user.email]]
    assert mail.outbox[0].subject == "[The Ledger] Your free trial has started"


def test_success_page_ignores_someone_elses_or_unknown_session(client, stripe_env) -> None:
    owner, other = make_user(), make_user()
    client.force_login(owner)
    _checkout(client)
    (session,) = stripe_env.sessions.values()
    stripe_env.complete_checkout(session["id"])
    client.force_login(other)
    client.get(f"/subscribe/success/?session_id={session['id']}")
    client.get("/subscribe/success/?session_id=cs_test_forged")
    assert not Subscription.objects.exists()
    assert not access.user_entitlement(other).entitled


@pytest.mark.django_db(transaction=True)
def test_double_click_checkout_gives_one_session_and_one_customer(stripe_env) -> None:
    user = make_user()
    locations: list[str] = []
    barrier = threading.Barrier(2)

    def click() -> None:
        c = Client()
        c.force_login(user)
        barrier.wait()
        try:
            locations.append(_checkout(c)["Location"])
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len(locations) == 2 and locations[0] == locations[1]
    assert len(stripe_env.sessions) == 1
    assert StripeCustomer.objects.filter(user=user).count() == 1
    # Stripe saw exactly one customer creation reach localstripe.
    customers = {p.get("metadata", {}).get("user_id") for m, path, p in stripe_env.requests
                 if m == "POST" and path == "/v1/customers"}
    assert customers == {str(user.pk)}


def test_customer_is_created_once_and_reused(client, stripe_env) -> None:
    user = make_user()
    first = billing.customer_for(user)
    assert billing.customer_for(user) == first
    assert stripe_env.count("POST", "/v1/customers") == 1


def test_active_subscriber_cannot_buy_twice(client, stripe_env) -> None:
    for status in ("active", "trialing", "past_due", "unpaid", "paused"):
        user = make_user()
        make_subscription(user, status)
        client.force_login(user)
        resp = _checkout(client)
        assert resp.status_code == 302 and resp["Location"] == "/account/"
    assert stripe_env.sessions == {}


def test_resubscribe_after_cancel_works_without_a_second_trial(client, stripe_env) -> None:
    user = make_user()
    client.force_login(user)
    _checkout(client)
    (first,) = stripe_env.sessions.values()
    sub = stripe_env.complete_checkout(first["id"])
    client.get(f"/subscribe/success/?session_id={first['id']}")
    stripe_env.update_subscription(sub["id"], status="canceled", canceled_at=int(timezone.now().timestamp()))
    billing.sync_subscription({"id": sub["id"], **sub})
    assert not access.user_entitlement(user).entitled

    resp = _checkout(client, "annual")
    assert resp.status_code == 303
    second = next(s for s in stripe_env.sessions.values() if s["id"] != first["id"])
    assert second["customer"] == first["customer"]  # same Stripe customer
    assert "trial_period_days" not in second["_params"].get("subscription_data", {})
    stripe_env.complete_checkout(second["id"])
    client.get(f"/subscribe/success/?session_id={second['id']}")
    assert Subscription.objects.filter(user=user).count() == 2
    assert Subscription.objects.get(user=user, status="active").plan.code == "annual"
    assert access.user_entitlement(user).entitled


def test_portal_redirects_to_stripe_for_own_customer(client, stripe_env) -> None:
    user = make_user()
    client.force_login(user)
    resp = client.post("/account/billing/")
    assert resp.status_code == 302 and resp["Location"] == "/account/"  # no customer yet
    customer = billing.customer_for(user)
    resp = client.post("/account/billing/")
    assert resp.status_code == 303
    (portal,) = stripe_env.portal_sessions.values()
    assert resp["Location"] == portal["url"]
    assert portal["customer"] == customer and portal["return_url"] == "http://testserver/account/"
    assert client.get("/account/billing/").status_code == 405


def test_sync_plans_twice_creates_each_price_once(stripe_env) -> None:
    from django.core.management import call_command

    before = dict(Plan.objects.values_list("code", "stripe_price_id"))
    assert all(before.values())
    call_command("stripe_sync_plans")
    assert dict(Plan.objects.values_list("code", "stripe_price_id")) == before
    assert stripe_env.count("POST", "/v1/prices") == Plan.objects.filter(is_active=True).count()
    price = stripe_env.prices[before["weekly"]]
    assert price["unit_amount"] == 200 and price["recurring"] == {"interval": "week", "interval_count": 4}


def test_success_page_survives_a_stripe_outage(client, stripe_env) -> None:
    user = make_user()
    client.force_login(user)
    _checkout(client)
    (session,) = stripe_env.sessions.values()
    stripe_env.complete_checkout(session["id"])
    stripe_env.fail_next = 10
    page = client.get(f"/subscribe/success/?session_id={session['id']}")
    assert page.status_code == 200 and "Almost there" in page.content.decode()
    assert not access.user_entitlement(user).entitled
    stripe_env.fail_next = 0
    client.get(f"/subscribe/success/?session_id={session['id']}")
    assert access.user_entitlement(user).entitled


def test_management_commands_refuse_without_keys(settings) -> None:
    from django.core.management import CommandError, call_command

    settings.STRIPE_SECRET_KEY = ""
    for name in ("stripe_sync_plans", "stripe_reconcile"):
        with pytest.raises(CommandError, match="STRIPE_SECRET_KEY"):
            call_command(name)


def test_account_page_without_subscription_offers_to_subscribe(client, settings) -> None:
    settings.STRIPE_SECRET_KEY = ""
    client.force_login(make_user())
    page = client.get("/account/").content.decode()
    assert "You don't have a subscription" in page and "Manage billing" not in page


def test_a_stripe_outage_does_not_block_the_reader_once_stripe_is_back(client, stripe_env) -> None:
    """Stripe keeps a 500 for its idempotency key; the next attempt must use a fresh key."""
    user = make_user()
    client.force_login(user)
    for path in ("/v1/customers", "/v1/checkout/sessions"):
        stripe_env.fail_next = 1  # the library's own retries get the stored 500 replayed
        resp = _checkout(client)
        assert resp.status_code == 302 and resp["Location"] == "/subscribe/"
        assert stripe_env.count("POST", path) == 3
        billing.customer_for(user)  # the customer's next attempt has a fresh key
    assert stripe_env.sessions == {}
    resp = _checkout(client)  # Stripe healthy again
    assert resp.status_code == 303
    assert len(stripe_env.sessions) == 1


def test_a_new_checkout_expires_the_readers_earlier_session_and_any_expires_in_30_minutes(client, stripe_env) -> None:
    client.force_login(make_user())
    first = _checkout(client, "weekly")["Location"]
    second = _checkout(client, "annual")["Location"]
    assert first != second
    by_url = {s["url"]: s for s in stripe_env.sessions.values()}
    assert by_url[first]["status"] == "expired" and by_url[second]["status"] == "open"
    with pytest.raises(ValueError, match="expired"):
        stripe_env.complete_checkout(by_url[first]["id"])
    assert 30 * 60 <= by_url[second]["expires_at"] - by_url[second]["created"] <= 32 * 60
    stripe_env.advance(32 * 60)
    with pytest.raises(ValueError, match="expired"):
        stripe_env.complete_checkout(by_url[second]["id"])
