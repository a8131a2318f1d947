"""Prices that can't drift from Stripe: the plan's wording, a price change made
in the admin, price history, lookup keys, and the money the dashboard reports."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client

from subscriptions import access, billing
from subscriptions.models import Plan, PlanPrice, Subscription
from subscriptions.stats import dashboard_numbers
from tests.conftest import make_article, make_subscription, make_user
from tests.conftest_billing import deliver

pytestmark = pytest.mark.django_db


def _deliver_all(client: Client, events: list[dict]) -> None:
    for event in events:
        assert deliver(client, event["type"], event["data"]["object"], event["id"]).status_code == 200


def test_the_price_is_worded_one_way_everywhere(client, stripe_env, django_capture_on_commit_callbacks) -> None:
    weekly, annual = Plan.objects.get(code="weekly"), Plan.objects.get(code="annual")
    label = "$0.50/week, billed $2.00 every 4 weeks"
    assert weekly.price_label() == label and annual.price_label() == "$24.00/year"
    from articles.models import Article

    article = make_article(access=Article.Access.SUBSCRIBERS)
    assert label in client.get(article.get_absolute_url()).content.decode()  # the paywall
    page = client.get("/subscribe/").content.decode()  # the card sets the two parts apart
    amount, billed = "$0.50/week", "billed $2.00 every 4 weeks"
    assert f'<span class="plan__amount">{amount}</span><span class="plan__billed">{billed}</span>' in page
    user = make_user()
    client.force_login(user)
    client.post("/subscribe/checkout/", {"plan": "weekly"})
    (session,) = stripe_env.sessions.values()
    stripe_env.complete_checkout(session["id"])
    with django_capture_on_commit_callbacks(execute=True):
        _deliver_all(client, stripe_env.events)
    # A subscriber is told the price their subscription is billed at, in the words of the bill.
    assert "$2.00 every 4 weeks" in client.get("/account/").content.decode()
    assert "$2.00 every 4 weeks" in mail.outbox[-1].body  # the welcome email


def _change_weekly_in_admin(client: Client, amount_cents: int):
    weekly = Plan.objects.get(code="weekly")
    form = {"code": "weekly", "name": weekly.name, "amount_cents": amount_cents, "currency": "usd",
            "interval": "week", "interval_count": 4, "trial_days": 14, "is_default": "on", "is_active": "on",
            "position": 0}
    return client.post(f"/admin/subscriptions/plan/{weekly.pk}/change/", form)


def test_a_price_change_shows_only_once_stripe_has_it_and_old_subscribers_keep_reading(stripe_env) -> None:
    admin = Client()
    admin.force_login(make_user("boss@example.com", is_staff=True, is_superuser=True))
    old_price = Plan.objects.get(code="weekly").stripe_price_id
    # An existing subscriber on the old price.
    old_reader = make_user()
    old_sub = stripe_env.make_subscription(billing.customer_for(old_reader), old_price, status="active",
                                           payment_method="pm_old")
    reader = Client()
    assert deliver(reader, "customer.subscription.created", old_sub).status_code == 200

    stripe_env.fail_next = 10  # Stripe is down: the change must not happen
    page = _change_weekly_in_admin(admin, 300)
    assert page.status_code == 200 and "Stripe did not take the new price" in page.content.decode()
    weekly = Plan.objects.get(code="weekly")
    assert (weekly.amount_cents, weekly.stripe_price_id) == (200, old_price)
    assert "$2.00 every 4 weeks" in reader.get("/subscribe/").content.decode()

    stripe_env.fail_next = 0
    assert _change_weekly_in_admin(admin, 300).status_code == 302
    weekly = Plan.objects.get(code="weekly")
    new_price = weekly.stripe_price_id
    assert new_price != old_price and weekly.amount_cents == 300
    assert stripe_env.prices[new_price]["unit_amount"] == 300
    assert stripe_env.prices[new_price]["lookup_key"] == "ledger_weekly"
    assert stripe_env.prices[old_price]["active"] is False and stripe_env.prices[old_price]["lookup_key"] is None
    assert set(weekly.prices.values_list("stripe_price_id", flat=True)) == {old_price, new_price}
    page = reader.get("/subscribe/").content.decode()
    assert "$0.75/week</span>" in page and "billed $3.00 every 4 weeks</span>" in page

    # A new reader buys at the new price, side by side with the old one.
    new_reader = make_user()
    reader.force_login(new_reader)
    reader.post("/subscribe/checkout/", {"plan": "weekly"})
    (session,) = stripe_env.sessions.values()
    assert session["_params"]["line_items"] == [{"price": new_price, "quantity": "1"}]
    stripe_env.complete_checkout(session["id"])
    # Time passes: both renew, each at the price they bought.
    events = stripe_env.advance(29 * 86400)
    _deliver_all(reader, events)
    charged = sorted(e["data"]["object"]["amount_paid"] for e in events if e["type"] == "invoice.paid")
    assert 200 in charged and 300 in charged
    for user in (old_reader, new_reader):
        sub = Subscription.objects.get(user=user)
        assert sub.status == "active" and sub.plan == weekly
        assert access.user_entitlement(user).entitled


def test_a_plan_in_use_cannot_be_deleted(client, stripe_env) -> None:
    client.force_login(make_user("boss@example.com", is_staff=True, is_superuser=True))
    weekly = Plan.objects.get(code="weekly")
    assert client.post(f"/admin/subscriptions/plan/{weekly.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Plan.objects.filter(pk=weekly.pk).exists()
    unsold = Plan.objects.create(code="trial-balloon", name="Balloon", amount_cents=100)
    assert client.post(f"/admin/subscriptions/plan/{unsold.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not Plan.objects.filter(pk=unsold.pk).exists()


def test_sync_plans_adopts_the_price_holding_the_lookup_key(stripe_env) -> None:
    """A restored database (or a second site) has no price ids: sync finds them, creates nothing."""
    before = dict(Plan.objects.values_list("code", "stripe_price_id"))
    PlanPrice.objects.all().delete()
    Plan.objects.update(stripe_price_id="", stripe_product_id="")
    prices_before = len(stripe_env.prices)
    call_command("stripe_sync_plans")
    assert dict(Plan.objects.values_list("code", "stripe_price_id")) == before
    assert len(stripe_env.prices) == prices_before and stripe_env.count("POST", "/v1/products") == 2


def test_a_known_subscription_on_an_unknown_price_still_follows_stripe_and_staff_are_told(client, stripe_env, settings, django_capture_on_commit_callbacks) -> None:  # noqa: E501
    settings.ADMINS = [("Ops", "ops@example.com")]
    user = make_user()
    sub = stripe_env.make_subscription(billing.customer_for(user), Plan.objects.get(code="weekly").stripe_price_id)
    deliver(client, "customer.subscription.created", sub)
    # Someone switched the price in Stripe's dashboard, then the reader cancelled.
    foreign = {"id": "price_dashboard", "object": "price", "unit_amount": 999, "currency": "usd",
               "recurring": {"interval": "month", "interval_count": 1}, "product": "prod_x"}
    sub["items"]["data"][0]["price"] = foreign
    stripe_env.update_subscription(sub["id"], cancel_at_period_end=True)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, "customer.subscription.updated", sub).status_code == 200
    local = Subscription.objects.get()
    assert local.cancel_at_period_end and local.plan.code == "weekly"
    assert any("unknown price" in m.subject and m.to == ["ops@example.com"] for m in mail.outbox)


def test_the_dashboard_reports_revenue_net_of_stripes_fees(client, stripe_env) -> None:
    user = make_user()
    make_subscription(user, "canceled")  # no trial for a returning reader
    client.force_login(user)
    client.post("/subscribe/checkout/", {"plan": "annual"})
    (session,) = stripe_env.sessions.values()
    stripe_env.complete_checkout(session["id"])
    (txn,) = stripe_env.balance_transactions
    assert txn["amount"] == 2400 and txn["fee"] == 100  # 2.9% + 30¢
    revenue = dashboard_numbers()["revenue"]
    assert revenue == {"usd": {"gross": "$24.00", "refunds": "$0.00", "disputes": "$0.00", "fees": "$1.00",
                               "net": "$23.00"}}
