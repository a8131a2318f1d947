"""The rest of the money audit (issue 34): what readers are told about their price and their
payments, reconcile against stale lists, the duplicate's draft invoice, plan switching and the
checkout throttle, the reader's email in Stripe, and prices said the way a reader is billed.

Stripe is the strict fake over real HTTP (tests/stripe_fake.py), webhooks are signed with
Stripe's scheme, email goes to Django's test outbox.
"""

from __future__ import annotations

import copy
import io
import json
import re
from datetime import timedelta

import pytest
import stripe
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from subscriptions import billing, emails
from subscriptions.models import DailyStat, Plan, Subscription
from tests import stripe_fake
from tests.conftest import make_user
from tests.conftest_billing import deliver, pay_at_checkout
from tests.stripe_fake import StripeFake

pytestmark = pytest.mark.django_db


def settle(client: Client, fake: StripeFake) -> None:
    for event in list(fake.events):
        assert deliver(client, event["type"], event["data"]["object"], event["id"]).status_code == 200, event["type"]
    fake.events.clear()


def subscribe(fake: StripeFake, plan: str = "weekly", *, trial: bool = False, user=None):
    """A verified reader pays on Checkout through the site; the events are delivered."""
    user, reader, sub = pay_at_checkout(fake, plan, trial=trial, user=user)
    settle(reader, fake)
    return user, reader, sub


def change_price(code: str, amount_cents: int) -> Plan:
    """Staff sell the plan at a new price (as the admin does); subscribers stay on theirs."""
    plan = Plan.objects.get(code=code)
    billing.plan_change_price(plan, amount_cents=amount_cents, currency=plan.currency, interval=plan.interval,
                              interval_count=plan.interval_count)
    plan.save()
    return plan


# --- 1. the reader's own price ------------------------------------------------------------------------


def test_after_a_price_rise_the_account_page_shows_what_the_reader_is_billed(stripe_env) -> None:
    user, reader, _ = subscribe(stripe_env)
    change_price("weekly", 300)
    page = reader.get("/account/").content.decode()
    assert "$2.00 every 4 weeks" in page
    assert "$3.00" not in page and "$0.75" not in page


def test_after_a_price_cut_the_trial_ending_email_names_the_price_the_trial_turns_into(
    stripe_env, django_capture_on_commit_callbacks
) -> None:
    user, reader, sub = subscribe(stripe_env, trial=True)
    change_price("weekly", 100)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        ending = stripe_env.subscriptions[sub["id"]]
        assert deliver(reader, "customer.subscription.trial_will_end", ending).status_code == 200
    (email,) = [m for m in mail.outbox if m.to == [user.email]]
    assert "$2.00 every 4 weeks" in email.body and "$1.00" not in email.body
    page = reader.get("/account/").content.decode()
    assert "then it's $2.00 every 4 weeks" in page and "$1.00" not in page


def test_the_success_page_names_the_price_paid(stripe_env) -> None:
    user, reader, sub = subscribe(stripe_env, "annual")
    change_price("annual", 3000)
    session = next(s for s in stripe_env.sessions.values() if s.get("subscription") == sub["id"])
    page = reader.get(f"/subscribe/success/?session_id={session['id']}").content.decode()
    assert "$24.00 every year" in page and "$30.00" not in page


# --- 2. reconcile against a list page older than a webhook ---------------------------------------------


def test_reconcile_from_a_stale_list_page_does_not_undo_a_cancellation(stripe_env, monkeypatch) -> None:
    user, reader, sub = subscribe(stripe_env)
    listed_before = copy.deepcopy(stripe_env._public(stripe_env.subscriptions[sub["id"]]))
    stripe_env._end(stripe_env.subscriptions[sub["id"]])  # cancelled in Stripe; its webhook arrives
    settle(reader, stripe_env)
    local = Subscription.objects.get(stripe_subscription_id=sub["id"])
    assert local.status == "canceled"
    canceled_count = DailyStat.objects.get(name="subscription_canceled").value

    # Reconcile read its list page before the cancellation: the page still says active.
    def stale_page(params: dict) -> tuple[int, bytes]:
        return stripe_fake._page("/v1/subscriptions", [listed_before], params)

    monkeypatch.setattr(stripe_env, "_list_subscriptions", stale_page)
    assert json.loads(stale_page({})[1])["data"][0]["status"] == "active"
    call_command("stripe_reconcile", stdout=io.StringIO())
    local.refresh_from_db()
    assert local.status == "canceled"
    assert DailyStat.objects.get(name="subscription_canceled").value == canceled_count  # counted once
    call_command("stripe_reconcile", stdout=io.StringIO())
    assert DailyStat.objects.get(name="subscription_canceled").value == canceled_count


# --- 3. what a failed payment's email promises, and a payment waiting for the bank ------------------------


def _emails_to(user) -> list:
    return [m for m in mail.outbox if m.to == [user.email]]


def test_the_payment_failed_email_stops_promising_access_once_the_grace_period_is_over(
    stripe_env, settings, django_capture_on_commit_callbacks
) -> None:
    settings.PAST_DUE_GRACE_DAYS = 3
    user, reader, sub = subscribe(stripe_env)
    stripe_env.declining.add(sub["customer"])
    stripe_env.advance(28 * 86400 + 60)  # the renewal fails
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        settle(reader, stripe_env)
    (first,) = [m for m in _emails_to(user) if "payment failed" in m.subject.lower()]
    assert "You keep full access until" in first.body and "$2.00 every 4 weeks" in first.body
    # Five days on (the fake's clock runs ahead of ours: the failure is dated on ours here).
    Subscription.objects.filter(stripe_subscription_id=sub["id"]).update(
        past_due_since=timezone.now() - timedelta(days=5))
    for _retry in range(2):
        stripe_env.advance(7 * 86400)
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            settle(reader, stripe_env)
        for email in _emails_to(user):
            assert "keep full access" not in email.body and "keep reading" not in email.body, email.body
        assert any("Full access is paused" in m.body for m in _emails_to(user))


def test_a_payment_waiting_for_the_bank_asks_the_reader_to_confirm_it_with_the_link(
    stripe_env, settings, django_capture_on_commit_callbacks
) -> None:
    user, reader, sub = subscribe(stripe_env)
    stripe_env.needs_action.add(sub["customer"])
    stripe_env.advance(28 * 86400 + 60)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        settle(reader, stripe_env)
    hosted = stripe_env.invoices[stripe_env.subscriptions[sub["id"]]["latest_invoice"]]["hosted_invoice_url"]
    (email,) = _emails_to(user)
    assert hosted in email.body and "confirm" in email.body.lower() and "update your card" not in email.body.lower()
    page = reader.get("/account/").content.decode()
    assert "Please confirm your payment" in page and f'href="{hosted}"' in page
    assert "Payment failed — update your card" not in page
    # After the grace period the same email no longer promises reading on.
    Subscription.objects.filter(stripe_subscription_id=sub["id"]).update(
        past_due_since=timezone.now() - timedelta(days=settings.PAST_DUE_GRACE_DAYS + 1))
    local = Subscription.objects.get(stripe_subscription_id=sub["id"])
    mail.outbox.clear()
    emails.payment_action_required(local, hosted)
    (late,) = _emails_to(user)
    assert hosted in late.body and "keep full access" not in late.body and "Full access is paused" in late.body


# --- 4. a duplicate's unpaid invoice: a draft is deleted, a finalized one voided --------------------------------


def _duplicate_with_invoice(fake: StripeFake, first: dict, status: str) -> tuple[dict, str]:
    second = fake.make_subscription(first["customer"], Plan.objects.get(code="annual").stripe_price_id,
                                    status="active", payment_method=first["default_payment_method"])
    invoice_id = "in_" + second["id"][4:]
    fake.invoices[invoice_id] = {
        "id": invoice_id, "object": "invoice", "customer": first["customer"], "status": status, "amount_due": 2400,
        "amount_paid": 0, "currency": "usd", "created": fake.now(), "hosted_invoice_url": None,
        "status_transitions": {"finalized_at": None if status == "draft" else fake.now()},
        "parent": {"type": "subscription_details", "subscription_details": {"subscription": second["id"]}},
        "payments": {"object": "list", "has_more": False, "data": []},
    }
    second["latest_invoice"] = invoice_id
    return second, invoice_id


@pytest.mark.parametrize("status", ["draft", "open", "uncollectible"])
def test_a_duplicates_unpaid_invoice_is_deleted_when_a_draft_and_voided_when_finalized(stripe_env, status) -> None:
    user, reader, first = subscribe(stripe_env)
    second, invoice_id = _duplicate_with_invoice(stripe_env, first, status)
    assert deliver(reader, "customer.subscription.created", second).status_code == 200
    assert stripe_env.subscriptions[second["id"]]["status"] == "canceled"
    if status == "draft":
        assert invoice_id not in stripe_env.invoices
        assert stripe_env.count("DELETE", f"/v1/invoices/{invoice_id}") == 1
    else:
        assert stripe_env.invoices[invoice_id]["status"] == "void"
    assert stripe_env.count("POST", f"/v1/invoices/{invoice_id}/void") == (status != "draft")
    assert Subscription.objects.live().filter(user=user).count() == 1


# --- 5. switching plans quickly on the subscribe page ------------------------------------------------------------


def test_switching_weekly_annual_weekly_within_a_minute_lands_on_an_open_session_of_the_last_pick(
    stripe_env,
) -> None:
    user = make_user()
    reader = Client()
    reader.force_login(user)
    landed = []
    for code in ("weekly", "annual", "weekly"):
        location = reader.post("/subscribe/checkout/", {"plan": code})["Location"]
        session = next(s for s in stripe_env.sessions.values() if s["url"] == location)
        landed.append(session["id"])
        plan = Plan.objects.get(code=code)
        assert session["_price"] == plan.stripe_price_id
    last = stripe_env.sessions[landed[-1]]
    assert stripe_env._session(last["id"])["status"] == "open"
    assert [s["id"] for s in stripe_env.sessions.values() if stripe_env._session(s["id"])["status"] == "open"] \
        == [last["id"]]  # the others were expired: only one can be paid
    # A double click on the last pick still reuses that open session.
    location = reader.post("/subscribe/checkout/", {"plan": "weekly"})["Location"]
    assert location == last["url"]
    stripe_env.complete_checkout(last["id"])  # and it can be paid


# --- 6. a checkout throttle per reader --------------------------------------------------------------------------


def test_twenty_checkout_posts_do_not_make_forty_stripe_calls_and_the_reader_is_told_why(stripe_env) -> None:
    user = make_user()
    reader = Client()
    reader.force_login(user)
    before = len(stripe_env.requests)
    answers = [reader.post("/subscribe/checkout/", {"plan": ("weekly", "annual")[n % 2]}) for n in range(20)]
    calls = len(stripe_env.requests) - before
    assert calls < 40, calls
    created = [p for m, p, _ in stripe_env.requests if (m, p) == ("POST", "/v1/checkout/sessions")]
    assert len(created) <= 6  # RATE_LIMIT_CHECKOUT's 6 a minute
    assert all(a.status_code in (302, 303) for a in answers)  # never a bare 429 page
    refused = answers[-1]
    assert refused["Location"].startswith("/subscribe/")
    page = reader.get(refused["Location"]).content.decode()
    assert "wait a minute and try again" in page
    # Another reader is not held up by this one.
    other = Client()
    other.force_login(make_user())
    assert other.post("/subscribe/checkout/", {"plan": "weekly"}).status_code == 303


# --- 7. the reader's new email reaches Stripe ---------------------------------------------------------------------

CONFIRM_LINK = re.compile(r"https?://testserver(/accounts/confirm-email/[^\s/]+/)")


def _stripe_email(customer_id: str) -> str:
    billing._configure()
    return stripe.Customer.retrieve(customer_id).to_dict().get("email")


def _change_email(client: Client, new: str, capture) -> None:
    """The reader's own flow: add the address on /accounts/email/, confirm it from the email."""
    mail.outbox.clear()
    assert client.post("/accounts/email/", {"email": new, "action_add": ""}).status_code == 302
    link = CONFIRM_LINK.search(mail.outbox[0].body).group(1)
    with capture(execute=True):
        client.post(link)


def test_a_readers_new_primary_email_reaches_their_stripe_customer(
    stripe_env, django_capture_on_commit_callbacks
) -> None:
    user, reader, sub = subscribe(stripe_env)
    customer = sub["customer"]
    assert _stripe_email(customer) == user.email
    _change_email(reader, "moved-reader@example.com", django_capture_on_commit_callbacks)
    user.refresh_from_db()
    assert user.email == "moved-reader@example.com"
    assert _stripe_email(customer) == "moved-reader@example.com"


def test_a_new_email_stripe_could_not_take_is_sent_by_the_next_reconcile(
    stripe_env, django_capture_on_commit_callbacks, caplog
) -> None:
    user, reader, sub = subscribe(stripe_env)
    customer = sub["customer"]
    stripe_env.fail_when = lambda method, path: method == "POST" and path == f"/v1/customers/{customer}"
    _change_email(reader, "moved-again@example.com", django_capture_on_commit_callbacks)
    user.refresh_from_db()
    assert user.email == "moved-again@example.com"  # the change itself is kept
    assert _stripe_email(customer) != "moved-again@example.com"
    assert "stripe_reconcile will retry" in caplog.text
    stripe_env.fail_when = None
    out = io.StringIO()
    call_command("stripe_reconcile", stdout=out)
    assert _stripe_email(customer) == "moved-again@example.com"
    assert "1 customer emails corrected" in out.getvalue()


# --- 9. receipts and invoices -------------------------------------------------------------------------------------


def test_the_account_page_leads_a_subscriber_to_their_receipts_and_invoices(stripe_env) -> None:
    user, reader, sub = subscribe(stripe_env)
    page = reader.get("/account/").content.decode()
    assert "Receipts and invoices" in page and "Invoice history" in page
    form = page[page.index("<form", page.index("Manage billing") + 1):page.index("Receipts and invoices")]
    assert 'action="/account/billing/"' in form
    portal = reader.post("/account/billing/")
    assert portal.status_code == 303 and portal["Location"].startswith(stripe_env.base + "/portal/")
    free = Client()
    free.force_login(make_user())
    assert "Receipts and invoices" not in free.get("/account/").content.decode()  # no customer, nothing to show


# --- 8. prices said the way the reader is billed ------------------------------------------------------------------


def test_a_price_that_does_not_divide_evenly_is_not_shown_as_a_rounded_weekly_price(stripe_env) -> None:
    change_price("weekly", 299)  # $2.99 every 4 weeks: 74.75 cents a week
    page = Client().get("/subscribe/").content.decode()
    assert "$0.75/week" not in page and "$0.74/week" not in page
    assert "$2.99 every 4 weeks" in page and "about $0.75 a week" in page
    change_price("weekly", 300)  # exact: the weekly figure is what four weeks cost, to the cent
    page = Client().get("/subscribe/").content.decode()
    assert "$0.75/week" in page and "billed $3.00 every 4 weeks" in page and " a week" not in page


def test_every_place_says_an_uneven_price_the_same_way() -> None:
    """The paywall, account page and emails use Plan.price_label: the same rule as the subscribe page."""
    from subscriptions.models import Plan

    uneven = Plan(code="x", name="X", amount_cents=299, currency="usd", interval="week", interval_count=4)
    assert uneven.price_label() == "$2.99 every 4 weeks, about $0.75 a week"
    even = Plan(code="y", name="Y", amount_cents=200, currency="usd", interval="week", interval_count=4)
    assert even.price_label() == "$0.50/week, billed $2.00 every 4 weeks"
    assert Plan(code="z", name="Z", amount_cents=2400, currency="usd", interval="year").price_label() == "$24.00/year"


def test_zero_decimal_currencies_are_said_in_whole_units() -> None:
    from subscriptions.models import money

    assert money(500, "jpy") == "500 JPY"  # Stripe's 500 in yen is 500 yen, not 5.00
    assert money(150000, "krw") == "150,000 KRW"
    assert money(299, "eur") == "2.99 EUR" and money(299) == "$2.99"
