"""The account page as three readers see it, at 390 and 1280 px (issue 29): a paying subscriber
(plan, price, next charge, manage button, emails, private feed with its copy button, gift links),
a reader on a gift, and a free reader offered the plan. Every control on it is at least 44 px
tall on a phone; axe checks each screenshot."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Page, expect

from articles import gifts
from growth.models import GiftSubscription
from newsletter.models import Preference
from subscriptions.models import ComplimentaryAccess, Plan, StripeCustomer
from tests.conftest import make_author, make_category, make_subscription, make_user
from tests.e2e.conftest import Screenshot
from tests.e2e.paid_stories import paid_story

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What a reader taps: buttons, links drawn as buttons, text boxes, selects, the tick boxes' labels
# (a tick box is tapped through its label, which is the row). Hidden inputs are not controls.
CONTROLS = (
    ".account button, .account a.button, .account select, .account textarea, "
    ".account input:not([type=hidden]):not([type=checkbox]), .account .email-choices label"
)


def signed_in(page: Page, user, live_server) -> None:
    """The reader's session cookie in this browser (logging in is other journeys' subject)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])


def short_controls(page: Page) -> list[str]:
    """Every visible control on the account page shorter than 44 px, described."""
    return page.eval_on_selector_all(
        CONTROLS,
        """els => els.filter(e => e.offsetParent !== null)
                     .map(e => [e.getBoundingClientRect().height, e.outerHTML.slice(0, 90)])
                     .filter(([h]) => h < 44).map(([h, html]) => `${h.toFixed(1)}px ${html}`)""",
    )


def assert_tappable(page: Page, viewport: str) -> None:
    count = page.locator(CONTROLS).count()
    assert count >= 3
    if viewport == "mobile":
        assert not short_controls(page), "controls under 44 px at 390 px:\n" + "\n".join(short_controls(page))
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"the page scrolls sideways ({width}px)"


def in_dark_too(page: Page, screenshot: Screenshot, step: str) -> None:
    """The page again as a reader whose system is set to dark sees it (the site follows
    prefers-color-scheme): really dark, and checked by axe like every screenshot."""
    page.emulate_media(color_scheme="dark")
    try:
        paper = page.evaluate("getComputedStyle(document.querySelector('.account-card')).backgroundColor")
        assert paper not in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)"), f"the cards stay light in dark mode: {paper}"
        screenshot(page, f"{step} dark")
    finally:
        page.emulate_media(color_scheme="light")


def test_subscriber_gift_reader_and_free_reader_each_get_one_tidy_account_page(
    new_page, live_server, screenshot: Screenshot, viewport: str, settings
) -> None:
    """One journey (the screenshots of a journey are replaced each run, so all three are here)."""
    settings.STRIPE_SECRET_KEY = "sk_test_account_journey"  # the page asks Stripe nothing for these plans
    plan, _ = Plan.objects.update_or_create(
        code="weekly", defaults={"name": "Weekly", "amount_cents": 200, "interval": "week", "interval_count": 4,
                                 "is_default": True, "is_active": True, "trial_days": 14})  # fmt: skip
    user = make_user(f"ada.{viewport}@example.com", first_name="Ada", last_name="Quill")
    StripeCustomer.objects.create(user=user, customer_id=f"cus_account_{viewport}")
    renews = timezone.now() + timedelta(days=12)
    make_subscription(user, "active", plan=plan, amount_cents=200, currency="usd", interval="week",
                      interval_count=4, current_period_end=renews)  # fmt: skip
    story, _ = paid_story("The lighthouse keepers' pay", category=make_category("Coast"), author=make_author())
    gifts.gift_create(giver=user, article=story)
    page: Page = new_page()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    signed_in(page, user, live_server)

    page.goto("/account/")
    expect(page.get_by_role("heading", name="Your account", level=1)).to_be_visible()
    plan_card = page.locator("#billing")
    expect(plan_card).to_contain_text("Weekly")
    expect(plan_card).to_contain_text("$0.50/week")
    expect(plan_card).to_contain_text("billed $2.00 every 4 weeks")
    expect(plan_card).to_contain_text(f"{timezone.localtime(renews):%B} {timezone.localtime(renews).day}")
    expect(plan_card.get_by_role("button", name="Manage billing")).to_be_visible()
    assert_tappable(page, viewport)
    screenshot(page, "subscriber-account")
    in_dark_too(page, screenshot, "subscriber-account")

    # The private feed's address is copied with one tap.
    page.locator("#feed").get_by_role("button", name="Copy").click()
    expect(page.locator("#feed")).to_contain_text("Link copied.")
    address = page.get_by_label("Your private feed address").input_value()
    assert page.evaluate("navigator.clipboard.readText()") == address
    expect(page.locator("#feed")).to_contain_text("this one stops working, for everyone")
    page.locator("#feed").scroll_into_view_if_needed()
    screenshot(page, "feed-copied")

    # Email choices are rows: tapping a row's words ticks its box; saving comes back here.
    page.get_by_text("Breaking news: big stories as they go live").click()
    expect(page.get_by_role("checkbox", name="Breaking news")).to_be_checked()
    page.get_by_role("button", name="Save email choices").click()
    expect(page.get_by_role("status")).to_contain_text("Your email choices are saved.")
    assert Preference.objects.get(user=user).breaking is True
    expect(page.get_by_role("checkbox", name="Breaking news")).to_be_checked()
    screenshot(page, "emails-saved")

    expect(page.locator("#gifts")).to_contain_text("The lighthouse keepers' pay")
    expect(page.get_by_role("link", name="Delete your account")).to_be_visible()

    # A reader on a gift: who gave it, when it ends, and nothing to pay or manage.
    gifted = make_user(f"gifted.{viewport}@example.com")
    until = timezone.now() + timedelta(days=92)
    grant = ComplimentaryAccess.objects.create(user=gifted, until=until, note="Gift subscription")
    GiftSubscription.objects.create(months=3, amount_cents=1500, buyer_email="sam@example.com", buyer_name="Sam",
                                    recipient_email=gifted.email, status=GiftSubscription.Status.REDEEMED,
                                    access=grant, redeemed_by=gifted)  # fmt: skip
    page = new_page()
    signed_in(page, gifted, live_server)
    page.goto("/account/")
    plan_card = page.locator("#billing")
    expect(plan_card).to_contain_text("Sam gave you 3 months of full access")
    expect(plan_card).to_contain_text(f"{timezone.localtime(until):%B} {timezone.localtime(until).day}")
    expect(plan_card.get_by_role("button")).to_have_count(0)  # nothing to manage or pay
    assert_tappable(page, viewport)
    screenshot(page, "gift-reader-account")

    # A free reader: no subscription, the plan the paywall offers at its one price.
    free = new_page()
    signed_in(free, make_user(f"free.{viewport}@example.com"), live_server)
    free.goto("/account/")
    plan_card = free.locator("#billing")
    expect(plan_card).to_contain_text("You don't have a subscription")
    expect(plan_card).to_contain_text("$0.50/week (billed $2.00 every 4 weeks), with 14 days free to start")
    expect(plan_card.get_by_role("link", name="Subscribe")).to_be_visible()
    expect(free.locator("#feed")).to_have_count(0)
    assert_tappable(free, viewport)
    screenshot(free, "free-reader-account")
    in_dark_too(free, screenshot, "free-reader-account")
