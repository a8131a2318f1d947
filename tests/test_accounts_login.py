"""Log in by emailed code, reset a forgotten password, change the email address;
and every account page is ours (site header, stylesheet, our words)."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client

from .conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-whole-new-passphrase-77"
RESET_LINK = re.compile(r"https?://testserver(/accounts/password/reset/key/[^\s/]+/)")
CONFIRM_LINK = re.compile(r"https?://testserver(/accounts/confirm-email/[^\s/]+/)")
LOGIN_CODE = re.compile(r"^([A-Z0-9]{3,}(?:-[A-Z0-9]+)*)$", re.MULTILINE)


def logged_in_user_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


def test_logging_in_with_an_emailed_code(free_reader) -> None:
    client = Client()
    response = client.post("/accounts/login/code/", {"email": free_reader.email})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/code/confirm/"
    assert logged_in_user_id(client) is None
    assert [m.to for m in mail.outbox] == [[free_reader.email]]
    code = LOGIN_CODE.search(mail.outbox[0].body).group(1)

    page = client.get("/accounts/login/code/confirm/").content.decode()
    assert "Enter your code" in page and free_reader.email in page

    response = client.post("/accounts/login/code/confirm/", {"code": code})
    assert response.status_code == 302
    assert logged_in_user_id(client) == str(free_reader.pk)


def test_a_wrong_login_code_does_not_log_in(free_reader) -> None:
    client = Client()
    client.post("/accounts/login/code/", {"email": free_reader.email})
    response = client.post("/accounts/login/code/confirm/", {"code": "NOPE-NOPE"})
    assert response.status_code == 200
    assert logged_in_user_id(client) is None


def test_resetting_a_forgotten_password_by_emailed_link(free_reader) -> None:
    client = Client()
    response = client.post("/accounts/password/reset/", {"email": free_reader.email})
    assert response["Location"] == "/accounts/password/reset/done/"
    assert [m.to for m in mail.outbox] == [[free_reader.email]]
    link = RESET_LINK.search(mail.outbox[0].body).group(1)

    # allauth moves the key from the URL into the session, then shows the form.
    form_url = client.get(link)["Location"]
    page = client.get(form_url).content.decode()
    assert "Choose a new password" in page
    response = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response["Location"] == "/accounts/password/reset/key/done/"

    assert Client().post("/accounts/login/", {"login": free_reader.email, "password": PASSWORD}).status_code == 200
    fresh = Client()
    assert fresh.post("/accounts/login/", {"login": free_reader.email, "password": NEW_PASSWORD}).status_code == 302
    assert logged_in_user_id(fresh) == str(free_reader.pk)


def test_a_used_reset_link_does_not_work_twice(free_reader) -> None:
    client = Client()
    client.post("/accounts/password/reset/", {"email": free_reader.email})
    link = RESET_LINK.search(mail.outbox[0].body).group(1)
    form_url = client.get(link)["Location"]
    client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    again = Client()
    page = again.get(again.get(link).get("Location", link)).content.decode()
    assert "This link has expired" in page


def test_changing_the_email_sends_a_verification_to_the_new_address(free_reader) -> None:
    client = Client()
    client.force_login(free_reader)
    response = client.post("/accounts/email/", {"email": "moved@example.com", "action_add": ""})
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["moved@example.com"]]
    free_reader.refresh_from_db()
    assert free_reader.email == "free@example.com"  # unchanged until the new address is confirmed
    assert not EmailAddress.objects.get(email="moved@example.com").verified

    link = CONFIRM_LINK.search(mail.outbox[0].body).group(1)
    client.post(link)
    free_reader.refresh_from_db()
    assert free_reader.email == "moved@example.com"
    assert list(EmailAddress.objects.filter(user=free_reader).values_list("email", "verified")) == [
        ("moved@example.com", True)
    ]


# --- Our templates, not allauth's defaults ---

ANONYMOUS_PAGES = {
    "/accounts/login/": "Log in to The Ledger",
    "/accounts/signup/": "Join The Ledger",
    "/accounts/password/reset/": "Reset your password",
    "/accounts/password/reset/done/": "Check your email",
    "/accounts/login/code/": "Log in with a code",
    "/accounts/confirm-email/": "Check your email",
}
MEMBER_PAGES = {
    "/accounts/email/": "Change your email address",
    "/accounts/password/change/": "Change your password",
    "/accounts/logout/": "Log out",
    "/account/delete/": "Delete your account",
}


def assert_is_our_page(html: str, heading: str) -> None:
    assert 'href="/static/css/site.css"' in html
    assert '<a class="brand" href="/">The Ledger</a>' in html
    assert 'class="site-footer"' in html
    assert re.search(rf"<h1>\s*{re.escape(heading)}\s*</h1>", html), heading
    assert "Menu:" not in html  # allauth's default layout


@pytest.mark.parametrize("url, heading", ANONYMOUS_PAGES.items())
def test_account_pages_for_visitors_are_in_the_site_layout(url, heading, db) -> None:
    response = Client().get(url)
    assert response.status_code == 200
    assert_is_our_page(response.content.decode(), heading)


@pytest.mark.parametrize("url, heading", MEMBER_PAGES.items())
def test_account_pages_for_readers_are_in_the_site_layout(url, heading, free_reader) -> None:
    client = Client()
    client.force_login(free_reader)
    response = client.get(url)
    assert response.status_code == 200
    assert_is_our_page(response.content.decode(), heading)


def test_the_login_page_offers_sign_up_reset_and_a_login_code(db) -> None:
    html = Client().get("/accounts/login/").content.decode()
    assert "<title>Log in · The Ledger</title>" in html
    assert 'href="/accounts/signup/"' in html
    assert 'href="/accounts/password/reset/"' in html
    assert 'href="/accounts/login/code/"' in html
    assert 'class="auth-form form-narrow"' in html


def test_account_emails_name_the_site_not_example_com(db) -> None:
    user = make_user("mailme@example.com")
    Client().post("/accounts/password/reset/", {"email": user.email})
    body = mail.outbox[0].body
    assert body.startswith("Hello from The Ledger!")
    assert "example.com!" not in body
