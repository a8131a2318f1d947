"""Readers are named and told their billing state in their own words: their name or
email, never the generated username; "Your free trial ends on …", not "trialing"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from .conftest import PASSWORD, make_subscription, make_user

pytestmark = pytest.mark.django_db


def test_signing_in_names_the_reader_by_email_not_the_generated_username() -> None:
    make_user("plain@example.com")
    get_user_model().objects.filter(email="plain@example.com").update(username="new39091182")

    page = Client().post("/accounts/login/", {"login": "plain@example.com", "password": PASSWORD}, follow=True)

    html = page.content.decode()
    assert "signed in as plain@example.com" in html
    assert "new39091182" not in html


def test_a_reader_with_a_name_is_named() -> None:
    make_user("named@example.com", first_name="Ada", last_name="Lovelace")
    html = Client().post("/accounts/login/", {"login": "named@example.com", "password": PASSWORD}, follow=True)
    assert "signed in as Ada Lovelace" in html.content.decode()


@pytest.mark.parametrize(
    ("status", "extra", "words"),
    [
        ("trialing", {"trial_end": timezone.now() + timedelta(days=9)}, "Your free trial ends on"),
        ("active", {}, "Your subscription is active"),
        ("past_due", {}, "We couldn't take your last payment"),
        ("paused", {}, "Your subscription is paused"),
        ("canceled", {}, "Your subscription has ended"),
    ],
)
def test_the_account_page_says_the_billing_state_in_words(status, extra, words) -> None:
    reader = make_user()
    make_subscription(reader, status, **extra)
    client = Client()
    client.force_login(reader)
    html = client.get("/account/").content.decode()
    assert words in html
    assert "Trialing" not in html and "Past due" not in html and "past_due" not in html
