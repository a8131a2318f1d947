"""Search engines: a spoofed Googlebot gets the teaser, while a crawler whose
address the (loopback) DNS server confirms gets the full text, wrapped in the
element the NewsArticle JSON-LD's hasPart names."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page, expect

from articles.models import Article
from tests.dns_fake import Zone
from tests.e2e.conftest import Screenshot
from tests.e2e.paid_stories import paid_stories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@pytest.fixture
def crawler_dns(dns_zone: Zone, settings) -> Zone:
    settings.CRAWLER_FULL_TEXT = True
    settings.TRUSTED_PROXIES = ["127.0.0.1"]  # the browser plays the proxy: its X-Forwarded-For is the client
    dns_zone.host("66.249.66.1", "crawl-66-249-66-1.googlebot.com")
    dns_zone.ptr("203.0.113.9", "crawl-66-249-66-9.googlebot.com")  # the spoofer's own reverse zone
    return dns_zone


def structured(page: Page) -> dict:
    return json.loads(page.locator('script[type="application/ld+json"]').text_content())


@pytest.mark.parametrize("access", [Article.Access.SUBSCRIBERS])
def test_a_spoofed_googlebot_gets_the_teaser_and_a_verified_one_the_marked_up_text(
    new_page, crawler_dns: Zone, screenshot: Screenshot, access: str
) -> None:
    ((article, marker),) = paid_stories(1, access)

    spoofer: Page = new_page()
    spoofer.context.set_extra_http_headers({"User-Agent": GOOGLEBOT, "X-Forwarded-For": "203.0.113.9"})
    spoofer.goto(article.get_absolute_url())
    expect(spoofer.locator("section.paywall")).to_be_visible()
    expect(spoofer.get_by_text(marker)).to_have_count(0)
    data = structured(spoofer)
    assert data["isAccessibleForFree"] is False and marker not in data["articleBody"]
    screenshot(spoofer, "spoofed-googlebot")

    crawler: Page = new_page()
    crawler.context.set_extra_http_headers({"User-Agent": GOOGLEBOT, "X-Forwarded-For": "66.249.66.1"})
    crawler.goto(article.get_absolute_url())
    data = structured(crawler)
    assert data["isAccessibleForFree"] is False
    assert data["hasPart"]["isAccessibleForFree"] is False
    paywalled = crawler.locator(data["hasPart"]["cssSelector"])
    expect(paywalled).to_have_count(1)
    expect(paywalled).to_contain_text(marker)
    expect(paywalled).not_to_contain_text("The opening of estuary story 0.")
    expect(crawler.locator("section.paywall")).to_have_count(0)
    assert marker in data["articleBody"]
    assert ("1.66.249.66.in-addr.arpa.", "PTR") in crawler_dns.queries
    screenshot(crawler, "verified-googlebot")
