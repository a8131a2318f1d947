"""The Stripe fake refuses what Stripe refuses.

Each rule is shown twice: the strict fake refuses the bad request, and with
that one rule switched off (a lax fake) the same request goes through — so
each test here fails against a fake without the rule, and the billing tests
that pass against the strict fake could not pass by luck.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
import stripe
from django.test import Client

from subscriptions import billing
from subscriptions.models import Plan
from tests.conftest import make_user
from tests.stripe_fake import API_VERSION, StripeFake

pytestmark = pytest.mark.django_db


def _refused_only_by(fake: StripeFake, rule: str, call: Callable[[], object], match: str) -> None:
    with pytest.raises((stripe.InvalidRequestError, stripe.IdempotencyError), match=match):
        call()
    fake.strict[rule] = False
    try:
        call()  # a lax fake lets it through
    finally:
        fake.strict[rule] = True


def _product() -> str:
    return Plan.objects.get(code="weekly").stripe_product_id


def test_unknown_parameters_are_refused_at_any_depth(stripe_env) -> None:
    _refused_only_by(stripe_env, "params", lambda: stripe.Price.create(
        product=_product(), unit_amount=100, currency="usd", recurring={"interval": "week"}, interval_count=4,
    ), "unknown parameter: interval_count")
    _refused_only_by(stripe_env, "params", lambda: stripe.Price.create(
        product=_product(), unit_amount=100, currency="usd", recurring={"interval": "week", "every": 4},
    ), r"unknown parameter: recurring\[every\]")


def test_values_outside_the_documented_set_and_missing_required_ones_are_refused(stripe_env) -> None:
    _refused_only_by(stripe_env, "params", lambda: stripe.Price.create(
        product=_product(), unit_amount=100, currency="usd", recurring={"interval": "fortnight"},
    ), r"recurring\[interval\]")
    with pytest.raises(stripe.InvalidRequestError, match="Missing required param: currency"):
        stripe.Price.create(product=_product(), unit_amount=100, recurring={"interval": "week"})


def test_a_price_amount_cannot_be_changed(stripe_env) -> None:
    price = Plan.objects.get(code="weekly").stripe_price_id
    _refused_only_by(stripe_env, "params", lambda: stripe.Price.modify(price, unit_amount=75),
                     "unknown parameter: unit_amount")


def test_an_idempotency_key_cannot_be_reused_with_other_parameters(stripe_env) -> None:
    stripe.Customer.create(email="a@example.com", idempotency_key="same-key")
    _refused_only_by(stripe_env, "idempotency",
                     lambda: stripe.Customer.create(email="b@example.com", idempotency_key="same-key"),
                     "same parameters")


def test_a_second_price_cannot_take_a_lookup_key_without_transferring_it(stripe_env) -> None:
    weekly = Plan.objects.get(code="weekly")
    new = {"product": _product(), "unit_amount": 300, "currency": "usd", "recurring": {"interval": "week"}}
    moved = stripe.Price.create(**new, lookup_key="ledger_weekly", transfer_lookup_key=True)
    assert stripe_env.prices[weekly.stripe_price_id]["lookup_key"] is None
    assert [p.id for p in stripe.Price.list(lookup_keys=["ledger_weekly"]).data] == [moved.id]
    _refused_only_by(stripe_env, "lookup_keys", lambda: stripe.Price.create(**new, lookup_key="ledger_weekly"),
                     "already uses that lookup key")


def test_a_stored_server_error_is_replayed_for_the_same_key(stripe_env) -> None:
    stripe_env.fail_next = 1
    with pytest.raises(stripe.APIError):
        stripe.Customer.create(email="a@example.com", idempotency_key="k-500", max_network_retries=0)
    with pytest.raises(stripe.APIError):  # Stripe is back, but this key keeps its 500
        stripe.Customer.create(email="a@example.com", idempotency_key="k-500")
    assert stripe.Customer.create(email="a@example.com", idempotency_key="k-fresh").id


def test_checkout_expiry_must_be_between_30_minutes_and_a_day(stripe_env) -> None:
    customer = billing.customer_for(make_user())
    price = Plan.objects.get(code="weekly").stripe_price_id

    def create(expires_at: int) -> stripe.checkout.Session:
        return stripe.checkout.Session.create(
            mode="subscription", customer=customer, client_reference_id="1", expires_at=expires_at,
            line_items=[{"price": price, "quantity": 1}], success_url="http://x/?s={CHECKOUT_SESSION_ID}",
            cancel_url="http://x/")

    _refused_only_by(stripe_env, "expiry", lambda: create(stripe_env.now() + 600), "between 30 minutes")
    # A few seconds over 30 minutes: the fake reads its clock after the test does, and a
    # second may tick in between (exactly 1800 failed that way now and then).
    session = create(stripe_env.now() + 1800 + 5)
    stripe_env.advance(1800 + 6)
    assert stripe.checkout.Session.retrieve(session.id).status == "expired"
    with pytest.raises(ValueError, match="expired"):
        stripe_env.complete_checkout(session.id)


def test_requests_on_another_api_version_are_refused(stripe_env) -> None:
    _refused_only_by(stripe_env, "version", lambda: stripe.Customer.create(stripe_version="2024-06-20"),
                     "API version")


def test_the_site_pins_the_api_version_the_fake_speaks(client: Client, stripe_env, settings) -> None:
    assert settings.STRIPE_API_VERSION == API_VERSION
    billing.customer_for(make_user())
    assert stripe_env.versions == {API_VERSION}
    assert stripe.api_version == settings.STRIPE_API_VERSION


# --- Stripe's limits on values (issue 26): each refused by the strict fake, let through by a lax one ---


def _session(**extra) -> stripe.checkout.Session:
    customer = billing.customer_for(make_user())
    params = {"mode": "subscription", "customer": customer, "client_reference_id": "1",
              "line_items": [{"price": Plan.objects.get(code="weekly").stripe_price_id, "quantity": 1}],
              "success_url": "http://x/?s={CHECKOUT_SESSION_ID}", "cancel_url": "http://x/"}
    return stripe.checkout.Session.create(**{**params, **extra})


def test_a_trial_must_be_1_to_730_days(stripe_env) -> None:
    for days in (0, 731):
        _refused_only_by(stripe_env, "limits", lambda d=days: _session(subscription_data={"trial_period_days": d}),
                         "trial_period_days")
    assert _session(subscription_data={"trial_period_days": 730}).id


def test_metadata_keys_values_and_count_have_stripes_limits(stripe_env) -> None:
    for metadata in ({"k" * 41: "v"}, {"k": "v" * 501}, {f"k{n}": "v" for n in range(51)}):
        _refused_only_by(stripe_env, "limits", lambda m=metadata: stripe.Customer.create(metadata=m), "metadata")
    assert stripe.Customer.create(metadata={"k" * 40: "v" * 500}).id


def test_client_reference_id_is_at_most_200_characters(stripe_env) -> None:
    _refused_only_by(stripe_env, "limits", lambda: _session(client_reference_id="r" * 201), "client_reference_id")


def test_amounts_below_the_currencys_minimum_or_negative_are_refused(stripe_env) -> None:
    _refused_only_by(stripe_env, "limits", lambda: stripe.Price.create(
        product=_product(), unit_amount=-1, currency="usd", recurring={"interval": "week"}), "unit_amount")
    cheap = stripe.Price.create(product=_product(), unit_amount=10, currency="usd", recurring={"interval": "week"})
    _refused_only_by(stripe_env, "limits", lambda: _session(line_items=[{"price": cheap.id, "quantity": 1}]),
                     "at least")


def test_unknown_currencies_are_refused(stripe_env) -> None:
    _refused_only_by(stripe_env, "limits", lambda: stripe.Price.create(
        product=_product(), unit_amount=500, currency="xyz", recurring={"interval": "week"}), "currency")


def test_intervals_over_three_years_are_refused(stripe_env) -> None:
    for interval, count in (("week", 157), ("month", 37), ("year", 4)):
        _refused_only_by(stripe_env, "limits", lambda i=interval, c=count: stripe.Price.create(
            product=_product(), unit_amount=500, currency="usd", recurring={"interval": i, "interval_count": c}),
            "interval")
    assert stripe.Price.create(product=_product(), unit_amount=500, currency="usd",
                               recurring={"interval": "month", "interval_count": 36}).id


def test_payment_mode_refuses_a_recurring_price(stripe_env) -> None:
    _refused_only_by(stripe_env, "limits", lambda: _session(mode="payment"), "recurring")


def test_invalid_emails_are_refused(stripe_env) -> None:
    _refused_only_by(stripe_env, "limits", lambda: stripe.Customer.create(email="not an email"), "email")


def test_one_time_prices_are_sold_in_payment_mode(stripe_env) -> None:
    once = stripe.Price.create(product=_product(), unit_amount=500, currency="usd")
    assert once.type == "one_time" and once.recurring is None
    session = _session(mode="payment", line_items=[{"price": once.id, "quantity": 1}])
    assert session.mode == "payment"


def test_a_success_url_needs_no_session_placeholder(stripe_env) -> None:
    assert _session(success_url="http://x/thanks/").success_url == "http://x/thanks/"


# --- issue 34: the rest of what Stripe refuses, and what it models ---


def test_checkout_takes_a_customer_or_a_customer_email_not_both(stripe_env) -> None:
    _refused_only_by(stripe_env, "limits", lambda: _session(customer_email="reader@example.com"),
                     "only specify one of these parameters: customer, customer_email")


@pytest.mark.parametrize("url", ["/account/", "example.com/thanks", "javascript:alert(1)", "ftp://x/", "http://"])
def test_redirect_urls_must_be_absolute_http_urls(stripe_env, url: str) -> None:
    _refused_only_by(stripe_env, "limits", lambda: _session(success_url=url), "success_url")
    _refused_only_by(stripe_env, "limits", lambda: _session(cancel_url=url), "cancel_url")
    customer = billing.customer_for(make_user())
    configuration = billing.portal_configuration()
    _refused_only_by(stripe_env, "limits", lambda: stripe.billing_portal.Session.create(
        customer=customer, return_url=url, configuration=configuration), "return_url")


def test_lookup_keys_are_at_most_200_characters_and_at_most_10_to_a_list(stripe_env) -> None:
    new = {"product": _product(), "unit_amount": 300, "currency": "usd", "recurring": {"interval": "week"}}
    _refused_only_by(stripe_env, "limits", lambda: stripe.Price.create(**new, lookup_key="k" * 201), "lookup_key")
    assert stripe.Price.create(**new, lookup_key="k" * 200).lookup_key == "k" * 200
    _refused_only_by(stripe_env, "limits", lambda: stripe.Price.list(lookup_keys=[f"k{n}" for n in range(11)]),
                     "at most 10")
    _refused_only_by(stripe_env, "limits", lambda: stripe.Price.list(lookup_keys=["k" * 201]), "lookup_key")
    assert stripe.Price.list(lookup_keys=[f"k{n}" for n in range(10)]).data == []


def test_idempotency_keys_are_at_most_255_characters(stripe_env) -> None:
    _refused_only_by(stripe_env, "limits", lambda: stripe.Customer.create(idempotency_key="k" * 256),
                     "Idempotency-Key")
    assert stripe.Customer.create(idempotency_key="k" * 255).id


@pytest.mark.parametrize("limit", [0, 101])
def test_limit_is_1_to_100_on_every_list(stripe_env, limit: int) -> None:
    # Prices and Checkout Sessions: lists the fake answers in one piece, so only the rule refuses.
    _refused_only_by(stripe_env, "limits", lambda: stripe.Price.list(limit=limit), "limit")
    _refused_only_by(stripe_env, "limits", lambda: stripe.checkout.Session.list(limit=limit), "limit")
    for listing in (stripe.Customer.list, stripe.Subscription.list, stripe.BalanceTransaction.list,
                    stripe.PromotionCode.list, stripe.billing_portal.Configuration.list):
        with pytest.raises(stripe.InvalidRequestError, match="limit"):
            listing(limit=limit)
    assert stripe.Price.list(limit=100).data


def test_checkout_below_the_currencys_minimum_is_refused_zero_decimal_currencies_included(stripe_env) -> None:
    for currency, amount in (("jpy", 49), ("gbp", 29), ("eur", 49), ("huf", 17499)):
        cheap = stripe.Price.create(product=_product(), unit_amount=amount, currency=currency,
                                    recurring={"interval": "month"})
        _refused_only_by(stripe_env, "limits", lambda c=cheap: _session(line_items=[{"price": c.id, "quantity": 1}]),
                         f"at least .* {currency}")
    yen = stripe.Price.create(product=_product(), unit_amount=50, currency="jpy", recurring={"interval": "month"})
    assert _session(line_items=[{"price": yen.id, "quantity": 1}]).id


def test_the_plan_form_refuses_a_price_stripe_would_not_charge_with_the_minimum_in_words(stripe_env) -> None:
    from subscriptions import models
    from subscriptions.admin import PlanForm
    from tests import stripe_fake

    assert models.MINIMUM_CHARGE == stripe_fake.MINIMUM_CHARGE  # the site and the fake agree on Stripe's table
    plan = Plan.objects.get(code="weekly")
    price_before, prices_made = plan.stripe_price_id, stripe_env.count("POST", "/v1/prices")
    for currency, amount in (("usd", 49), ("jpy", 49), ("gbp", 29)):
        data = {"code": plan.code, "name": plan.name, "amount_cents": amount, "currency": currency,
                "interval": plan.interval, "interval_count": plan.interval_count, "trial_days": 0,
                "is_default": plan.is_default, "is_active": True, "position": plan.position}
        form = PlanForm(data=data, instance=plan)
        assert not form.is_valid()
        assert "minimum charge" in form.errors["amount_cents"][0] and currency.upper() in form.errors["amount_cents"][0]
    plan.refresh_from_db()  # refused before Stripe was asked: no price made, none archived
    assert plan.stripe_price_id == price_before and stripe_env.count("POST", "/v1/prices") == prices_made


def test_a_portal_session_needs_a_saved_configuration_in_test_mode(stripe_env) -> None:
    customer = billing.customer_for(make_user())
    _refused_only_by(stripe_env, "limits", lambda: stripe.billing_portal.Session.create(
        customer=customer, return_url="http://x/account/"), "default configuration has not been created")
    stripe_env.save_portal_settings()  # someone saves the portal settings in the dashboard
    assert stripe.billing_portal.Session.create(customer=customer, return_url="http://x/account/").url


def test_the_site_brings_its_own_portal_configuration_once(stripe_env) -> None:
    user = make_user()
    billing.customer_for(user)
    first = billing.portal_session(user, return_url="http://x/account/")
    second = billing.portal_session(user, return_url="http://x/account/")
    (configuration,) = stripe_env.portal_configurations.values()  # made once, found again by its metadata
    assert first.configuration == second.configuration == configuration["id"]
    features = configuration["features"]
    assert features["invoice_history"]["enabled"] and features["payment_method_update"]["enabled"]
    assert features["subscription_cancel"] == {"enabled": True, "mode": "at_period_end"}
    assert stripe_env.portal_default is None  # nobody saved the dashboard settings: ours is what works


def _subscribed(fake: StripeFake, price: str | None = None, customer: str | None = None) -> dict:
    """A customer pays a Checkout Session for `price` (the weekly plan's by default)."""
    customer = customer or billing.customer_for(make_user())
    session = _session(customer=customer,
                       line_items=[{"price": price or Plan.objects.get(code="weekly").stripe_price_id,
                                    "quantity": 1}])
    return fake.complete_checkout(session.id)


def test_one_customer_cannot_be_billed_in_two_currencies(stripe_env) -> None:
    sub = _subscribed(stripe_env)
    euros = stripe.Price.create(product=_product(), unit_amount=500, currency="eur", recurring={"interval": "month"})
    _refused_only_by(stripe_env, "limits", lambda: _session(
        customer=sub["customer"], line_items=[{"price": euros.id, "quantity": 1}]), "combine currencies")
    stripe.Subscription.cancel(sub["id"])
    assert _session(customer=sub["customer"], line_items=[{"price": euros.id, "quantity": 1}]).id


def test_a_deleted_customer_is_retrieved_as_deleted_and_the_site_sees_it(stripe_env) -> None:
    customer = billing.customer_for(make_user())
    assert billing.customer_exists(customer)
    stripe.Customer.delete(customer)
    assert stripe.Customer.retrieve(customer).to_dict() == {"id": customer, "object": "customer", "deleted": True}
    assert not billing.customer_exists(customer)


@pytest.mark.parametrize("behavior,invoice_status", [("keep_as_draft", "draft"), ("void", "void"),
                                                     ("mark_uncollectible", "uncollectible")])
def test_paused_collection_bills_nothing_and_leaves_the_invoice_as_its_behavior_says(
        stripe_env, behavior: str, invoice_status: str) -> None:
    sub = _subscribed(stripe_env)
    charges = len(stripe_env.charges)
    paused = stripe.Subscription.modify(sub["id"], pause_collection={"behavior": behavior})
    assert paused.pause_collection.behavior == behavior and paused.status == "active"
    stripe_env.advance(28 * 86400 + 1)
    assert stripe_env.invoices[sub["latest_invoice"]]["status"] == invoice_status
    assert len(stripe_env.charges) == charges and sub["status"] == "active"
    assert stripe.Subscription.modify(sub["id"], pause_collection="").pause_collection is None  # resumed
    stripe_env.advance(28 * 86400)
    assert stripe_env.invoices[sub["latest_invoice"]]["status"] == "paid" and len(stripe_env.charges) == charges + 1


def test_paused_collection_resumes_by_itself_at_resumes_at(stripe_env) -> None:
    sub = _subscribed(stripe_env)
    _refused_only_by(stripe_env, "limits", lambda: stripe.Subscription.modify(
        sub["id"], pause_collection={"behavior": "void", "resumes_at": stripe_env.now() - 1}), "resumes_at")
    stripe.Subscription.modify(sub["id"], pause_collection={"behavior": "void",
                                                            "resumes_at": stripe_env.now() + 86400})
    stripe_env.advance(28 * 86400 + 1)
    assert stripe_env.invoices[sub["latest_invoice"]]["status"] == "paid"
    assert stripe.Subscription.retrieve(sub["id"]).pause_collection is None


def test_fees_and_disputes_are_balance_transactions_the_summary_adds_up(stripe_env) -> None:
    from datetime import UTC, datetime

    since = datetime.fromtimestamp(stripe_env.now() - 5, tz=UTC)
    sub = _subscribed(stripe_env)
    (pi,) = stripe_env.charges
    charge = stripe.Charge.retrieve(stripe_env.charges[pi]["id"])
    txn = stripe.BalanceTransaction.retrieve(charge.balance_transaction)
    assert txn.type == "charge" and txn.fee > 0 and sum(d.amount for d in txn.fee_details) == txn.fee
    assert txn.net == txn.amount - txn.fee
    dispute = stripe_env.dispute(pi)
    (debit,) = [stripe.BalanceTransaction.retrieve(t["id"]) for t in dispute["balance_transactions"]]
    assert (debit.type, debit.reporting_category, debit.amount) == ("adjustment", "dispute", -charge.amount)
    assert debit.fee > 0 and debit.net == -charge.amount - debit.fee
    assert [d.description for d in debit.fee_details] == ["Dispute fee"]
    lost = billing.balance_summary(since)[charge.currency]
    assert lost["disputes"] == charge.amount and lost["fees"] == txn.fee + debit.fee
    stripe_env.close_dispute(dispute["id"], won=True)  # the amount comes back, the fee does not
    won = billing.balance_summary(since)[charge.currency]
    assert won == {"gross": charge.amount, "refunds": 0, "disputes": 0, "fees": txn.fee + debit.fee,
                   "net": charge.amount - txn.fee - debit.fee}
    assert sub["status"] == "active"


def test_a_test_clock_moves_only_its_customers_at_most_two_intervals_at_a_time(stripe_env) -> None:
    clock = stripe.test_helpers.TestClock.create(frozen_time=stripe_env.now(), name="renewals")
    customer = stripe.Customer.create(email="clocked@example.com", test_clock=clock.id)
    assert customer.test_clock == stripe.Customer.retrieve(customer.id).test_clock == clock.id
    on_clock, elsewhere = _subscribed(stripe_env, customer=customer.id), _subscribed(stripe_env)
    period = 28 * 86400  # the weekly plan bills every four weeks
    with pytest.raises(stripe.InvalidRequestError, match="two intervals"):
        stripe.test_helpers.TestClock.advance(clock.id, frozen_time=clock.frozen_time + 2 * period + 1)
    first_end = on_clock["items"]["data"][0]["current_period_end"]
    renewed = stripe.test_helpers.TestClock.advance(clock.id, frozen_time=clock.frozen_time + 2 * period)
    assert stripe.test_helpers.TestClock.retrieve(clock.id).frozen_time == renewed.frozen_time
    assert on_clock["items"]["data"][0]["current_period_start"] >= first_end  # renewed on the clock's time
    paid = [i for i in stripe_env.invoices.values() if i["customer"] == customer.id and i["status"] == "paid"]
    assert len(paid) >= 2
    assert elsewhere["items"]["data"][0]["current_period_start"] == elsewhere["created"]  # not on the clock
    stripe_env.advance(3 * period)  # Stripe's own time does not move the clock's customers
    assert [i for i in stripe_env.invoices.values() if i["customer"] == customer.id and i["status"] == "paid"] \
        == paid
    stripe_env.strict["limits"] = False  # a lax fake jumps three periods at once
    stripe.test_helpers.TestClock.advance(clock.id, frozen_time=renewed.frozen_time + 3 * period)


def test_sync_plans_makes_the_portal_configuration_once(stripe_env) -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("stripe_sync_plans", stdout=out)
    call_command("stripe_sync_plans", stdout=out)
    (configuration,) = stripe_env.portal_configurations
    assert out.getvalue().count(f"portal configuration {configuration}") == 2
