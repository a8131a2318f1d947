"""A verified subscriber (complimentary access) logs in from the paywall, reads
a metered and a subscribers-only story in full without ads, and then posts,
replies to, edits and deletes a comment."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect

from articles.models import Article, Comment
from subscriptions.models import ComplimentaryAccess
from tests.conftest import make_article, make_user
from tests.e2e.comment_steps import post_reply_edit_delete
from tests.e2e.conftest import Screenshot, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def story(access: str, title: str) -> tuple[Article, str]:
    marker = f"Only readers with access read {uuid.uuid4().hex}."
    body = f"The opening of {title.lower()}.\n\n[paywall]\n\n{marker}\n\nThe end."
    return make_article(access=access, title=title, body=body), marker


def ad_slots(page: Page) -> Locator:
    return page.get_by_role("complementary", name=re.compile(r"^Advertisement"))


def test_subscriber_reads_everything_without_ads_and_manages_a_comment(
    page: Page, screenshot: Screenshot, viewport: str
) -> None:
    user = make_user(f"comp.{viewport}@example.com")
    ComplimentaryAccess.objects.create(user=user, until=timezone.now() + timedelta(days=30), note="e2e")
    metered, metered_marker = story(Article.Access.METERED, "Tides of the port budget")
    exclusive, exclusive_marker = story(Article.Access.SUBSCRIBERS, "The shipyard ledger")

    page.goto(exclusive.get_absolute_url())
    paywall = page.get_by_role("region", name="This story is for subscribers.")
    expect(paywall).to_be_visible()
    paywall.get_by_role("link", name="Log in").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/accounts/login/")
    screenshot(page, "login")
    log_in(page, user.email)
    page.wait_for_url(lambda url: urlsplit(url).path == exclusive.get_absolute_url())

    expect(page.get_by_role("navigation", name="Account").get_by_role("button", name="Log out")).to_be_visible()
    expect(page.get_by_text(exclusive_marker)).to_be_visible()
    expect(page.locator("section.paywall")).to_have_count(0)
    expect(ad_slots(page)).to_have_count(0)
    screenshot(page, "subscribers-only-in-full")

    page.goto(metered.get_absolute_url())
    expect(page.get_by_text(metered_marker)).to_be_visible()
    expect(page.locator("section.paywall")).to_have_count(0)
    expect(page.locator(".meter-note")).to_have_count(0)  # subscribers are not metered
    expect(ad_slots(page)).to_have_count(0)
    expect(page.locator(".ad-slot")).to_have_count(0)
    screenshot(page, "metered-in-full")
    page.goto("/")
    expect(page.get_by_role("link", name=metered.title).first).to_be_visible()
    expect(ad_slots(page)).to_have_count(0)
    screenshot(page, "home-without-ads")
    page.goto(metered.get_absolute_url())

    post_reply_edit_delete(page, screenshot, article_path=metered.get_absolute_url(), author_name=user.username)
    assert not Comment.objects.filter(article=metered).exists()
