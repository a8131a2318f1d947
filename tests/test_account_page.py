"""The account page says, for each kind of reader, who they are, what gives them access, what
it costs and until when, and offers only the buttons that work for them (issue 29)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from growth.models import GiftSubscription
from subscriptions.models import ComplimentaryAccess, Plan, StripeCustomer, Subscription
from tests.conftest import make_subscription, make_user

pytestmark = pytest.mark.django_db

OPEN = "sk_test_account_page"  # payments open (nothing here calls Stripe)


def page_for(user) -> str:
    client = Client()
    client.force_login(user)
    response = client.get("/account/")
    assert response.status_code == 200
    return response.content.decode()


def plan_card(page: str) -> str:
    """The "Your plan" card alone (the site's footer has a Subscribe link of its own)."""
    return page.split('id="billing"')[1].split("</section>")[0]


def day(when) -> str:
    return f"{timezone.localtime(when):%B} {timezone.localtime(when).day}, {timezone.localtime(when):%Y}"


def weekly() -> Plan:
    """Migration 0002's weekly plan, billed $2.00 every 4 weeks (0006)."""
    plan, _ = Plan.objects.update_or_create(
        code="weekly", defaults={"name": "Weekly", "amount_cents": 200, "interval": "week", "interval_count": 4,
                                 "is_default": True, "is_active": True, "trial_days": 14})  # fmt: skip
    return plan


def billed_sub(user, status: str, **extra) -> Subscription:
    """A subscription as billing.sync_subscription records it: its plan and the terms Stripe bills."""
    StripeCustomer.objects.get_or_create(user=user, defaults={"customer_id": f"cus_{user.pk}"})
    terms = {"plan": weekly(), "amount_cents": 200, "currency": "usd", "interval": "week", "interval_count": 4}
    return make_subscription(user, status, **{**terms, **extra})


def test_a_free_reader_is_told_they_have_no_subscription_and_offered_the_plan_at_its_one_price(settings) -> None:
    settings.STRIPE_SECRET_KEY = OPEN
    weekly()
    page = page_for(make_user("free.reader@example.com"))
    assert "Free account" in page and "You don't have a subscription" in page
    # The default plan's price as Plan.price_parts says it, and its trial for a reader who never had one.
    assert "$0.50/week (billed $2.00 every 4 weeks), with 14 days free to start" in page
    assert '<a class="button" href="/subscribe/">Subscribe</a>' in plan_card(page)
    assert "Manage billing" not in page and "Your private RSS feed" not in page
    assert "free.reader@example.com" in page and 'href="/account/delete/"' in page


def test_with_payments_off_a_free_reader_is_promised_no_subscribe_button(settings) -> None:
    settings.STRIPE_SECRET_KEY = ""
    page = page_for(make_user())
    assert "You don't have a subscription" in page and "Subscriptions are not open yet" in page
    assert ">Subscribe</a>" not in plan_card(page)


def test_a_trialing_reader_sees_when_the_trial_ends_and_what_it_turns_into(settings) -> None:
    settings.STRIPE_SECRET_KEY = OPEN
    reader = make_user()
    end = timezone.now() + timedelta(days=9)
    billed_sub(reader, "trialing", trial_end=end, current_period_end=end)
    page = page_for(reader)
    local = timezone.localtime(end)
    assert f"Your free trial ends on {local:%B} {local.day}; then it's $2.00 every 4 weeks until you cancel." in page
    assert ">Free trial</span>" in page and "Trialing" not in page
    assert '<span class="account-plan__amount">$0.50/week</span>' in page
    assert f"<dt>Free trial ends</dt><dd>{day(end)}</dd>" in page
    assert "Manage billing" in page and "switch plan or cancel" in page
    assert "Your private RSS feed" in page


def test_a_paying_reader_sees_price_next_charge_date_and_the_manage_button(settings) -> None:
    settings.STRIPE_SECRET_KEY = OPEN
    reader = make_user()
    renews = timezone.now() + timedelta(days=20)
    billed_sub(reader, "active", current_period_end=renews)
    page = page_for(reader)
    assert ">Weekly" in page and ">Active</span>" in page
    assert '<span class="account-plan__billed">billed $2.00 every 4 weeks</span>' in page
    assert f"<dt>Next renewal</dt><dd>{day(renews)}</dd>" in page
    form = page[page.rindex("<form", 0, page.index("Manage billing")):page.index("Manage billing")]
    assert 'method="post" action="/account/billing/"' in form and "csrfmiddlewaretoken" in form
    assert "Receipts and invoices" in page
    assert "You don't have a subscription" not in page and ">Subscribe</a>" not in plan_card(page)


def test_a_past_due_reader_is_asked_to_update_their_card(settings) -> None:
    settings.STRIPE_SECRET_KEY = ""  # no Stripe to ask for a waiting payment's page
    reader = make_user()
    billed_sub(reader, "past_due", past_due_since=timezone.now())
    page = page_for(reader)
    assert "Payment failed — update your card." in page and "you keep access for a few days" in page
    assert ">Payment failed</span>" in page and "We couldn't take your last payment." in page
    assert "Past due" not in page


def test_a_reader_who_cancelled_keeps_access_until_the_period_ends_and_can_renew(settings) -> None:
    settings.STRIPE_SECRET_KEY = OPEN
    reader = make_user()
    until = timezone.now() + timedelta(days=5)
    billed_sub(reader, "active", cancel_at_period_end=True, current_period_end=until)
    page = page_for(reader)
    assert ">Cancelled</span>" in page and "will not renew" in page
    assert f"<dt>Access until</dt><dd>{day(until)}</dd>" in page and "Next renewal" not in page
    assert "renews on" not in page and "Changed your mind? Renew it there" in page


def test_a_complimentary_reader_is_told_so_with_the_end_date(settings) -> None:
    settings.STRIPE_SECRET_KEY = OPEN
    reader = make_user()
    until = timezone.now() + timedelta(days=30)
    ComplimentaryAccess.objects.create(user=reader, until=until, note="press")
    page = page_for(reader)
    assert "Complimentary access" in page and f"until {day(until)}. Nothing is billed." in page
    assert f"<dt>Full access until</dt><dd>{day(until)}</dd>" in page
    assert "Manage billing" not in page and "You don't have a subscription" not in page
    assert ">Subscribe</a>" not in plan_card(page) and "Your private RSS feed" in page


def test_a_complimentary_reader_whose_subscription_ended_is_not_told_it_ended(settings) -> None:
    reader = make_user()
    make_subscription(reader, "canceled", current_period_end=timezone.now() - timedelta(days=3))
    ComplimentaryAccess.objects.create(user=reader, until=timezone.now() + timedelta(days=30))
    page = page_for(reader)
    assert "Complimentary access" in page and "Your subscription has ended" not in page


def test_a_gifted_reader_is_told_who_gave_it_and_when_it_ends(settings) -> None:
    settings.STRIPE_SECRET_KEY = OPEN
    reader = make_user()
    earlier = ComplimentaryAccess.objects.create(user=reader, until=timezone.now() + timedelta(days=10))
    until = timezone.now() + timedelta(days=100)
    grant = ComplimentaryAccess.objects.create(user=reader, until=until, note="Gift subscription #1")
    GiftSubscription.objects.create(
        months=3, amount_cents=1500, buyer_email="aunt@example.com", buyer_name="Aunt <Em>",
        recipient_email=reader.email, status=GiftSubscription.Status.REDEEMED, access=grant, redeemed_by=reader)
    page = page_for(reader)
    # The access that lasts longest is the gift's (its months follow the earlier access).
    assert "Gift subscription" in page and escape("Aunt <Em>") + " gave you 3 months of full access" in page
    assert f"It ends on {day(until)}: nothing renews and no card is kept." in page
    assert day(earlier.until) not in page and "Aunt <Em>" not in page
    assert "Manage billing" not in page


def test_staff_read_as_staff_and_cannot_delete_their_account_here(settings) -> None:
    settings.STRIPE_SECRET_KEY = OPEN
    page = page_for(make_user(is_staff=True))
    assert "Newsroom staff" in page and "Nothing is billed" in page
    assert "Delete your account" not in page and "You don't have a subscription" not in page
    assert "Your private RSS feed" in page


def test_a_staff_member_who_also_pays_sees_and_manages_their_subscription(settings) -> None:
    settings.STRIPE_SECRET_KEY = OPEN
    staff = make_user(is_staff=True)
    billed_sub(staff, "active")
    page = page_for(staff)
    assert "Newsroom staff" in page and "<h3 class=\"account-plan__sub\">Your subscription</h3>" in page
    assert "Your subscription is active" in page and "Manage billing" in page


def test_a_lapsed_reader_can_subscribe_again(settings) -> None:
    settings.STRIPE_SECRET_KEY = OPEN
    weekly()
    reader = make_user()
    billed_sub(reader, "canceled", canceled_at=timezone.now() - timedelta(days=2))
    page = page_for(reader)
    assert "Your subscription has ended." in page and "You can subscribe again any time." in page
    assert ">Ended</span>" in page and ">Subscribe</a>" in plan_card(page)
    assert "with 14 days free" not in page  # had their trial: none is offered
    assert "Your private RSS feed" not in page


def test_the_private_feed_has_a_copy_button_and_says_what_replacing_does(settings) -> None:
    reader = make_user()
    ComplimentaryAccess.objects.create(user=reader, until=timezone.now() + timedelta(days=30))
    page = page_for(reader)
    assert 'data-copy="feed-address"' in page and 'id="feed-address"' in page
    assert 'data-copied-for="feed-address" aria-live="polite"' in page
    assert "this one stops working, for everyone" in page
    replace = page[page.index('action="/account/feed/replace/"') - 40:page.index("Replace this address")]
    assert 'method="post"' in replace and "csrfmiddlewaretoken" in replace
    assert re.search(r'<script src="/static/js/gift\.js[^"]*" defer>', page)  # first-party; no inline script
    assert "<script>" not in page


def test_replacing_the_feed_address_is_post_only(settings) -> None:
    client = Client()
    client.force_login(make_user())
    assert client.get("/account/feed/replace/").status_code == 405
