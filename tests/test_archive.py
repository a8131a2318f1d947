"""Section and author archives page by keyset ("older stories"), so the deepest
page costs what the first does, and paging never skips or repeats a story."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from articles.models import Article

from .conftest import make_article

pytestmark = pytest.mark.django_db


@pytest.fixture
def section_archive(category, author) -> list[Article]:
    """30 stories, newest first; four share one publish time (ties break by id)."""
    now = timezone.now()
    stories = [
        make_article(category=category, authors=[author], publish_at=now - timedelta(hours=1 + (i if i > 3 else 0)))
        for i in range(30)
    ]
    return sorted(stories, key=lambda a: (a.publish_at, a.pk), reverse=True)


def slugs_and_links(client, url: str) -> tuple[list[str], str | None, str | None]:
    response = client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    listed = [a.slug for a in response.context["articles"]]
    older = re.search(r'href="(\?older=\d+)"', page)
    newer = re.search(r'href="(\?newer=\d+)"', page)
    return listed, older and older.group(1), newer and newer.group(1)


@pytest.mark.parametrize("archive", ["category", "author"])
def test_older_links_walk_every_story_once_and_newer_links_walk_back(client, section_archive, archive) -> None:
    base = (
        section_archive[0].category if archive == "category" else section_archive[0].authors.first()
    ).get_absolute_url()
    pages, url = [], base
    while url:
        listed, older, newer = slugs_and_links(client, url)
        assert (newer is None) == (url == base)
        pages.append((listed, newer))
        url = base + older if older else None
    walked = [slug for listed, _ in pages for slug in listed]
    assert walked == [a.slug for a in section_archive]
    assert [len(listed) for listed, _ in pages] == [12, 12, 6]
    # "Newer" from the last page shows the page before it; from the second, the first page itself.
    assert slugs_and_links(client, base + pages[2][1])[0] == pages[1][0]
    assert slugs_and_links(client, base + pages[1][1])[0] == pages[0][0]


def test_a_deep_page_does_not_use_offset_or_count(client, section_archive) -> None:
    url = f"{section_archive[0].category.get_absolute_url()}?older={section_archive[20].pk}"
    with CaptureQueriesContext(connection) as ctx:
        listed, _older, _newer = slugs_and_links(client, url)
    assert listed == [a.slug for a in section_archive[21:]]
    sql = " ".join(q["sql"] for q in ctx.captured_queries).upper()
    assert "OFFSET" not in sql and "COUNT(" not in sql


def test_a_bad_or_unknown_position_shows_the_first_page(client, section_archive) -> None:
    base = section_archive[0].category.get_absolute_url()
    first = slugs_and_links(client, base)[0]
    for query in ("?older=banana", "?older=999999", "?newer=-3", "?page=7"):
        assert slugs_and_links(client, base + query)[0] == first, query
