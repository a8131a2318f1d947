"""Sign-up does not tell who has an account by how long it takes to answer."""

import time

import pytest
from django.test import Client

from .conftest import PASSWORD, make_user

pytestmark = pytest.mark.django_db

TRIES = 6


def timed_sign_up(email: str, n: int) -> float:
    client = Client(REMOTE_ADDR=f"198.51.100.{n}")  # each try from its own address: no rate limit in play
    started = time.perf_counter()
    response = client.post("/accounts/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD})
    elapsed = time.perf_counter() - started
    assert response.status_code == 302 and response["Location"] == "/accounts/confirm-email/"
    return elapsed


def test_signing_up_with_a_known_or_a_new_address_takes_the_same_time(settings) -> None:
    # The site's real password hasher (the suite may swap in a fast one): its cost is the difference.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    known = make_user("reader@example.com")
    timed_sign_up("warm-up@example.com", 200)
    existing, new = [], []
    for n in range(TRIES):  # interleaved, so load on the machine hits both alike
        existing.append(timed_sign_up(known.email, n))
        new.append(timed_sign_up(f"new{n}@example.com", 100 + n))
    # The fastest of each: load on a shared machine only ever adds time, so the minimum is the cost itself.
    fast, slow = sorted([min(existing), min(new)])
    assert slow <= fast * 1.2, f"existing {existing}, new {new}"
