"""Search: body words are found, title hits rank first, only live articles appear."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from articles.models import Article
from tests.conftest import make_article

pytestmark = pytest.mark.django_db


def results(client, query: str) -> list[Article]:
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    return list(response.context["articles"])


def test_search_finds_words_that_are_only_in_the_body_of_a_free_story(client, category) -> None:
    story = make_article(
        category=category,
        title="Council meets on Tuesday",
        body="The agenda covered potholes.\n\nA surprise motion about lighthouses passed unanimously.",
        access=Article.Access.FREE,
    )
    make_article(category=category, title="Unrelated", body="Nothing to see.\n\nStill nothing.")
    found = results(client, "lighthouses")
    assert found == [story]
    # Stemming on PostgreSQL: the singular finds the plural.
    if connection.vendor == "postgresql":
        assert results(client, "lighthouse") == [story]


def test_title_hits_rank_above_body_only_hits(client, category) -> None:
    assert connection.vendor == "postgresql", "run the suite with DATABASE_URL pointing at PostgreSQL"
    title_hit = make_article(
        category=category,
        title="Icebreaker fleet gets a reprieve",
        body="Budget writers spared the program.\n\nOther details followed.",
        publish_at=timezone.now() - timedelta(days=3),
    )
    body_hit = make_article(
        category=category,
        title="Coast Guard budget notes",
        body="Among many items, one icebreaker was mentioned once.\n\nThe rest was about buoys.",
        publish_at=timezone.now() - timedelta(hours=1),  # newer: a date sort would put it first
    )
    assert results(client, "icebreaker") == [title_hit, body_hit]


def test_search_page_lists_results_with_a_count(client, category) -> None:
    make_article(category=category, title="Tugboat strike ends", body="Crews agreed.\n\nTugboat owners too.")
    page = client.get("/search/", {"q": "tugboat"}).content.decode()
    assert "1 result for “tugboat”" in page
    assert "Tugboat strike ends" in page


def test_empty_and_unmatched_queries(client, article) -> None:
    assert results(client, "") == []
    page = client.get("/search/", {"q": "xylophonic"}).content.decode()
    assert "Nothing matched" in page


def test_search_input_is_escaped(client, article) -> None:
    page = client.get("/search/", {"q": "<script>alert(1)</script>"}).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


@pytest.mark.skipif(connection.vendor != "postgresql", reason="ranking window is PostgreSQL full-text search")
def test_search_ranks_only_the_newest_matches_of_a_large_archive(client, category, monkeypatch) -> None:
    from articles import search

    monkeypatch.setattr(search, "SEARCH_CANDIDATES", 2)
    now = timezone.now()
    old_title_hit = make_article(category=category, title="Lighthouse keepers", publish_at=now - timedelta(days=9))
    newer = [
        make_article(category=category, body=f"A lighthouse story.\n\nPart {i}.", publish_at=now - timedelta(days=i))
        for i in (1, 2)
    ]
    found = results(client, "lighthouse")
    assert set(found) == set(newer)
    assert old_title_hit not in found


def test_the_paid_part_of_a_story_is_searched_only_for_readers_who_may_read_it(client, category, subscriber) -> None:
    story = make_article(
        category=category,
        title="Council meets on Tuesday",
        body="The agenda covered potholes.\n\n[paywall]\n\nA surprise motion about lighthouses passed unanimously.",
    )
    assert results(client, "lighthouses") == []
    assert results(client, "potholes") == [story]  # the teaser is public text
    client.force_login(subscriber)
    assert results(client, "lighthouses") == [story]


def test_search_is_rate_limited_per_client_with_a_clear_page(category, settings) -> None:
    from django.test import Client

    settings.RATE_LIMIT_SEARCH = "3/m"
    make_article(category=category, title="Tugboat strike ends")
    scraper, neighbour = Client(REMOTE_ADDR="203.0.113.5"), Client(REMOTE_ADDR="203.0.113.6")
    assert [scraper.get("/search/", {"q": f"tugboat {n}"}).status_code for n in range(4)] == [200, 200, 200, 429]
    page = scraper.get("/search/", {"q": "tugboat"})
    assert page.status_code == 429 and page["Retry-After"] == "60"
    assert "Too many searches" in page.content.decode()
    assert neighbour.get("/search/", {"q": "tugboat"}).status_code == 200  # another client is not affected


def test_a_limited_client_searches_again_in_the_next_minute(category, settings, ratelimit_clock) -> None:
    from django.test import Client

    settings.RATE_LIMIT_SEARCH = "2/m"
    scraper = Client(REMOTE_ADDR="203.0.113.5")
    assert [scraper.get("/search/", {"q": f"tug {n}"}).status_code for n in range(3)] == [200, 200, 429]
    ratelimit_clock.now += 60
    assert [scraper.get("/search/", {"q": f"boat {n}"}).status_code for n in range(3)] == [200, 200, 429]
