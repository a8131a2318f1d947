"""Readers who are not ready to pay ask for the free digest with their email alone:
double opt-in, the same answer for every address, a rate limit, the free edition
only, and pages cached for every anonymous reader still carry a working form."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta

import pytest
from django.core import mail, signing
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from articles.models import Article
from newsletter import views as newsletter_views
from newsletter.models import Delivery, EmailSignup, Preference

from .conftest import MARKER, PASSWORD, make_article

pytestmark = pytest.mark.django_db


def confirm_path(message) -> str:
    return re.search(r"http://127\.0\.0\.1:8000(/newsletter/confirm/[^/\s]+/)", message.body).group(1)


def ask(email: str, client: Client | None = None, **extra):
    return (client or Client()).post("/newsletter/", {"email": email, "source": "footer", **extra})


def confirmed(email: str) -> EmailSignup:
    return EmailSignup.objects.create(email=email, consent_text="yes", confirmed_at=timezone.now())


def test_signing_up_sends_one_confirmation_and_the_link_confirms_with_consent_recorded() -> None:
    response = ask("New.Reader@Example.com")

    assert response.status_code == 302 and response["Location"] == "/newsletter/check-your-inbox/"
    [message] = mail.outbox
    assert message.to == ["new.reader@example.com"]
    signup = EmailSignup.objects.get()
    assert signup.confirmed_at is None and signup.source == "footer" and "morning digest" in signup.consent_text
    path = confirm_path(message)
    page = Client().get(path)  # a mail scanner opening the link confirms nothing
    assert page.status_code == 200 and "Yes, send me the digest" in page.content.decode()
    assert EmailSignup.objects.get().confirmed_at is None

    done = Client().post(path)

    assert done.status_code == 200 and "You're signed up" in done.content.decode()
    assert EmailSignup.objects.get().confirmed_at is not None


def test_a_tampered_or_expired_link_is_refused_with_a_page_that_says_so(settings) -> None:
    ask("someone@example.com")
    path = confirm_path(mail.outbox[0])
    tampered = Client().post(path[:-3] + "xx/")
    assert tampered.status_code == 400 and "damaged" in tampered.content.decode()
    week_old = signing.dumps("someone@example.com", salt=newsletter_views._CONFIRM_SALT, compress=True)
    settings.NEWSLETTER_CONFIRM_DAYS = 0  # every link is older than its life now
    expired = Client().post(f"/newsletter/confirm/{week_old}/")
    assert expired.status_code == 400 and "expired" in expired.content.decode()
    assert EmailSignup.objects.get().confirmed_at is None


def test_new_pending_and_confirmed_addresses_get_the_same_answer_and_no_flood() -> None:
    confirmed("already@example.com")
    ask("pending@example.com")
    mail.outbox.clear()

    answers = [ask(email) for email in ("fresh@example.com", "pending@example.com", "already@example.com")]

    assert {(r.status_code, r["Location"]) for r in answers} == {(302, "/newsletter/check-your-inbox/")}
    assert [m.to for m in mail.outbox] == [["fresh@example.com"]]  # pending: asked a moment ago; confirmed: nothing
    for _ in range(3):
        ask("already@example.com")
    assert len(mail.outbox) == 1


def test_a_pending_address_may_be_sent_another_link_after_a_while() -> None:
    ask("slow@example.com")
    EmailSignup.objects.update(confirmation_sent_at=timezone.now() - timedelta(hours=1))
    ask("slow@example.com")
    assert len(mail.outbox) == 2


def test_sign_ups_are_rate_limited_per_client(settings) -> None:
    settings.RATE_LIMIT_NEWSLETTER_SIGNUP = "3/m"
    answers = [ask(f"r{i}@example.com").status_code for i in range(5)]
    assert answers == [302, 302, 302, 429, 429]
    assert len(mail.outbox) == 3


def test_a_bad_address_is_asked_again_and_nothing_is_stored() -> None:
    response = ask("not an address")
    assert response.status_code == 200 and 'aria-invalid="true"' in response.content.decode()
    assert not EmailSignup.objects.exists() and not mail.outbox


def test_the_form_posts_from_a_cached_shared_article_page_that_carries_no_cookie(article, settings) -> None:
    """The page is the same for every anonymous reader (so the proxy may keep it): no token,
    no cookie set, and the POST from it works with CSRF checks on."""
    assert settings.PAGE_CACHE_SECONDS > 0
    Client(enforce_csrf_checks=True).get(article.get_absolute_url())  # renders and keeps the page
    reader = Client(enforce_csrf_checks=True)
    response = reader.get(article.get_absolute_url())
    page = response.content.decode()
    assert 'id="email-signup-article"' in page and "csrfmiddlewaretoken" not in page
    assert not response.cookies.get(settings.CSRF_COOKIE_NAME)
    free = make_article(access=Article.Access.FREE)
    shared = reader.get(free.get_absolute_url())
    assert "public" in shared["Cache-Control"] and "email-signup-article" in shared.content.decode()

    response = reader.post("/newsletter/", {"email": "cached@example.com", "source": "article"})

    assert response.status_code == 302
    assert EmailSignup.objects.get().source == "article"


def test_the_form_is_on_home_article_end_footer_and_paywall_for_anonymous_readers_only(article, subscriber) -> None:
    free = make_article(access=Article.Access.FREE)
    home = Client().get("/").content.decode()
    assert 'id="email-signup-home"' in home and 'id="email-signup-footer"' in home
    story = Client().get(free.get_absolute_url()).content.decode()
    assert 'id="email-signup-article"' in story
    assert story.count('<form class="email-signup') == 1  # at the story's end, not again in the footer
    paid = make_article(access=Article.Access.SUBSCRIBERS)
    wall = Client().get(paid.get_absolute_url()).content.decode()
    assert 'id="email-signup-paywall"' in wall and MARKER not in wall
    assert wall.count('<form class="email-signup') == 1
    client = Client()
    client.force_login(subscriber)
    assert "email-signup" not in client.get(free.get_absolute_url()).content.decode()


def test_an_account_made_later_with_a_confirmed_address_keeps_the_digest() -> None:
    confirmed("later@example.com")
    Client().post("/accounts/signup/", {"email": "later@example.com", "password1": PASSWORD, "password2": PASSWORD})
    assert Preference.objects.get(user__email="later@example.com").digest is True


@pytest.fixture
def digest_now(settings):
    settings.NEWSLETTER_DAILY_HOUR = timezone.localtime().hour
    return timezone.now()


def test_confirmed_email_only_readers_get_the_free_edition_and_can_unsubscribe(smtp, digest_now) -> None:
    confirmed("confirmed@example.com")
    EmailSignup.objects.create(email="pending@example.com", consent_text="yes")
    make_article(access=Article.Access.METERED, publish_at=digest_now - timedelta(hours=2), title="Lead story")

    call_command("send_newsletter", "--no-progress")

    assert smtp.recipients() == Counter({"confirmed@example.com": 1})
    [message] = smtp.to("confirmed@example.com")
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert "Opening paragraph number one" in html and MARKER not in html and MARKER not in text
    assert Delivery.objects.get().full_text is False
    assert "/account/emails/" not in html and "/account/emails/" not in text  # no account to log in to
    url = re.search(r"<([^>]+)>", message["List-Unsubscribe"]).group(1).removeprefix("http://127.0.0.1:8000")
    assert "Stop sending" in Client().get(url).content.decode()
    assert Client(enforce_csrf_checks=True).post(url).status_code == 200
    assert EmailSignup.objects.get(email="confirmed@example.com").unsubscribed_at is not None
    assert Delivery.objects.get().unsubscribed_at is not None
