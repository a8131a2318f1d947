"""A reader not ready to pay or make an account asks for the free morning digest
from the end of a story, confirms from the email the site sent (caught by a real
SMTP server on loopback), receives the next morning's free edition (the paid part
of a story stays out of it) and follows it back to the site, and finds who we are
and what we keep from the footer: the about page and the policies."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Page, expect

from articles.models import Article
from articles.models import Page as SitePage
from newsletter.models import Delivery, EmailSignup
from tests.conftest import MARKER, make_article
from tests.e2e.conftest import Screenshot, audit_email, watch_csp
from tests.smtp_server import smtp_server, use_smtp

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CONFIRM_LINK = re.compile(r"https?://\S+/newsletter/confirm/\S+/")
POLICIES = {"About us": "/about/", "Contact": "/contact/", "Corrections": "/corrections/", "Privacy": "/privacy/",
            "Terms": "/terms/"}  # fmt: skip


@pytest.fixture
def smtp(settings, live_server):
    settings.SITE_URL = live_server.url  # the emailed link points at the server under test
    with smtp_server() as (recorder, port):
        use_smtp(settings, port)
        yield recorder


def test_reader_signs_up_by_email_gets_the_free_edition_and_finds_the_policies_from_the_footer(
    page: Page, screenshot: Screenshot, smtp, live_server, viewport: str, settings, csp_violations: list[str]
) -> None:
    SitePage.objects.create(
        slug="about",
        title="About The Ledger",
        body="We are an independent newsroom.\n\n## The masthead\n\n- **Editor:** Dana Whitfield",
    )
    SitePage.objects.create(slug="privacy", title="Privacy policy", body="We keep as little about you as we can.")
    SitePage.objects.create(slug="terms", title="Terms of use", body="Read, share a link, quote fairly.")
    # Yesterday's metered lead: the free edition carries its opening, never its paid part (MARKER).
    # Both went live before this hour began, so today's digest (sent at this hour) holds them.
    lead = make_article(title="Dredging plan passes", publish_at=timezone.now() - timedelta(minutes=70))
    earlier = timezone.now() - timedelta(hours=2)
    article = make_article(access=Article.Access.FREE, title="The harbour inspections, in full", publish_at=earlier)
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

    # The next digest goes out (its hour is now): the confirmed reader gets the free edition.
    settings.NEWSLETTER_DAILY_HOUR = timezone.localtime().hour
    call_command("send_newsletter", "--no-progress")
    [digest] = [message for message in smtp.to(email) if message["Subject"].endswith(lead.title)]
    delivery = Delivery.objects.get(signup__email=email)
    assert delivery.full_text is False
    html = digest.get_body(("html",)).get_content()
    text = digest.get_body(("plain",)).get_content()
    assert "Opening paragraph number one" in html and MARKER not in html and MARKER not in text
    assert article.title in html  # the free story they signed up from is in it too
    page = page.context.new_page()  # the mail client's window, at the same width
    watch_csp(page, csp_violations)  # the site's pages it opens keep to the policy too
    page.set_content(html, wait_until="load")
    expect(page.get_by_text(lead.title).first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the email scrolls sideways"
    assert not (problems := audit_email(page)), "axe-core on the free edition:\n" + "\n".join(problems)
    screenshot(page, "free edition")
    page.get_by_role("link", name=lead.title).first.click()
    page.wait_for_url(lambda url: urlsplit(url).path == lead.get_absolute_url())
    expect(page.get_by_role("heading", level=1, name=lead.title)).to_be_visible()
    screenshot(page, "story from the email")

    footer = page.get_by_role("contentinfo")
    for name, path in POLICIES.items():
        expect(footer.get_by_role("link", name=name, exact=True)).to_have_attribute("href", path)
    footer.get_by_role("link", name="About us").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/about/")
    expect(page.get_by_role("heading", name="About The Ledger")).to_be_visible()
    expect(page.get_by_text("Dana Whitfield")).to_be_visible()
    screenshot(page, "about")
    page.get_by_role("contentinfo").get_by_role("link", name="Privacy").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/privacy/")
    expect(page.get_by_role("heading", name="Privacy policy")).to_be_visible()
    screenshot(page, "privacy")
    page.get_by_role("contentinfo").get_by_role("link", name="Terms").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/terms/")
    expect(page.get_by_role("heading", name="Terms of use")).to_be_visible()
    screenshot(page, "terms")
    assert MARKER not in page.content()
