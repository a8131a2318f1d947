"""The article page stays within 6 SQL queries for every kind of reader.

Savepoint statements are left out of the count: they exist only because each
test runs inside a transaction; in production the meter's transaction is a
plain BEGIN/COMMIT on the connection.
"""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from subscriptions.models import default_plan

from .conftest import make_article

pytestmark = pytest.mark.django_db
MAX_QUERIES = 6


def count_queries(client: Client, url: str) -> int:
    client.get("/subscribe/")  # warm the small caches: navigation ...
    default_plan()  # ... and the plan the paywall advertises
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len([q for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]])


@pytest.fixture
def stories(category, author) -> list:
    return [make_article(category=category, authors=[author]) for _ in range(8)]


def test_anonymous_reader_spending_a_credit(client, stories) -> None:
    assert count_queries(client, stories[0].get_absolute_url()) <= MAX_QUERIES


def test_anonymous_reader_rereading(client, stories) -> None:
    client.get(stories[0].get_absolute_url())
    assert count_queries(client, stories[0].get_absolute_url()) <= MAX_QUERIES


def test_anonymous_reader_over_the_limit(client, stories) -> None:
    for s in stories[:3]:
        client.get(s.get_absolute_url())
    assert count_queries(client, stories[4].get_absolute_url()) <= MAX_QUERIES


def test_subscriber_with_sessions_read_through_the_cache_as_in_production(client, stories, subscriber) -> None:
    # Sessions are cached_db (newsroom/settings.py): the session's row is read once, then
    # the page is: user, entitlement, article (with its byline), comments, related.
    client.force_login(subscriber)
    assert count_queries(client, stories[0].get_absolute_url()) <= MAX_QUERIES


@pytest.mark.parametrize("both_meter_stores", ["redis"], indirect=True)
@pytest.mark.parametrize("related", [3, 30])
def test_the_count_does_not_grow_with_related_articles(client, category, author, related, both_meter_stores) -> None:
    stories = [make_article(category=category, authors=[author]) for _ in range(related + 1)]
    # A first, rendered view: the article with its byline and topics, the "More from" cards (the meter counts in Redis).
    assert count_queries(client, stories[0].get_absolute_url()) == 2
