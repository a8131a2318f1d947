"""A reader stopped by the paywall signs up, confirms their email from the
message the site sent, is logged in by that confirmation and is offered the
free trial; the comments stay closed to them until they take it, and then they
post, reply, edit and delete their own comment.

Stripe is the local fake (tests/conftest_billing.py): the pricing page only
shows the subscribe button once billing is configured and plans have prices.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from playwright.sync_api import Page, expect

from articles.models import Article
from tests.conftest import MARKER, PASSWORD, make_article
from tests.conftest_billing import WEBHOOK_SECRET
from tests.e2e.comment_steps import post_reply_edit_delete
from tests.e2e.conftest import Screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CONFIRM_LINK = re.compile(r"https?://\S+/accounts/confirm-email/\S+/")


def test_reader_signs_up_confirms_email_and_is_offered_the_trial(
    page: Page,
    screenshot: Screenshot,
    stripe_env,
    live_server,
    viewport: str,
) -> None:
    article = make_article(access=Article.Access.SUBSCRIBERS, title="Inside the shipyard audit")
    email = f"new.reader.{viewport}@example.com"

    page.goto(article.get_absolute_url())
    paywall = page.get_by_role("region", name="This story is for subscribers.")
    expect(paywall).to_be_visible()
    screenshot(page, "paywall")
    paywall.get_by_role("link", name="Start your 14-day free trial").click()
    page.wait_for_url("**/subscribe/?plan=weekly")
    plan = page.locator("#plan-weekly")
    expect(plan).to_contain_text("14 days free")
    plan.get_by_role("link", name="Start free trial").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/accounts/signup/")
    screenshot(page, "signup")

    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password1]").fill(PASSWORD)
    page.locator("input[name=password2]").fill(PASSWORD)
    page.locator("input[name=password2]").press("Enter")
    page.wait_for_url(lambda url: urlsplit(url).path == "/accounts/confirm-email/")
    screenshot(page, "verification-sent")

    address = EmailAddress.objects.get(email=email)
    assert not address.verified
    sent = [m for m in mail.outbox if m.to == [email]]
    links = [link for m in sent for link in CONFIRM_LINK.findall(m.body)]
    assert len(links) == 1, [m.body for m in mail.outbox]
    link = links[0]
    assert link.startswith(live_server.url + "/accounts/confirm-email/")
    # Not logged in before confirming: the masthead still offers to log in.
    expect(page.get_by_role("navigation", name="Account").get_by_role("link", name="Log in")).to_be_visible()

    page.goto(link)
    expect(page.get_by_text(email).first).to_be_visible()
    screenshot(page, "confirm")
    page.get_by_role("button", name=re.compile(r"^\s*confirm", re.IGNORECASE)).click()
    # The plan chosen before signing up survives sign-up and confirmation.
    page.wait_for_url("**/subscribe/?plan=weekly")
    expect(page.get_by_role("status")).to_contain_text(f"You have confirmed {email}")

    account_nav = page.get_by_role("navigation", name="Account")
    expect(account_nav.get_by_role("link", name="My account")).to_be_visible()
    expect(account_nav.get_by_role("button", name="Log out")).to_be_visible()
    address.refresh_from_db()
    assert address.verified

    plan = page.locator("#plan-weekly")
    expect(plan).to_contain_text("14 days free: nothing is charged before day 15")
    expect(plan.get_by_role("button", name="Start free trial")).to_be_visible()
    expect(plan.get_by_role("button", name="Start free trial")).to_be_enabled()
    screenshot(page, "confirmed-logged-in-trial-offer")

    # The paywall now speaks to a logged-in reader: the trial, no "log in".
    page.goto(article.get_absolute_url())
    paywall = page.get_by_role("region", name="This story is for subscribers.")
    expect(paywall).to_contain_text("14 days free, then $0.50/week, billed $2.00 every 4 weeks.")
    expect(paywall.get_by_role("link", name="Start your 14-day free trial")).to_be_visible()
    expect(paywall.get_by_text("Already a subscriber?")).to_have_count(0)
    assert MARKER not in page.content()
    screenshot(page, "paywall-logged-in")

    # Comments stay closed to a reader without a subscription ...
    expect(page.locator("#comments")).to_contain_text("Comments are for subscribers. Subscribe to join")
    expect(page.get_by_label("Add a comment")).to_have_count(0)

    # ... until they take the trial (the fake's Checkout page; it sends the signed webhooks).
    stripe_env.webhook_url = live_server.url + "/stripe/webhook/"
    stripe_env.webhook_secret = WEBHOOK_SECRET
    page.goto("/subscribe/?plan=weekly")
    page.locator("#plan-weekly").get_by_role("button", name="Start free trial").click()
    page.wait_for_url(stripe_env.base + "/pay/**")
    screenshot(page, "checkout")
    page.get_by_role("button", name="Pay with 4242 4242 4242 4242").click()
    page.wait_for_url("**/subscribe/success/**")
    expect(page.get_by_text("Welcome aboard")).to_be_visible()
    screenshot(page, "welcome")

    page.goto(article.get_absolute_url())
    expect(page.get_by_text(MARKER)).to_be_visible()
    expect(page.get_by_label("Add a comment")).to_be_visible()
    screenshot(page, "trial-reads-in-full")
    reader = get_user_model().objects.get(email=email)
    post_reply_edit_delete(page, screenshot, article_path=article.get_absolute_url(), author_name=reader.username)
