"""A subscriber gifts an article: a fresh browser that has used up its free
articles reads it in full and its meter does not move; the giver sees the
open on the account page and revokes the link, which then opens nothing."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from articles.models import Gift
from subscriptions.models import MeterDay
from tests.conftest import make_author, make_category
from tests.e2e.conftest import Screenshot, log_in
from tests.e2e.paid_stories import paid_story, subscriber

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_gift_opens_the_article_for_a_reader_over_the_limit_without_using_a_credit(
    new_page, screenshot: Screenshot, viewport: str, plans: None
) -> None:
    category, author = make_category("Harbour"), make_author("Ines Quay")
    gifted, marker = paid_story("The dredging contract", category=category, author=author)
    fillers = [
        paid_story(f"Filler {n}", category=category, author=author)[0] for n in range(settings.FREE_ARTICLES_PER_DAY)
    ]
    giver = subscriber(f"giver.{viewport}@example.com")

    page: Page = new_page()
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"/accounts/login/?next={gifted.get_absolute_url()}")
    screenshot(page, "giver-logs-in")
    log_in(page, giver.email)
    page.wait_for_url(lambda url: urlsplit(url).path == gifted.get_absolute_url())
    expect(page.get_by_role("button", name="Gift this article")).to_be_visible()
    screenshot(page, "story-with-gift-button")
    page.get_by_role("button", name="Gift this article").click()
    expect(page.get_by_role("heading", name="Your gift link is ready")).to_be_visible()
    link = page.get_by_role("textbox", name="Gift link").input_value()
    assert urlsplit(link).path == gifted.get_absolute_url()
    token = parse_qs(urlsplit(link).query)["gift"][0]
    page.get_by_role("button", name="Copy link").click()
    expect(page.get_by_text("Link copied.")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == link
    mailto = page.get_by_role("link", name="by email").get_attribute("href")
    assert mailto.startswith("mailto:?subject=") and token in mailto
    screenshot(page, "gift-link")

    reader: Page = new_page()
    for n, filler in enumerate(fillers):
        reader.goto(filler.get_absolute_url())
        screenshot(reader, f"free-article-{n + 1}")
    reader.goto(gifted.get_absolute_url())
    expect(reader.locator("section.paywall")).to_be_visible()
    expect(reader.get_by_text(marker)).to_have_count(0)
    screenshot(reader, "over-the-limit")
    before = list(MeterDay.objects.order_by("reader").values_list("reader", "count"))

    reader.goto(link)
    expect(reader.get_by_text(marker)).to_be_visible()
    expect(reader.get_by_text("A subscriber gifted you this article")).to_be_visible()
    expect(reader.locator("section.paywall")).to_have_count(0)
    expect(reader.locator(".paywalled-content")).to_contain_text(marker)
    assert list(MeterDay.objects.order_by("reader").values_list("reader", "count")) == before
    screenshot(reader, "gift-read-in-full")

    page.goto("/account/#gifts")
    gifts = page.locator("#gifts")
    expect(gifts).to_contain_text("The dredging contract")
    expect(gifts).to_contain_text("opened 1 time")
    screenshot(page, "account-gifts")
    gifts.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("status")).to_contain_text("revoked")
    assert Gift.objects.get(token=token).revoked_at is not None

    reader.goto(link)
    expect(reader.get_by_text("This gift link has expired or is no longer valid.")).to_be_visible()
    expect(reader.get_by_text(marker)).to_have_count(0)
    screenshot(reader, "revoked-gift")
