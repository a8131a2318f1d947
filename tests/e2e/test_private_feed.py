"""A subscriber finds their private feed on the account page, a feed reader
(no cookies) gets the full text from it, and replacing the address kills the old one."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import make_author, make_category
from tests.e2e.conftest import Screenshot, log_in
from tests.e2e.paid_stories import paid_story, subscriber

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_subscribers_private_feed_gives_full_text_and_dies_when_replaced(
    page: Page, browser: Browser, live_server, screenshot: Screenshot, viewport: str
) -> None:
    article, marker = paid_story("The pilotage fees", category=make_category("Port"), author=make_author("Ada Berth"))
    user = subscriber(f"feed.{viewport}@example.com")
    page.goto("/accounts/login/?next=/account/")
    screenshot(page, "login")
    log_in(page, user.email)
    page.wait_for_url(lambda url: urlsplit(url).path == "/account/")
    feed = page.get_by_label("Your private feed address")
    expect(feed).to_be_visible()
    old = feed.input_value()
    screenshot(page, "private-feed")

    # A feed reader has no cookies: a separate context, nothing shared with the subscriber's.
    reader = browser.new_context()
    try:
        response = reader.request.get(old)
        assert response.status == 200
        assert marker in response.text()
        assert response.headers["x-robots-tag"] == "noindex, nofollow"

        page.get_by_role("button", name="Replace this address").click()
        expect(page.get_by_role("status")).to_contain_text("new address")
        new = page.get_by_label("Your private feed address").input_value()
        assert new != old
        screenshot(page, "feed-replaced")
        assert reader.request.get(old).status == 404
        assert marker in reader.request.get(new).text()
    finally:
        reader.close()
