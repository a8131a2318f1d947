"""The client's address, as every per-address decision sees it (issue 31): a client that
reaches gunicorn directly cannot choose it by writing X-Forwarded-For, even on a site
configured for a proxy in front; through that proxy each reader keeps their own."""

from __future__ import annotations

import pytest
from django.test import Client

from articles.models import Article

from .conftest import MARKER, make_article

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.1"  # nginx, as the production settings name it
DIRECT = "203.0.113.9"  # a client that found gunicorn's port


@pytest.fixture(autouse=True)
def behind_our_proxy(settings) -> None:
    """The production configuration: one proxy in front, which overwrites X-Forwarded-For."""
    settings.TRUSTED_PROXIES = [PROXY]


@pytest.fixture
def stories(category, author) -> list[Article]:
    return [make_article(category=category, authors=[author]) for _ in range(3)]


def is_full(response) -> bool:
    assert response.status_code == 200
    return MARKER in response.content.decode()


def log_in_attempt(client: Client) -> int:
    return client.post("/accounts/login/", {"login": "nobody@example.com", "password": "guess"}).status_code


@pytest.mark.usefixtures("both_meter_stores")
def test_a_direct_client_cannot_choose_the_address_its_meter_backstop_counts(stories, settings) -> None:
    settings.FREE_ARTICLES_PER_IP_PER_DAY = 2
    full = [
        is_full(Client(REMOTE_ADDR=DIRECT, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}").get(s.get_absolute_url()))
        for i, s in enumerate(stories)  # cleared cookies and a made-up address every time
    ]
    assert full == [True, True, False]


def test_a_direct_client_cannot_choose_the_address_its_search_limit_counts(settings) -> None:
    settings.RATE_LIMIT_SEARCH = "2/m"
    statuses = [
        Client(REMOTE_ADDR=DIRECT, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")
        .get("/search/", {"q": f"port {i}"})
        .status_code
        for i in range(3)  # a new query each time: a repeated one may be answered from the page cache
    ]
    assert statuses == [200, 200, 429]


def test_a_direct_client_cannot_choose_the_address_its_log_in_limit_counts(settings) -> None:
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "2/m/ip"}
    statuses = [log_in_attempt(Client(REMOTE_ADDR=DIRECT, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")) for i in range(3)]
    assert statuses == [200, 200, 429]


@pytest.mark.usefixtures("both_meter_stores")
def test_through_our_proxy_each_reader_is_counted_at_their_own_address(stories, settings) -> None:
    settings.FREE_ARTICLES_PER_IP_PER_DAY = 1
    settings.RATE_LIMIT_SEARCH = "1/m"
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "1/m/ip"}
    # What the reader wrote ("6.6.6.6") stays left of the address nginx saw, and is not believed.
    readers = [Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=f"6.6.6.6, 198.51.100.{i}") for i in range(3)]
    assert [is_full(reader.get(s.get_absolute_url())) for reader, s in zip(readers, stories, strict=True)] == [True] * 3
    assert [reader.get("/search/", {"q": f"port {i}"}).status_code for i, reader in enumerate(readers)] == [200] * 3
    assert [log_in_attempt(reader) for reader in readers] == [200] * 3
    # The same reader again is over each limit: the forwarded address is theirs, not the proxy's.
    assert not is_full(
        Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.0").get(stories[1].get_absolute_url())
    )
    assert readers[0].get("/search/", {"q": "harbour"}).status_code == 429
    assert log_in_attempt(readers[0]) == 429


@pytest.mark.parametrize(
    ("peer", "forwarded", "proxies", "client"),
    [
        (DIRECT, "198.51.100.7", [PROXY], DIRECT),  # not our proxy: the header is the client's words
        (PROXY, "198.51.100.7", [PROXY], "198.51.100.7"),
        (PROXY, "6.6.6.6, 198.51.100.7", [PROXY], "198.51.100.7"),  # left of what nginx saw: ignored
        (PROXY, "198.51.100.7, 10.0.0.2", ["10.0.0.0/24"], "198.51.100.7"),  # a CDN edge, then nginx
        (PROXY, "not-an-address", [PROXY], PROXY),  # nothing a proxy of ours would write: stop at it
        (PROXY, "", [PROXY], PROXY),
        ("::ffff:10.0.0.1", "2001:db8::5", [PROXY], "2001:db8::5"),  # a dual-stack socket's form
        (PROXY, "198.51.100.7", [], PROXY),  # no proxy named: nothing forwarded is believed
    ],
)
def test_the_client_is_the_first_address_from_the_right_that_is_not_our_proxy(
    settings, peer: str, forwarded: str, proxies: list[str], client: str
) -> None:
    from django.test import RequestFactory

    from newsroom.client_ip import client_ip

    settings.TRUSTED_PROXIES = proxies
    assert client_ip(RequestFactory().get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)) == client
