"""A new reader goes from the paywall to the subscribe page, picks a plan and
reaches Checkout (the Stripe fake's hosted page), at a phone's and a desktop's
width. The subscribe page must be styled: the chosen plan is outlined, the
cards stack on a phone and sit side by side on a desktop."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from articles.models import Article
from subscriptions.models import Subscription
from tests.conftest import MARKER, make_article, make_user
from tests.conftest_billing import WEBHOOK_SECRET
from tests.e2e.conftest import Screenshot, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_new_reader_goes_from_paywall_to_checkout(
    page: Page, screenshot: Screenshot, stripe_env, live_server, viewport: str
) -> None:
    stripe_env.webhook_url = live_server.url + "/stripe/webhook/"
    stripe_env.webhook_secret = WEBHOOK_SECRET
    article = make_article(access=Article.Access.SUBSCRIBERS)
    reader = make_user()

    page.goto(article.get_absolute_url())
    paywall = page.get_by_role("region", name="This story is for subscribers.")
    expect(paywall).to_contain_text("$0.50/week, billed $2.00 every 4 weeks")
    screenshot(page, "paywall")
    paywall.get_by_role("link", name="Start your 14-day free trial").click()
    page.wait_for_url("**/subscribe/?plan=weekly")

    weekly, annual = page.locator("#plan-weekly"), page.locator("#plan-annual")
    expect(page.get_by_role("heading", level=1)).to_have_text("Read every story. Fund the reporting.")
    expect(weekly).to_contain_text("Your pick")
    expect(weekly).to_contain_text("$0.50/week")
    expect(weekly).to_contain_text("billed $2.00 every 4 weeks")
    expect(annual).to_contain_text("Save $2.00 a year")
    for card in (weekly, annual):
        expect(card).to_contain_text("No ads")
        expect(card).to_contain_text("14 days free")
    assert "STRIPE_SECRET_KEY" not in page.content()
    # Styled, not bare HTML: the chosen card is outlined in the accent colour ...
    assert weekly.evaluate("e => getComputedStyle(e).borderTopWidth") == "2px"
    assert annual.evaluate("e => getComputedStyle(e).borderTopWidth") == "1px"
    # ... and the cards stack on a phone, sit side by side on a desktop.
    w, a = weekly.bounding_box(), annual.bounding_box()
    if viewport == "mobile":
        assert a["y"] >= w["y"] + w["height"] and w["width"] > 300
    else:
        assert a["y"] == w["y"] and a["x"] >= w["x"] + w["width"]
    screenshot(page, "subscribe-page")

    page.get_by_role("link", name="Log in").last.click()
    page.wait_for_url("**/accounts/login/**")
    screenshot(page, "login")
    log_in(page, reader.email)
    page.wait_for_url("**/subscribe/?plan=weekly")
    screenshot(page, "subscribe-page-logged-in")
    page.locator("#plan-weekly").get_by_role("button", name="Start free trial").click()
    page.wait_for_url(stripe_env.base + "/pay/**")
    expect(page.get_by_role("heading", level=1)).to_contain_text("$2.00 every 4 week(s)")
    screenshot(page, "checkout")
    page.get_by_role("button", name="Pay with 4242 4242 4242 4242").click()
    page.wait_for_url("**/subscribe/success/**")
    expect(page.get_by_text("Welcome aboard")).to_be_visible()
    screenshot(page, "welcome")
    page.goto(article.get_absolute_url())
    assert MARKER in page.content()
    assert Subscription.objects.get(user=reader).status == "trialing"
