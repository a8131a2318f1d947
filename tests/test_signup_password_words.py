"""Sign-up says the password rules in plain words, from the validators the site runs,
not Django's list of "Your password can't be…" lines."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_signup_says_the_password_rules_in_one_plain_sentence() -> None:
    body = Client().get("/accounts/signup/").content.decode()
    assert "Your password can" not in body and "<ul><li>" not in body
    assert (
        "Use at least 8 characters: not close to your email address or name, "
        "not a password many people use and not only numbers." in body
    )
    assert 'aria-describedby="id_password1_helptext"' in body


def test_the_sentence_follows_the_validators_the_site_runs(settings) -> None:
    settings.AUTH_PASSWORD_VALIDATORS = [
        {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    ]
    from django.contrib.auth.password_validation import get_default_password_validators

    get_default_password_validators.cache_clear()
    try:
        body = Client().get("/accounts/signup/").content.decode()
    finally:
        get_default_password_validators.cache_clear()
    assert "Use at least 12 characters." in body
