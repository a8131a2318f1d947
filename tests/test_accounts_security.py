"""Rate limits on log-in, sign-up, password reset and login codes (allauth's
ACCOUNT_RATE_LIMITS on the shared cache); the admin's login goes through
allauth; next= never leaves the site; email goes to the console unless SMTP
is configured."""

import os
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.cache import cache
from django.test import Client

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db

TOO_MANY = "Too many failed login attempts"


@pytest.fixture(autouse=True)
def _clear_rate_limits():
    # conftest's autouse fixture clears the cache too; this module must not depend on it.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def limits(settings):
    """Lower one or more of allauth's rate limits for a test."""

    def lower(**overrides: str) -> None:
        settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, **overrides}

    return lower


def log_in(client: Client, email: str, password: str, **extra):
    return client.post("/accounts/login/", {"login": email, "password": password, **extra})


def logged_in_user_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


# --- Rate limits ---


def settings_in_a_fresh_process(expression: str, env: dict[str, str]) -> str:
    """Import newsroom.settings under another environment and evaluate `expression` on it."""
    script = f"import newsroom.settings as s; print({expression})"
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True, cwd=settings.BASE_DIR
    )
    return result.stdout.strip()


def test_the_cache_in_production_is_shared_between_processes() -> None:
    # Rate limits only hold if every worker sees the same counters: Redis or the
    # file cache, never per-process local memory (tests swap in locmem on purpose).
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(DEBUG="0", SECRET_KEY="x" * 60)
    backend = "s.CACHES['default']['BACKEND']"
    assert settings_in_a_fresh_process(backend, env) == "django.core.cache.backends.filebased.FileBasedCache"
    env["REDIS_URL"] = "redis://127.0.0.1:6379/0"
    assert settings_in_a_fresh_process(backend, env) == "newsroom.cache.RedisCache"  # Django's, a miss when down


def test_repeated_failed_logins_lock_the_account_even_against_the_right_password(free_reader) -> None:
    # Default "login_failed": 5 failures per 5 minutes per address.
    for _ in range(5):
        response = log_in(Client(), free_reader.email, "wrong-password")
        assert response.status_code == 200
        assert TOO_MANY not in response.content.decode()
    client = Client()
    response = log_in(client, free_reader.email, PASSWORD)
    assert TOO_MANY in response.content.decode()
    assert logged_in_user_id(client) is None


def test_failed_logins_for_one_address_do_not_lock_another(free_reader, subscriber) -> None:
    for _ in range(5):
        log_in(Client(), free_reader.email, "wrong-password")
    client = Client()
    assert log_in(client, subscriber.email, PASSWORD).status_code == 302
    assert logged_in_user_id(client) == str(subscriber.pk)


def test_too_many_login_attempts_from_one_address_get_429(free_reader, limits) -> None:
    limits(login="3/m/ip")
    for _ in range(3):
        assert log_in(Client(), "nobody@example.com", "guess").status_code == 200
    response = log_in(Client(), free_reader.email, PASSWORD)
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()  # our 429 page, in the site layout
    assert 'class="masthead"' in response.content.decode()


def test_too_many_signups_from_one_address_get_429(limits) -> None:
    limits(signup="2/m/ip")
    statuses = [
        Client()
        .post("/accounts/signup/", {"email": f"bot{i}@example.com", "password1": PASSWORD, "password2": PASSWORD})
        .status_code
        for i in range(3)
    ]
    assert statuses == [302, 302, 429]
    assert get_user_model().objects.filter(email__startswith="bot").count() == 2


def test_password_reset_requests_for_one_address_are_limited(free_reader) -> None:
    # Default "reset_password": 5 a minute per address (and 20 per IP).
    statuses = [Client().post("/accounts/password/reset/", {"email": free_reader.email}).status_code for _ in range(6)]
    assert statuses == [302] * 5 + [429]
    assert len(mail.outbox) == 5


def test_password_reset_requests_from_one_ip_are_limited(limits) -> None:
    limits(reset_password="2/m/ip")
    statuses = [
        Client().post("/accounts/password/reset/", {"email": f"someone{i}@example.com"}).status_code for i in range(3)
    ]
    assert statuses == [302, 302, 429]


def test_login_code_requests_for_one_address_are_limited(free_reader) -> None:
    # Default "request_login_code": 3 a minute per address.
    for _ in range(3):
        assert Client().post("/accounts/login/code/", {"email": free_reader.email}).status_code == 302
    response = Client().post("/accounts/login/code/", {"email": free_reader.email})
    assert response.status_code == 200
    assert TOO_MANY in response.content.decode()
    assert len(mail.outbox) == 3


# --- The Django admin's login ---


def test_the_admin_login_page_sends_you_to_the_site_login() -> None:
    response = Client().get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert target.path == "/accounts/login/"
    assert target.query == "next=%2Fadmin%2F"


def test_the_admin_login_form_does_not_accept_a_password_directly(editor) -> None:
    client = Client()
    response = client.post("/admin/login/", {"username": editor.username, "password": PASSWORD, "next": "/admin/"})
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == "/accounts/login/"
    assert logged_in_user_id(client) is None
    assert client.get("/admin/").status_code == 302


def test_guessing_an_editors_password_via_the_admin_meets_allauths_limit(editor) -> None:
    login_url = Client().get("/admin/login/?next=/admin/")["Location"]
    for _ in range(5):
        Client().post(login_url, {"login": editor.email, "password": "guess"})
    client = Client()
    response = client.post(login_url, {"login": editor.email, "password": PASSWORD})
    assert TOO_MANY in response.content.decode()
    assert client.get("/admin/").status_code == 302


def test_an_editor_reaches_the_admin_after_logging_in_on_the_site(editor) -> None:
    client = Client()
    login_url = Client().get("/admin/login/?next=/admin/")["Location"]
    response = client.post(login_url, {"login": editor.email, "password": PASSWORD})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_logged_in_reader_is_not_let_into_the_admin(free_reader) -> None:
    client = Client()
    client.force_login(free_reader)
    assert client.get("/admin/login/").status_code == 403
    assert urlsplit(client.get("/admin/")["Location"]).path == "/admin/login/"


# --- next= stays on the site ---

OFF_SITE = ["//evil.example", "https:///evil.example", "http://evil.example", "/\\evil.example", "///evil.example"]


def assert_same_site(location: str) -> None:
    parts = urlsplit(location)
    assert parts.scheme == "" and parts.netloc == "", location
    assert location.startswith("/") and not location.startswith(("//", "/\\")), location
    assert "evil" not in location


@pytest.mark.parametrize("target", OFF_SITE)
def test_logging_in_never_redirects_off_site(target, free_reader) -> None:
    response = log_in(Client(), free_reader.email, PASSWORD, next=target)
    assert response.status_code == 302
    assert_same_site(response["Location"])
    assert response["Location"] == settings.LOGIN_REDIRECT_URL


@pytest.mark.parametrize("target", OFF_SITE)
def test_logging_out_never_redirects_off_site(target, free_reader) -> None:
    client = Client()
    client.force_login(free_reader)
    response = client.post("/accounts/logout/", {"next": target})
    assert response.status_code == 302
    assert_same_site(response["Location"])


def test_logging_in_honours_a_next_on_the_site(free_reader) -> None:
    response = log_in(Client(), free_reader.email, PASSWORD, next="/some-article/")
    assert response["Location"] == "/some-article/"


def test_a_login_by_code_honours_only_a_next_on_the_site(free_reader) -> None:
    from .test_accounts_login import LOGIN_CODE

    for target, expected in [("//evil.example", "/"), ("/some-article/", "/some-article/")]:
        client = Client()
        mail.outbox.clear()
        client.post("/accounts/login/code/", {"email": free_reader.email, "next": target})
        code = LOGIN_CODE.search(mail.outbox[0].body).group(1)
        response = client.post("/accounts/login/code/confirm/", {"code": code, "next": target})
        assert response["Location"] == expected
        cache.clear()


# --- Email delivery ---


@pytest.mark.parametrize(
    "env, backend",
    [
        ({}, "django.core.mail.backends.console.EmailBackend"),
        ({"EMAIL_HOST": "smtp.example.com"}, "django.core.mail.backends.smtp.EmailBackend"),
    ],
)
def test_email_goes_to_the_console_unless_smtp_is_configured(env, backend) -> None:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("EMAIL_")}
    full_env.update(DEBUG="1", **env)
    assert settings_in_a_fresh_process("s.EMAIL_BACKEND", full_env) == backend


def test_tests_use_the_in_memory_outbox() -> None:
    assert settings.EMAIL_BACKEND == "django.core.mail.backends.locmem.EmailBackend"
