"""Billing admin: read-only subscriptions, complimentary grants, dashboard, no rights for editors."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from subscriptions import access, stats
from subscriptions.models import ComplimentaryAccess, Plan, Subscription
from subscriptions.stats import dashboard_numbers
from tests.conftest import make_subscription, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(db):
    return make_user("boss@example.com", is_staff=True, is_superuser=True)


def test_subscriptions_are_read_only_in_admin(client, boss, subscriber) -> None:
    client.force_login(boss)
    sub = Subscription.objects.get(user=subscriber)
    assert client.get("/admin/subscriptions/subscription/").status_code == 200
    page = client.get(f"/admin/subscriptions/subscription/{sub.pk}/change/")
    assert page.status_code == 200 and 'name="status"' not in page.content.decode()
    assert client.get("/admin/subscriptions/subscription/add/").status_code == 403
    client.post(f"/admin/subscriptions/subscription/{sub.pk}/change/", {"status": "canceled"})
    assert Subscription.objects.get(pk=sub.pk).status == "active"
    assert client.get("/admin/subscriptions/stripeevent/add/").status_code == 403


def test_staff_grant_complimentary_access_until_a_date(client, boss, free_reader) -> None:
    client.force_login(boss)
    until = timezone.localtime() + timedelta(days=10)
    resp = client.post("/admin/subscriptions/complimentaryaccess/add/", {
        "user": free_reader.pk, "until_0": until.strftime("%Y-%m-%d"), "until_1": "12:00:00", "note": "Press pass"})
    assert resp.status_code == 302, resp.content.decode()[:2000]
    grant = ComplimentaryAccess.objects.get(user=free_reader)
    assert grant.granted_by == boss and grant.note == "Press pass"
    assert access.user_entitlement(free_reader).entitled
    grant.until = timezone.now() - timedelta(minutes=1)  # staff end it early
    grant.save()
    assert not access.user_entitlement(free_reader).entitled


def test_editors_get_no_billing_rights(client, editor) -> None:
    client.force_login(editor)
    for url in ("/admin/subscriptions/subscription/", "/admin/subscriptions/plan/",
                "/admin/subscriptions/complimentaryaccess/", "/admin/subscriptions/plan/dashboard/"):
        assert client.get(url).status_code == 403, url
    assert "Subscriptions" not in client.get("/admin/").content.decode()


def test_publisher_dashboard_numbers(client, boss, plans) -> None:
    weekly, annual = Plan.objects.get(code="weekly"), Plan.objects.get(code="annual")
    for _ in range(3):
        stats.bump("paywall_view")
    stats.bump("trial_started", 2)
    stats.bump("trial_converted")
    make_subscription(make_user(), "active", plan=weekly)
    make_subscription(make_user(), "active", plan=annual)
    make_subscription(make_user(), "trialing", plan=weekly)
    make_subscription(make_user(), "canceled", plan=weekly, canceled_at=timezone.now(), has_paid=True)
    # Not churn: a duplicate the site cancelled, a trial that ended unpaid (tests/test_money_events.py).
    make_subscription(make_user(), "canceled", plan=weekly, canceled_at=timezone.now(), has_paid=True,
                      ended_by_site="duplicate")
    make_subscription(make_user(), "canceled", plan=weekly, canceled_at=timezone.now())
    numbers = dashboard_numbers()
    assert numbers["paywall_views"] == 3
    assert numbers["trials_started"] == 2 and numbers["trials_converted"] == 1
    assert numbers["active"] == 2 and numbers["trialing"] == 1 and numbers["churned"] == 1
    assert weekly.yearly_cents() == 2600  # $2.00 every 4 weeks
    expected = round(weekly.yearly_cents() / 12) + round(annual.yearly_cents() / 12)
    assert numbers["mrr"] == f"${expected / 100:,.2f}"
    assert numbers["churn_rate"] == "33.3%"
    client.force_login(boss)
    page = client.get("/admin/subscriptions/plan/dashboard/").content.decode()
    assert "Publisher dashboard" in page and numbers["mrr"] in page


def test_account_page_shows_plan_status_and_dates(client, stripe_env) -> None:
    from subscriptions import billing

    user = make_user()
    billing.customer_for(user)
    trial_end = timezone.localtime() + timedelta(days=9)
    make_subscription(user, "trialing", plan=Plan.objects.get(code="weekly"), trial_end=trial_end)
    client.force_login(user)
    page = client.get("/account/").content.decode()
    assert "Weekly" in page or "weekly" in page.lower()
    # In the reader's words ("Your free trial ends on December 18"), not Stripe's "trialing".
    assert f"Your free trial ends on {trial_end:%B} {trial_end.day}" in page and "Trialing" not in page
    assert "Free trial ends" in page
    assert "Next renewal" in page and "Manage billing" in page
    assert "Payment failed" not in page
