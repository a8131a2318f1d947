"""With payments not configured (no Stripe keys), nothing sells what the site cannot do:
the paywall, the meter bar, the free readers' emails and the subscribe page offer no
trial and no subscription, say subscriptions are not open yet, and offer what works —
a free account and the morning digest. With keys set, the same pages sell the trial."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from articles.models import Article
from newsletter import sending
from newsletter.models import Preference

from .conftest import make_article, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("plans")]

NOT_OPEN = "Subscriptions are not open yet"


@pytest.fixture
def closed(settings) -> None:
    settings.STRIPE_SECRET_KEY = ""


@pytest.fixture
def opened(settings) -> None:
    settings.STRIPE_SECRET_KEY = "sk_test_payments_open"


def _read_until_the_paywall(client: Client, category, author) -> tuple[str, str]:
    """The meter bar on the last free article, and the paywall after it."""
    stories = [make_article(category=category, authors=[author]) for _ in range(4)]
    pages = [client.get(s.get_absolute_url()).content.decode() for s in stories]
    return pages[2], pages[3]


def test_closed_paywall_and_meter_bar_offer_an_account_and_the_digest_not_a_trial(
    closed, client, category, author
) -> None:
    last_free, paywall = _read_until_the_paywall(client, category, author)
    assert 'class="meter-note"' in last_free
    meter_bar = last_free.split('class="meter-note"', 1)[1].split("</p>", 1)[0]
    assert "/subscribe/" not in meter_bar and "/accounts/signup/" in meter_bar
    box = paywall.split('<section class="paywall"', 1)[1].split("</section>", 1)[0]
    assert NOT_OPEN in box
    assert "free trial" not in box.lower() and "days free" not in box and "/subscribe/" not in box
    assert "Create a free account for 2 more articles today" in box
    assert 'action="/newsletter/"' in box  # the digest's sign-up


def test_open_paywall_leads_with_the_trial_and_the_account_second(opened, client, category, author) -> None:
    last_free, paywall = _read_until_the_paywall(client, category, author)
    assert "/subscribe/" in last_free.split('class="meter-note"', 1)[1].split("</p>", 1)[0]
    box = paywall.split('<section class="paywall"', 1)[1].split("</section>", 1)[0]
    assert NOT_OPEN not in box
    trial, account = box.index("Start your 14-day free trial"), box.index("Create a free account")
    assert trial < account
    # One sentence between the headline and the button.
    before_button = box[box.index("</h2>") : trial]
    assert before_button.count("<p") == 2  # the offer, and the button's own paragraph


def test_closed_subscribe_page_sells_no_trial(closed, client) -> None:
    body = Client().get("/subscribe/?plan=weekly").content.decode()
    assert NOT_OPEN in body
    assert "free trial" not in body.lower() and "days free" not in body and "/subscribe/checkout/" not in body


@pytest.mark.parametrize("payments", ["closed", "opened"])
def test_a_free_readers_email_invites_to_subscribe_only_when_payments_are_open(payments, request, settings) -> None:
    request.getfixturevalue(payments)
    reader = make_user(f"free-{payments}@example.com")
    Preference.objects.create(user=reader, digest=True)
    now = timezone.now()
    make_article(access=Article.Access.SUBSCRIBERS, publish_at=now - timedelta(minutes=90))
    settings.NEWSLETTER_DAILY_HOUR = timezone.localtime(now).hour
    sending.schedule(now)
    sending.Sender().run()
    [message] = mail.outbox
    html, text = message.alternatives[0][0], message.body
    if payments == "closed":
        assert NOT_OPEN in html and NOT_OPEN in text
        assert "/subscribe/" not in html and "/subscribe/" not in text
    else:
        assert NOT_OPEN not in html and "/subscribe/" in html and "/subscribe/" in text


@pytest.mark.parametrize("path", ["/", "/no-such-page/"])
def test_closed_header_and_footer_offer_the_digest_not_a_subscription(closed, client, path) -> None:
    page = client.get(path).content.decode()
    header = page.split('class="account-nav"', 1)[1].split("</nav>", 1)[0]
    footer = page.split('class="site-footer"', 1)[1]
    assert 'href="/subscribe/"' not in header and 'href="/subscribe/"' not in footer
    assert ">Free digest</a>" in header and ">Free digest</a>" in footer


def test_open_header_and_footer_sell_the_subscription(opened, client) -> None:
    page = client.get("/").content.decode()
    header = page.split('class="account-nav"', 1)[1].split("</nav>", 1)[0]
    assert 'href="/subscribe/">Subscribe</a>' in header
    assert 'href="/subscribe/">Subscribe</a>' in page.split('class="site-footer"', 1)[1]
