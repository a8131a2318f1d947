"""The money path a newcomer gets from ./scripts/dev: the local Stripe started the way
scripts/dev starts it (`python -m newsroom.dev_stripe serve`, its own process, the keys
`dev_stripe.environment()` exports, plans synced by `dev_stripe.prepare()`), and a new
reader who meets the paywall, signs up, picks a plan, passes the local test Checkout and
comes back a subscriber — with the subscription's events delivered to the site's webhook
under a real signature."""

from __future__ import annotations

import copy
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.core import mail
from playwright.sync_api import Page, expect

from articles.models import Article
from newsroom import dev_stripe
from subscriptions.models import StripeEvent, Subscription
from tests.conftest import MARKER, PASSWORD, make_article
from tests.e2e.conftest import Screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
CONFIRM_LINK = re.compile(r"https?://\S+/accounts/confirm-email/\S+/")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def local_stripe(live_server, settings, plans) -> Iterator[str]:
    """scripts/dev's three steps, with the test's own port and server address."""
    port = _free_port()
    command = [sys.executable, "-m", "newsroom.dev_stripe", "serve", "--port", str(port),
               "--webhook-url", live_server.url + "/stripe/webhook/"]  # fmt: skip
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert "Local Stripe" in (proc.stdout.readline() if proc.stdout else "")
        for name, value in dev_stripe.environment(port).items():
            setattr(settings, name, value)
        # As newsroom/settings.py does for a STRIPE_API_BASE in the environment (CSP form-action).
        policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
        policy["DIRECTIVES"]["form-action"].append(settings.STRIPE_API_BASE)
        settings.CONTENT_SECURITY_POLICY = policy
        assert dev_stripe.prepare(), "the plans should get prices in the fresh local Stripe"
        yield settings.STRIPE_API_BASE
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_new_reader_subscribes_through_the_local_stripe(
    page: Page, screenshot: Screenshot, local_stripe: str, viewport: str
) -> None:
    article = make_article(access=Article.Access.SUBSCRIBERS, title="What the harbour audit found")
    email = f"dev.money.{viewport}@example.com"

    page.goto(article.get_absolute_url())
    paywall = page.get_by_role("region", name="This story is for subscribers.")
    expect(paywall).not_to_contain_text("not open yet")
    screenshot(page, "paywall")
    paywall.get_by_role("link", name="Start your 14-day free trial").click()
    page.wait_for_url("**/subscribe/?plan=weekly")
    screenshot(page, "subscribe-page")
    page.locator("#plan-weekly").get_by_role("link", name="Start free trial").click()
    page.wait_for_url(lambda url: urlsplit(url).path == "/accounts/signup/")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password1]").fill(PASSWORD)
    page.locator("input[name=password2]").fill(PASSWORD)
    screenshot(page, "signup")
    page.locator("input[name=password2]").press("Enter")
    page.wait_for_url(lambda url: urlsplit(url).path == "/accounts/confirm-email/")
    screenshot(page, "verification-sent")
    (link,) = [link for m in mail.outbox if m.to == [email] for link in CONFIRM_LINK.findall(m.body)]
    page.goto(link)
    screenshot(page, "confirm")
    page.get_by_role("button", name=re.compile(r"^\s*confirm", re.IGNORECASE)).click()
    page.wait_for_url("**/subscribe/?plan=weekly")
    screenshot(page, "subscribe-page-logged-in")

    page.locator("#plan-weekly").get_by_role("button", name="Start free trial").click()
    page.wait_for_url(local_stripe + "/pay/**")  # the local test Checkout page
    expect(page.get_by_role("heading", level=1)).to_contain_text("Test checkout")
    screenshot(page, "local-test-checkout")
    page.get_by_role("button", name="Pay with 4242 4242 4242 4242").click()
    page.wait_for_url("**/subscribe/success/**")
    expect(page.get_by_text("Welcome aboard")).to_be_visible()
    screenshot(page, "welcome")

    page.goto(article.get_absolute_url())
    expect(page.get_by_text(MARKER)).to_be_visible()
    screenshot(page, "reading-as-a-subscriber")
    subscription = Subscription.objects.get(user__email=email)
    assert subscription.status == Subscription.Status.TRIALING
    # The local Stripe told the site too, before sending the reader back, signed as Stripe signs:
    # the webhook verified and recorded its events.
    types = set(StripeEvent.objects.values_list("type", flat=True))
    assert {"checkout.session.completed", "customer.subscription.created"} <= types, types
