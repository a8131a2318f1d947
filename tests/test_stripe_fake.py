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
    session = create(stripe_env.now() + 1800)
    stripe_env.advance(1801)
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
