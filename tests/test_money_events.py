"""Money right in every Stripe event (issue 26), tried as a newsroom's finance person would.

Each test walks one event against the strict fake over real HTTP, delivers what
Stripe sent signed with Stripe's scheme, and compares the reader's access and the
dashboard's figures with what Stripe holds afterwards. The ones marked with
`order` deliver the same events in order, in reverse, and twice over shuffled:
each ends in the same state, because every handler fetches Stripe's current
objects before it writes.
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
import stripe
from django.core import mail
from django.test import Client

from subscriptions import access, billing, stats
from subscriptions.models import Plan, StripeCustomer, Subscription, TrialClaim
from tests.conftest import make_article, make_user
from tests.conftest_billing import deliver, pay_at_checkout
from tests.stripe_fake import StripeFake

pytestmark = pytest.mark.django_db

ORDERS = ["in order", "reversed", "twice shuffled"]
PER_MONTH = {"day": 365 / 12, "week": 52 / 12, "month": 1, "year": 1 / 12}


def settle(client: Client, fake: StripeFake, order: str = "in order") -> None:
    """Deliver every event Stripe has sent so far, as Stripe might: in order, reversed, or twice over shuffled."""
    events = list(fake.events)
    if order == "reversed":
        events.reverse()
    elif order == "twice shuffled":
        events = events * 2
        random.Random(26).shuffle(events)
    for event in events:
        assert deliver(client, event["type"], event["data"]["object"], event["id"]).status_code == 200, event["type"]


def subscribe(fake: StripeFake, plan: str = "weekly", *, trial: bool = False, user=None):
    """A verified reader pays on Checkout through the site; nothing is delivered yet."""
    return pay_at_checkout(fake, plan, trial=trial, user=user)


def a_minute_later() -> None:
    """Past the minute in which a second click reuses the first Checkout attempt (billing._attempt)."""
    from django.core.cache import cache

    cache.clear()


def charge_of(fake: StripeFake, sub: dict) -> str:
    """The payment intent that paid the subscription's latest invoice."""
    invoice = fake.invoices[sub["latest_invoice"]]
    return invoice["payments"]["data"][0]["payment"]["payment_intent"]


def stripe_truth(fake: StripeFake) -> dict:
    """What Stripe's own records say the dashboard should: MRR per currency and the month's money."""
    mrr: dict[str, float] = {}
    for sub in fake.subscriptions.values():
        if sub["status"] in ("active", "past_due") and not sub.get("pause_collection"):
            price = sub["items"]["data"][0]["price"]
            rec = price["recurring"]
            monthly = price["unit_amount"] * PER_MONTH[rec["interval"]] / rec["interval_count"]
            mrr[price["currency"]] = mrr.get(price["currency"], 0) + monthly
    money: dict[str, dict[str, int]] = {}
    for txn in fake.balance_transactions:
        row = money.setdefault(txn["currency"], {"gross": 0, "refunds": 0, "disputes": 0, "fees": 0, "net": 0})
        if txn["type"] == "charge":
            row["gross"] += txn["amount"]
        elif txn["type"] == "refund":
            row["refunds"] -= txn["amount"]
        else:
            row["disputes"] -= txn["amount"]
        row["fees"] += txn["fee"]
        row["net"] += txn["net"]
    return {"mrr": {c: round(v) for c, v in mrr.items()}, "money": money}


def dashboard(cache_clear: bool = True) -> dict:
    if cache_clear:
        from django.core.cache import cache

        cache.clear()  # the dashboard keeps Stripe's figures a few minutes; these tests read them afresh
    return stats.dashboard_numbers()


def assert_dashboard_matches_stripe(fake: StripeFake) -> None:
    truth = stripe_truth(fake)
    numbers = dashboard()
    assert numbers["mrr_cents"] == truth["mrr"]
    assert numbers["revenue_cents"] == truth["money"]
    for row in numbers["revenue_cents"].values():
        assert row["net"] == row["gross"] - row["refunds"] - row["disputes"] - row["fees"]


# --- refunds and disputes -------------------------------------------------------------------------


@pytest.mark.parametrize("order", ORDERS)
def test_a_full_refund_of_the_latest_invoice_ends_access_and_stops_the_renewals(client, stripe_env, order) -> None:
    user, _, sub = subscribe(stripe_env)
    stripe_env.refund(charge_of(stripe_env, sub))
    settle(client, stripe_env, order)
    assert stripe_env.subscriptions[sub["id"]]["status"] == "canceled"  # the card is not charged again
    assert Subscription.objects.get(stripe_subscription_id=sub["id"]).status == "canceled"
    assert not access.user_entitlement(user).entitled
    stripe_env.advance(30 * 86400)
    assert len(stripe_env.charges) == 1
    assert_dashboard_matches_stripe(stripe_env)
    assert dashboard()["revenue_cents"]["usd"]["refunds"] == 200


def test_a_partial_refund_changes_only_the_figures(client, stripe_env) -> None:
    user, _, sub = subscribe(stripe_env)
    stripe_env.refund(charge_of(stripe_env, sub), amount=50)
    settle(client, stripe_env)
    assert stripe_env.subscriptions[sub["id"]]["status"] == "active"
    assert access.user_entitlement(user).entitled
    assert_dashboard_matches_stripe(stripe_env)
    money = dashboard()["revenue_cents"]["usd"]
    assert money["refunds"] == 50 and money["net"] == 200 - 36 - 50


@pytest.mark.parametrize("order", ORDERS)
def test_a_dispute_ends_access_cancels_and_is_subtracted_with_its_fee(client, stripe_env, order) -> None:
    user, _, sub = subscribe(stripe_env, "annual")
    dispute = stripe_env.dispute(charge_of(stripe_env, sub))
    settle(client, stripe_env, order)
    assert stripe_env.subscriptions[sub["id"]]["status"] == "canceled"
    assert not access.user_entitlement(user).entitled
    money = dashboard()["revenue_cents"]["usd"]
    assert money["disputes"] == 2400 and money["fees"] == 100 + 1500
    assert money["net"] == 2400 - 100 - 2400 - 1500
    assert_dashboard_matches_stripe(stripe_env)
    # Won: the money comes back (Stripe keeps its fee); the reader's access does not.
    stripe_env.close_dispute(dispute["id"], won=True)
    settle(client, stripe_env, order)
    assert not access.user_entitlement(user).entitled
    assert dashboard()["revenue_cents"]["usd"]["disputes"] == 0
    assert_dashboard_matches_stripe(stripe_env)


def test_a_refund_of_an_older_invoice_leaves_the_subscription(client, stripe_env) -> None:
    user, _, sub = subscribe(stripe_env)
    first = charge_of(stripe_env, sub)
    stripe_env.advance(28 * 86400 + 60)  # renewed: a newer invoice is the latest
    stripe_env.refund(first)
    settle(client, stripe_env)
    assert stripe_env.subscriptions[sub["id"]]["status"] == "active"
    assert access.user_entitlement(user).entitled
    assert_dashboard_matches_stripe(stripe_env)


# --- pauses and readers who want to pay again ---------------------------------------------------


@pytest.mark.parametrize("order", ORDERS)
def test_paused_collection_stops_access_until_it_resumes(client, stripe_env, order) -> None:
    user, _, sub = subscribe(stripe_env)
    stripe_env.pause_collection(sub["id"])
    settle(client, stripe_env, order)
    assert stripe_env.subscriptions[sub["id"]]["status"] == "active"  # Stripe's status does not change
    assert not access.user_entitlement(user).entitled
    assert_dashboard_matches_stripe(stripe_env)  # no MRR from a subscription that pays nothing
    stripe_env.pause_collection(sub["id"], None)
    settle(client, stripe_env, order)
    assert access.user_entitlement(user).entitled
    assert_dashboard_matches_stripe(stripe_env)


def test_unpaid_paused_and_collection_paused_readers_are_given_a_way_to_pay(client, stripe_env) -> None:
    unpaid, unpaid_client, unpaid_sub = subscribe(stripe_env)
    stripe_env.declining.add(unpaid_sub["customer"])
    stripe_env.advance(60 * 86400)
    # A test clock moves only the customers on it: Checkout Sessions made from here on are on real time.
    stripe_env.offset = 0
    paused, paused_client, paused_sub = subscribe(stripe_env)
    stripe_env.pause_collection(paused_sub["id"])
    settle(client, stripe_env)
    assert stripe_env.subscriptions[unpaid_sub["id"]]["status"] == "unpaid"
    for user, reader, sub in ((unpaid, unpaid_client, unpaid_sub), (paused, paused_client, paused_sub)):
        assert not access.user_entitlement(user).entitled
        answer = reader.post("/subscribe/checkout/", {"plan": "weekly"})
        assert answer.status_code == 303 and answer["Location"].startswith(stripe_env.base + "/pay/"), user
        # The dead subscription is ended in Stripe first, so paying cannot leave two.
        assert stripe_env.subscriptions[sub["id"]]["status"] == "canceled"
        session = next(s for s in stripe_env.sessions.values() if s["url"] == answer["Location"])
        assert session["_trial_days"] is None  # they have had their trial
        stripe_env.declining.discard(sub["customer"])
        stripe_env.complete_checkout(session["id"])
    settle(client, stripe_env)
    assert access.user_entitlement(unpaid).entitled and access.user_entitlement(paused).entitled
    assert dashboard()["churned"] == 0  # both stayed
    assert_dashboard_matches_stripe(stripe_env)


# --- deleted customers ------------------------------------------------------------------------------


@pytest.mark.parametrize("order", ORDERS)
def test_a_reader_whose_customer_was_deleted_can_subscribe_again(client, stripe_env, order) -> None:
    user, reader, sub = subscribe(stripe_env)
    old_customer = sub["customer"]
    stripe_env.delete_customer(old_customer)
    settle(client, stripe_env, order)
    assert not StripeCustomer.objects.filter(customer_id=old_customer).exists()
    assert not access.user_entitlement(user).entitled
    a_minute_later()
    answer = reader.post("/subscribe/checkout/", {"plan": "weekly"})
    assert answer.status_code == 303 and answer["Location"].startswith(stripe_env.base + "/pay/")
    assert StripeCustomer.objects.get(user=user).customer_id != old_customer


def test_checkout_recovers_from_a_deleted_customer_whose_webhook_was_lost_and_staff_are_told(
    stripe_env, settings, caplog, django_capture_on_commit_callbacks
) -> None:
    settings.ADMINS = [("Ops", "ops@example.com")]
    user, reader, sub = subscribe(stripe_env)
    stripe.Subscription.cancel(sub["id"])  # the reader left; later staff tidy up the customers
    settle(Client(), stripe_env)
    old_customer = sub["customer"]
    stripe_env.delete_customer(old_customer)  # its events never arrive
    a_minute_later()
    with django_capture_on_commit_callbacks(execute=True):
        answer = reader.post("/subscribe/checkout/", {"plan": "weekly"})
    assert answer.status_code == 303 and answer["Location"].startswith(stripe_env.base + "/pay/")
    assert StripeCustomer.objects.get(user=user).customer_id != old_customer
    assert any("No such customer" in r.getMessage() or old_customer in r.getMessage() for r in caplog.records)
    assert any(old_customer in m.body for m in mail.outbox if m.to == ["ops@example.com"])


# --- a Stripe account shared with another site -------------------------------------------------------


def test_a_checkout_another_site_made_opens_nothing_here(client, stripe_env, settings) -> None:
    settings.STRIPE_SITE_ID = "news.example"
    ours = make_user()
    # The other site (or staging) made the customer and session; its reader's id happens to be ours.
    theirs = stripe.Customer.create(email="someone@elsewhere.example", metadata={"site": "staging.example"})
    session = stripe.checkout.Session.create(
        mode="subscription",
        customer=theirs.id,
        client_reference_id=str(ours.pk),
        metadata={"site": "staging.example"},
        line_items=[{"price": Plan.objects.get(code="weekly").stripe_price_id, "quantity": 1}],
        subscription_data={"metadata": {"site": "staging.example"}},
        success_url="https://staging.example/thanks/",
        cancel_url="https://staging.example/",
    )
    stripe_env.complete_checkout(session.id)
    settle(client, stripe_env)
    assert not StripeCustomer.objects.filter(user=ours).exists()
    assert not Subscription.objects.filter(user=ours).exists()
    assert not access.user_entitlement(ours).entitled


def test_what_this_site_creates_in_stripe_carries_its_site_id(client, stripe_env, settings) -> None:
    settings.STRIPE_SITE_ID = "news.example"
    user, _, sub = subscribe(stripe_env)
    session = next(iter(stripe_env.sessions.values()))
    assert session["metadata"]["site"] == "news.example"
    assert sub["metadata"]["site"] == "news.example"
    customer = stripe.Customer.retrieve(sub["customer"])
    assert customer.metadata["site"] == "news.example"
    settle(client, stripe_env)
    assert access.user_entitlement(user).entitled


# --- the plan admin -------------------------------------------------------------------------------------


def _plan_form(plan: Plan, **changes) -> dict:
    data = {
        "code": plan.code,
        "name": plan.name,
        "amount_cents": plan.amount_cents,
        "currency": plan.currency,
        "interval": plan.interval,
        "interval_count": plan.interval_count,
        "trial_days": plan.trial_days,
        "position": plan.position,
        "is_active": "on",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_an_invalid_plan_form_changes_nothing_in_stripe(client, stripe_env) -> None:
    client.force_login(make_user(is_staff=True, is_superuser=True))
    weekly = Plan.objects.get(code="weekly")
    prices_before = stripe_env.count("POST", "/v1/prices")
    # A new price, but the code of another plan: Django's uniqueness check refuses the form.
    page = client.post(
        f"/admin/subscriptions/plan/{weekly.pk}/change/", _plan_form(weekly, code="annual", amount_cents=1000)
    )
    assert page.status_code == 200 and "already exists" in page.content.decode()
    assert stripe_env.count("POST", "/v1/prices") == prices_before
    assert stripe_env.prices[weekly.stripe_price_id]["active"]
    assert Plan.objects.get(pk=weekly.pk).amount_cents == 200


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"interval": "month", "interval_count": 37}, "three years"),
        ({"trial_days": 731}, "730"),
        ({"amount_cents": 30}, "minimum"),
        ({"currency": "xyz"}, "not charge in the currency XYZ"),
    ],
)
def test_the_admin_refuses_terms_stripe_refuses(client, stripe_env, changes, message) -> None:
    client.force_login(make_user(is_staff=True, is_superuser=True))
    weekly = Plan.objects.get(code="weekly")
    prices_before = stripe_env.count("POST", "/v1/prices")
    page = client.post(f"/admin/subscriptions/plan/{weekly.pk}/change/", _plan_form(weekly, **changes))
    assert page.status_code == 200 and message in page.content.decode()
    assert stripe_env.count("POST", "/v1/prices") == prices_before  # refused here, before asking Stripe
    assert Plan.objects.get(pk=weekly.pk).terms() == weekly.terms()


def test_sync_plans_repairs_a_plan_whose_price_is_inactive(client, stripe_env) -> None:
    weekly = Plan.objects.get(code="weekly")
    stripe.Price.modify(weekly.stripe_price_id, active=False)  # archived in Stripe's dashboard
    billing.sync_plans()
    weekly.refresh_from_db()
    assert stripe_env.prices[weekly.stripe_price_id]["active"]
    user, _, sub = subscribe(stripe_env)
    settle(client, stripe_env)
    assert access.user_entitlement(user).entitled


# --- renewals that need the card holder -----------------------------------------------------------------


def test_a_renewal_that_needs_authentication_emails_the_link_to_authenticate(
    client, stripe_env, django_capture_on_commit_callbacks
) -> None:
    user, _, sub = subscribe(stripe_env)
    stripe_env.needs_action.add(sub["customer"])
    stripe_env.advance(28 * 86400 + 60)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        settle(client, stripe_env, "twice shuffled")
    invoice = stripe_env.invoices[stripe_env.subscriptions[sub["id"]]["latest_invoice"]]
    to_reader = [m for m in mail.outbox if m.to == [user.email]]
    assert len(to_reader) == 1, [m.subject for m in to_reader]
    assert invoice["hosted_invoice_url"] in to_reader[0].body
    assert "authenticate" in to_reader[0].body.lower() or "confirm" in to_reader[0].body.lower()


# --- trials -----------------------------------------------------------------------------------------------


def test_a_reader_who_had_a_trial_is_not_offered_one_before_checkout(client, stripe_env, settings) -> None:
    settings.PAGE_CACHE_SECONDS = 300
    user = make_user()
    TrialClaim.objects.create(
        kind=TrialClaim.Kind.EMAIL,
        digest=billing._digest(user.email),
        stripe_subscription_id="sub_of_a_deleted_account",
    )
    newcomer = make_user()
    article = make_article(access="subscribers")
    for reader, offered in ((newcomer, True), (user, False), (newcomer, True)):
        client.force_login(reader)
        paywall = client.get(article.get_absolute_url()).content.decode()
        pricing = client.get("/subscribe/").content.decode()
        assert ("free trial" in paywall) is offered, reader
        assert ("free trial" in pricing.lower()) is offered, reader


# --- a second subscription, and grace after an outage ----------------------------------------------------


def test_a_second_subscription_that_starts_incomplete_is_refused_once_it_is_active(client, stripe_env) -> None:
    user, _, first = subscribe(stripe_env)
    settle(client, stripe_env)
    second = stripe_env.make_subscription(
        first["customer"],
        Plan.objects.get(code="annual").stripe_price_id,
        status="incomplete",
        payment_method=first["default_payment_method"],
    )
    assert deliver(client, "customer.subscription.created", second).status_code == 200
    stripe_env.update_subscription(second["id"], status="active")
    assert deliver(client, "customer.subscription.updated", second).status_code == 200
    assert stripe_env.subscriptions[second["id"]]["status"] == "canceled"
    assert stripe_env.subscriptions[first["id"]]["status"] == "active"
    assert Subscription.objects.live().filter(user=user).count() == 1


def test_grace_is_counted_from_stripes_failed_invoice_not_from_when_the_site_heard(
    client, stripe_env, settings
) -> None:
    settings.PAST_DUE_GRACE_DAYS = 3
    user, _, sub = subscribe(stripe_env)
    settle(client, stripe_env)
    stripe_env.events.clear()
    stripe_env.declining.add(sub["customer"])
    stripe_env.advance(28 * 86400 + 60)  # the renewal fails; the webhook endpoint is down
    failed_at = stripe_env.invoices[stripe_env.subscriptions[sub["id"]]["latest_invoice"]]["created"]
    stripe_env.update_subscription(sub["id"], _next_retry=None)
    stripe_env.advance(4 * 86400)  # the site hears nothing for four days
    settle(client, stripe_env)
    local = Subscription.objects.get(stripe_subscription_id=sub["id"])
    assert local.status == "past_due"
    assert abs(local.past_due_since.timestamp() - failed_at) < 5
    # Four days after the failure a three-day grace is over (the fake's clock runs ahead of ours).
    assert not local.in_grace(local.past_due_since + timedelta(days=4))


# --- numbers staff can trust ---------------------------------------------------------------------------------


def test_mrr_is_what_each_subscriber_pays_per_month_per_currency(client, stripe_env) -> None:
    subscribe(stripe_env, "weekly")  # $2.00 every 4 weeks
    subscribe(stripe_env, "annual")  # $24.00 a year
    weekly = Plan.objects.get(code="weekly")
    billing.plan_change_price(weekly, amount_cents=1000, currency="usd", interval="week", interval_count=4)
    weekly.save()
    subscribe(stripe_env, "weekly")  # $10.00 every 4 weeks
    Plan.objects.create(code="euro", name="Euro monthly", amount_cents=900, currency="eur", interval="month")
    billing.sync_plans()
    subscribe(stripe_env, "euro")
    Plan.objects.update(trial_days=14)
    subscribe(stripe_env, "annual", trial=True)  # trialing: 0
    settle(client, stripe_env)
    for sub in stripe_env.subscriptions.values():
        billing.sync_subscription(sub)
    numbers = dashboard()
    assert numbers["mrr_cents"] == {"usd": round(200 * 13 / 12 + 200 + 1000 * 13 / 12), "eur": 900}
    assert "EUR" in numbers["mrr"] and "$" in numbers["mrr"]
    assert_dashboard_matches_stripe(stripe_env)


def test_churn_counts_readers_who_left_not_duplicates_or_ended_trials(client, stripe_env) -> None:
    leaver, _, leaving = subscribe(stripe_env)
    settle(client, stripe_env)
    stripe.Subscription.cancel(leaving["id"])  # a paying reader leaves
    twice = make_user()
    first = subscribe(stripe_env, user=twice)[2]
    second = stripe_env.make_subscription(
        first["customer"],
        Plan.objects.get(code="annual").stripe_price_id,
        payment_method=first["default_payment_method"],
        metadata={"site": billing.site_id()},
    )
    stripe_env._event("customer.subscription.created", second)  # a second tab paid: the site cancels it
    Plan.objects.update(trial_days=14)
    trial_user, _, trial = subscribe(stripe_env, "weekly", trial=True, user=make_user())
    stripe_env.update_subscription(trial["id"], default_payment_method=None)
    stripe_env.advance(15 * 86400)  # the trial ends without a card: cancelled, never paid
    settle(client, stripe_env)
    assert stripe_env.subscriptions[second["id"]]["status"] == "canceled"
    assert stripe_env.subscriptions[trial["id"]]["status"] == "canceled"
    assert dashboard()["churned"] == 1


def test_the_dashboards_stripe_figures_are_cached_for_a_few_minutes(stripe_env) -> None:
    stats.dashboard_numbers()
    stats.dashboard_numbers()
    assert stripe_env.count("GET", "/v1/balance_transactions") == 1
