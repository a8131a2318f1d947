"""A reader not ready to pay or make an account asks for the free morning digest
from the end of a story, confirms from the email the site sent (caught by a real
SMTP server on loopback), and finds who we are and what we keep from the footer."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from articles.models import Article
from articles.models import Page as SitePage
from newsletter.models import EmailSignup
from tests.conftest import MARKER, make_article
from tests.e2e.conftest import Screenshot
from tests.smtp_server import smtp_server, use_smtp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CONFIRM_LINK = re.compile(r"https?://\S+/newsletter/confirm/\S+/")


@pytest.fixture
def smtp(settings, live_server):
    settings.SITE_URL = live_server.url  # the emailed link points at the server under test
    with smtp_server() as (recorder, port):
        use_smtp(settings, port)
        yield recorder


def test_reader_signs_up_for_the_digest_by_email_and_finds_the_about_and_privacy_pages(
    page: Page, screenshot: Screenshot, smtp, live_server, viewport: str
) -> None:
    SitePage.objects.create(
        slug="about",
        title="About The Ledger",
        body="We are an independent newsroom.\n\n## The masthead\n\n- **Editor:** Dana Whitfield",
    )
    SitePage.objects.create(slug="privacy", title="Privacy policy", body="We keep as little about you as we can.")
    article = make_article(access=Article.Access.FREE, title="The harbour inspections, in full")
    email = f"digest.{viewport}@example.com"

    page.goto(article.get_absolute_url())
    form = page.get_by_role("form", name="Liked this story? Get the free morning digest")
    form.scroll_into_view_if_needed()
    expect(form).to_be_visible()
    screenshot(page, "article-end-signup")
    form.get_by_label("Your email address").fill(email)
    form.get_by_role("button", name="Sign up free").click()
    page.wait_for_url("**/newsletter/check-your-inbox/")
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    screenshot(page, "check-your-inbox")

    [message] = smtp.to(email)
    links = CONFIRM_LINK.findall(message.get_body(("plain",)).get_content())
    assert len(links) == 1 and links[0].startswith(live_server.url)
    assert EmailSignup.objects.get(email=email).confirmed_at is None

    page.goto(links[0])
    expect(page.get_by_text(email)).to_be_visible()
    screenshot(page, "confirm")
    page.get_by_role("button", name="Yes, send me the digest").click()
    expect(page.get_by_role("heading", name="You're signed up")).to_be_visible()
    screenshot(page, "confirmed")
    assert EmailSignup.objects.get(email=email).confirmed_at is not None
    assert len(smtp.to(email)) == 1  # one confirmation, nothing more

    footer = page.get_by_role("contentinfo")
    footer.get_by_role("link", name="About us").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/about/")
    expect(page.get_by_role("heading", name="About The Ledger")).to_be_visible()
    expect(page.get_by_text("Dana Whitfield")).to_be_visible()
    screenshot(page, "about")
    page.get_by_role("contentinfo").get_by_role("link", name="Privacy").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/privacy/")
    expect(page.get_by_role("heading", name="Privacy policy")).to_be_visible()
    screenshot(page, "privacy")
    assert MARKER not in page.content()
