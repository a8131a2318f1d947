"""The whole subscriber journey in a real browser, against the local Stripe fakes:
log in, start the trial on (fake) Checkout, read a subscribers-only article
without ads, cancel from the (fake) portal and keep access to the period end."""

from __future__ import annotations

import pytest
from django.db import connection
from playwright.sync_api import sync_playwright

from subscriptions.models import Subscription
from tests.conftest import MARKER, PASSWORD, make_article, make_user
from tests.conftest_billing import WEBHOOK_SECRET
from tests.e2e.conftest import watch_csp

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_reader_subscribes_reads_and_cancels_in_a_browser(stripe_env, live_server) -> None:
    from articles.models import Article

    stripe_env.webhook_url = live_server.url + "/stripe/webhook/"
    stripe_env.webhook_secret = WEBHOOK_SECRET
    user = make_user("journey@example.com")
    article = make_article(access=Article.Access.SUBSCRIBERS)
    url = live_server.url + article.get_absolute_url()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page()
        csp_violations: list[str] = []
        watch_csp(page, csp_violations)
        try:
            page.goto(url)
            assert MARKER not in page.content()

            page.goto(live_server.url + "/accounts/login/?next=/subscribe/%3Fplan%3Dweekly")
            page.fill("input[name=login]", user.email)
            page.fill("input[name=password]", PASSWORD)
            page.locator("form button[type=submit]").first.click()
            page.wait_for_url("**/subscribe/?plan=weekly")

            page.locator("#plan-weekly button", has_text="Start free trial").click()
            page.wait_for_url(stripe_env.base + "/pay/**")
            page.get_by_role("button", name="Pay with 4242 4242 4242 4242").click()
            page.wait_for_url("**/subscribe/success/**")
            assert "Welcome aboard" in page.content()

            page.goto(url)
            assert MARKER in page.content()
            assert page.locator(".ad-slot").count() == 0

            page.goto(live_server.url + "/account/")
            assert "Free trial ends" in page.content()
            page.get_by_role("button", name="Manage billing").click()
            page.wait_for_url(stripe_env.base + "/portal/**")
            page.get_by_role("button", name="Cancel subscription").click()
            page.wait_for_url(live_server.url + "/account/")
            assert "will not renew" in page.content()

            page.goto(url)
            assert MARKER in page.content()
        finally:
            browser.close()
    assert csp_violations == []

    sub = Subscription.objects.get(user=user)
    assert sub.status == "trialing" and sub.cancel_at_period_end
    assert len(stripe_env.sessions) == 1
    connection.close()
