"""The per-address backstop: honest about why it stopped a reader, not held
against logged-in readers, and an IPv6 client's whole /64 is one address."""

import pytest
from django.test import Client

from articles.models import Article

from .conftest import MARKER, PASSWORD, make_article, make_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("both_meter_stores")]


@pytest.fixture
def stories(category, author, settings) -> list[Article]:
    settings.FREE_ARTICLES_PER_IP_PER_DAY = 2
    return [make_article(category=category, authors=[author]) for _ in range(4)]


def page(client: Client, article: Article) -> str:
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.usefixtures("plans")
def test_a_new_reader_stopped_by_the_address_backstop_is_told_why(stories, settings) -> None:
    settings.STRIPE_SECRET_KEY = "sk_test_payments_open"  # the box then sells the plan as well as the free account
    for story in stories[:2]:  # two other readers on the same office address
        assert MARKER in page(Client(REMOTE_ADDR="203.0.113.9"), story)
    html = page(Client(REMOTE_ADDR="203.0.113.9"), stories[2])  # a reader who has read nothing
    assert MARKER not in html
    assert "You've read your" not in html  # false for this reader
    assert "Free reading from your connection is used up for today." in html
    assert "Readers sharing your internet address" in html
    assert f'/accounts/login/?next={stories[2].get_absolute_url()}"' in html
    assert f'/accounts/signup/?next={stories[2].get_absolute_url()}"' in html
    assert 'href="/subscribe/?plan=' in html


def test_a_reader_out_of_their_own_credits_is_told_that(stories, settings) -> None:
    settings.FREE_ARTICLES_PER_IP_PER_DAY = 0
    reader = Client()
    for story in stories[:3]:
        assert MARKER in page(reader, story)
    html = page(reader, stories[3])
    assert "You've read your 3 free articles for today." in html
    assert "Free reading from your connection" not in html


def test_logging_in_gets_past_the_address_backstop_with_the_accounts_own_allowance(stories) -> None:
    for story in stories[:2]:
        assert MARKER in page(Client(REMOTE_ADDR="203.0.113.9"), story)
    reader = Client(REMOTE_ADDR="203.0.113.9")
    assert MARKER not in page(reader, stories[2])
    assert reader.post("/accounts/login/", {"login": make_user().email, "password": PASSWORD}).status_code == 302
    assert [MARKER in page(reader, s) for s in stories[1:]] == [True, True, True]  # its own 3, not the address's


def test_an_ipv6_clients_whole_slash_64_is_one_address(stories) -> None:
    assert MARKER in page(Client(REMOTE_ADDR="2001:db8:1:2::1"), stories[0])
    assert MARKER in page(Client(REMOTE_ADDR="2001:db8:1:2:ffff::9"), stories[1])
    assert MARKER not in page(Client(REMOTE_ADDR="2001:db8:1:2:abcd::77"), stories[2])  # same /64, new address
    assert MARKER in page(Client(REMOTE_ADDR="2001:db8:1:3::1"), stories[2])  # the next /64 is someone else
