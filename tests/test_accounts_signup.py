"""Sign-up by email, the emailed verification link, and what an unverified
account may not do (log in, comment)."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from articles.models import Comment

from .conftest import PASSWORD, make_subscription, make_user

pytestmark = pytest.mark.django_db

CONFIRM_LINK = re.compile(r"https?://testserver(/accounts/confirm-email/[^\s/]+/)")


def logged_in_user_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


def sign_up(client: Client, email: str = "newreader@example.com"):
    return client.post("/accounts/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD})


def test_signing_up_by_email_sends_a_verification_link_and_does_not_log_in_yet() -> None:
    client = Client()
    response = sign_up(client)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    user = get_user_model().objects.get(email="newreader@example.com")
    assert not EmailAddress.objects.get(user=user).verified
    assert logged_in_user_id(client) is None
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["newreader@example.com"]
    assert message.subject.startswith("[The Ledger] ")
    assert "The Ledger" in message.body and "example.com!" not in message.body
    assert CONFIRM_LINK.search(message.body)
    page = client.get(response["Location"]).content.decode()
    assert "Check your email" in page


def test_the_emailed_link_shows_a_confirm_page_and_confirming_verifies_and_logs_in() -> None:
    client = Client()
    sign_up(client)
    link = CONFIRM_LINK.search(mail.outbox[0].body).group(1)
    user = get_user_model().objects.get(email="newreader@example.com")

    page = client.get(link)
    assert page.status_code == 200
    assert "Confirm my email" in page.content.decode()
    assert not EmailAddress.objects.get(user=user).verified  # a GET (e.g. a mail scanner) confirms nothing

    response = client.post(link)
    assert response.status_code == 302
    assert EmailAddress.objects.get(user=user).verified
    assert logged_in_user_id(client) == str(user.pk)


def test_a_bad_confirmation_link_says_it_expired() -> None:
    page = Client().get("/accounts/confirm-email/not-a-real-key/")
    assert "expired or has already been used" in page.content.decode()


def test_signing_up_needs_no_username_and_refuses_a_taken_email(free_reader) -> None:
    form = Client().get("/accounts/signup/").content.decode()
    assert 'name="email"' in form and 'name="username"' not in form
    response = sign_up(Client(), free_reader.email)
    # allauth does not reveal that the address has an account: the owner gets an email instead.
    assert get_user_model().objects.filter(email=free_reader.email).count() == 1
    assert response.status_code in (200, 302)


def test_an_unverified_reader_cannot_log_in_and_is_sent_a_new_link() -> None:
    user = make_user("unverified@example.com", verified=False)
    client = Client()
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert logged_in_user_id(client) is None
    assert [m.to for m in mail.outbox] == [[user.email]]
    assert client.get("/account/")["Location"].startswith("/accounts/login/")


def test_a_verified_reader_logs_in_with_email_and_password(free_reader) -> None:
    client = Client()
    response = client.post("/accounts/login/", {"login": free_reader.email, "password": PASSWORD})
    assert response.status_code == 302
    assert logged_in_user_id(client) == str(free_reader.pk)


@pytest.mark.parametrize("verified, allowed", [(False, False), (True, True)])
def test_only_a_verified_subscriber_may_post_a_comment(verified, allowed, article) -> None:
    user = make_user(verified=verified)
    make_subscription(user)
    client = Client()
    client.force_login(user)
    response = client.post(f"/{article.slug}/comments/", {"body": "First!", "token": "t1"})
    assert Comment.objects.filter(user=user).exists() is allowed
    assert response.status_code == (302 if allowed else 403)
