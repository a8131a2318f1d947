"""Today's reads follow the browser across log-in and log-out, both ways.

Driven only through HTTP (log in, log out, read), so these hold whatever
stores the meter's counts."""

import pytest
from django.test import Client

from articles.models import Article

from .conftest import MARKER, PASSWORD, make_article, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def stories(category, author) -> list[Article]:
    return [make_article(category=category, authors=[author]) for _ in range(7)]


def is_full(client: Client, article: Article) -> bool:
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    return MARKER in response.content.decode()


def log_in(client: Client, user) -> None:
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302 and "_auth_user_id" in client.session


def log_out(client: Client) -> None:
    assert client.post("/accounts/logout/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_logging_out_after_reading_to_the_paywall_gives_no_fresh_allowance(client, stories) -> None:
    reader = make_user()
    assert is_full(client, stories[0])  # anonymous
    log_in(client, reader)
    assert [is_full(client, s) for s in stories[1:4]] == [True, True, False]
    log_out(client)
    assert not is_full(client, stories[4])
    assert not is_full(client, stories[3])
    assert all(is_full(client, s) for s in stories[:3])  # what was read today stays readable


def test_a_browser_that_logged_in_before_reading_keeps_the_accounts_reads_after_log_out(client, stories) -> None:
    reader = make_user()
    log_in(client, reader)
    assert [is_full(client, s) for s in stories[:3]] == [True, True, True]
    log_out(client)
    assert not is_full(client, stories[3])


def test_logging_in_as_another_reader_after_log_out_keeps_the_paywall(client, stories) -> None:
    first, second = make_user(), make_user()
    log_in(client, first)
    assert all(is_full(client, s) for s in stories[:3])
    log_out(client)
    log_in(client, second)  # as a new account would, from the same browser
    assert not is_full(client, stories[3])
    log_out(client)
    assert not is_full(client, stories[4])


def test_two_browsers_on_one_account_share_its_count(stories) -> None:
    reader = make_user()
    laptop, phone = Client(), Client()
    log_in(laptop, reader)
    log_in(phone, reader)
    assert all(is_full(laptop, s) for s in stories[:2])
    assert is_full(phone, stories[2])
    assert not is_full(phone, stories[3])
    log_out(phone)
    assert not is_full(phone, stories[4])
    assert not is_full(laptop, stories[5])


def test_a_reader_with_no_reads_logs_out_without_a_meter_cookie(client, stories) -> None:
    log_in(client, make_user())
    response = client.post("/accounts/logout/")
    assert "reader" not in response.cookies
