"""A new anonymous reader uses up the day's free articles and meets the paywall.

Each article hides a unique sentence after its teaser; the journey checks that
sentence is shown while credits last and is nowhere in the page (markup,
serialized DOM, JSON-LD) once the paywall is up.
"""

from __future__ import annotations

import json
import re
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from articles.models import Article
from tests.conftest import make_article, make_author, make_category
from tests.e2e.conftest import Screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def metered_story(n: int, *, category, author, explicit_break: bool) -> tuple[Article, str, str]:
    """A metered article whose unique marker sentence sits just after the teaser.

    Half use the editor's `[paywall]` line, half the default break after
    TEASER_PARAGRAPHS paragraphs, so both ways of ending the teaser are covered.
    """
    marker = f"Paid sentence {uuid.uuid4().hex} of story {n}."
    opening = f"Story {n} opens in the open."
    if explicit_break:
        body = f"{opening}\n\n[paywall]\n\n{marker}\n\nIt goes on for subscribers."
    else:
        more = "\n\n".join(f"Public paragraph {i} of story {n}." for i in range(2, settings.TEASER_PARAGRAPHS + 1))
        body = f"{opening}\n\n{more}\n\n{marker}\n\nIt goes on for subscribers."
    article = make_article(
        category=category, authors=[author], title=f"Harbour story {n}", body=body, access=Article.Access.METERED
    )
    # The premise of every assertion below: the marker is paid text, not teaser.
    assert marker in article.body_html and marker not in article.teaser_html
    return article, opening, marker


def expect_ads_shown(page: Page) -> None:
    slots = page.get_by_role("complementary", name=re.compile(r"^Advertisement"))
    expect(slots.first).to_be_visible()
    for slot in slots.all():
        expect(slot).to_be_visible()
        expect(slot).to_contain_text("Advertisement")


def test_anonymous_reader_reads_the_free_allowance_then_meets_the_paywall(
    page: Page, screenshot: Screenshot, plans: None, settings
) -> None:
    settings.STRIPE_SECRET_KEY = "sk_test_paywall_journey"  # payments open: the paywall may sell the trial
    limit = settings.FREE_ARTICLES_PER_DAY
    assert limit >= 1
    category, author = make_category("Harbour"), make_author("Ines Quay")
    stories = [metered_story(n, category=category, author=author, explicit_break=n % 2 == 0) for n in range(limit + 1)]

    page.goto("/")
    expect(page.get_by_role("link", name=stories[0][0].title).first).to_be_visible()
    expect_ads_shown(page)
    screenshot(page, "home")

    for n, (article, _opening, marker) in enumerate(stories[:limit]):
        page.goto(article.get_absolute_url())
        expect(page.get_by_role("heading", level=1, name=article.title)).to_be_visible()
        expect(page.get_by_text(marker)).to_be_visible()
        left = limit - n - 1
        note = (
            "This is your last free article today."
            if left == 0
            else f"{left} free article{'s' if left != 1 else ''} left today."
        )
        expect(page.locator(".meter-note")).to_contain_text(note)
        expect(page.get_by_role("region", name="This story is for subscribers.")).to_have_count(0)
        expect_ads_shown(page)
        screenshot(page, f"free-article-{n + 1}")

    article, opening, marker = stories[limit]
    page.goto(article.get_absolute_url())
    paywall = page.get_by_role("region", name=f"You've read your {limit} free article")
    expect(paywall).to_be_visible()
    expect(paywall).to_contain_text(
        "Read everything, ad-free: 14 days free, then $0.50/week, billed $2.00 every 4 weeks."
    )
    trial = paywall.get_by_role("link", name="Start your 14-day free trial")
    expect(trial).to_be_visible()
    expect(trial).to_have_attribute("href", "/subscribe/?plan=weekly")
    # Subscribing leads; the free account is the second offer, below it.
    account = paywall.get_by_role("link", name=re.compile("Create a free account"))
    assert trial.bounding_box()["y"] < account.bounding_box()["y"]
    expect(paywall.locator("p").first).to_have_class("paywall__offer")
    expect(paywall).to_contain_text("Already a subscriber?")
    login = paywall.get_by_role("link", name="Log in")
    expect(login).to_be_visible()
    href = login.get_attribute("href") or ""
    assert urlsplit(href).path == "/accounts/login/"
    assert parse_qs(urlsplit(href).query)["next"] == [article.get_absolute_url()]
    # The teaser is still there; the meter note is not (there is nothing left to count).
    expect(page.get_by_text(opening)).to_be_visible()
    expect(page.locator(".meter-note")).to_have_count(0)
    # No advertisement after the paywall box: the offer is the last thing the story asks of the reader.
    expect(page.get_by_role("complementary", name=re.compile(r"^Advertisement"))).to_have_count(0)
    screenshot(page, "paywall")

    assert marker not in page.content()
    assert marker not in page.evaluate("document.documentElement.outerHTML")
    json_ld = page.locator('script[type="application/ld+json"]').all_text_contents()
    assert json_ld, "the article page should carry NewsArticle JSON-LD"
    for text in json_ld:
        assert marker not in text
        data = json.loads(text)
        if data.get("@type") == "NewsArticle":
            assert data["isAccessibleForFree"] is False
            assert marker not in data["articleBody"]

    login.click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/accounts/login/")
    assert parse_qs(urlsplit(page.url).query)["next"] == [article.get_absolute_url()]
    expect(page.locator("input[name=password]")).to_be_visible()
    screenshot(page, "login-from-paywall")
