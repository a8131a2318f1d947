"""The reading pages cost a fixed number of SQL queries, however many related
items they list: 3 articles or 30 (no N+1 over authors, categories or images)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from articles.models import Article, Author, Category
from articles.search import HOME_LATEST
from tests.conftest import make_article, make_author, make_category

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _render_every_time(settings) -> None:
    """The queries of a render: the cached pages cost none (tests/test_page_cache.py)."""
    settings.PAGE_CACHE_SECONDS = 0


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries)


def grow(
    add: Callable[[int], None], url: Callable[[], str], client, small: int = 3, large: int = 30
) -> tuple[int, int]:
    """Queries for `url` with `small` related items, then with `large`."""
    for i in range(small):
        add(i)
    client.get(url())  # warm the short-lived caches (navigation, default plan) the same way for both counts
    few = count_queries(client, url())
    for i in range(small, large):
        add(i)
    many = count_queries(client, url())
    return few, many


@pytest.fixture
def section() -> Category:
    return make_category("Defense")


@pytest.fixture
def writers() -> list[Author]:
    return [make_author(), make_author()]


def _adder(section: Category, writers: list[Author], **extra) -> Callable[[int], None]:
    def add(i: int) -> None:
        make_article(category=section, authors=writers, title=f"Shipyard report {i}", **extra)

    return add


def test_home_page_query_count_is_flat(client, section, writers) -> None:
    other = make_category("Politics")

    def add(i: int) -> None:
        make_article(category=section if i % 2 else other, authors=writers)

    # Enough stories from the start that the section rails have some the top of the page does not show.
    few, many = grow(add, lambda: "/", client, small=HOME_LATEST + 5)
    assert few == many


def test_category_page_query_count_is_flat(client, section, writers) -> None:
    few, many = grow(_adder(section, writers), section.get_absolute_url, client)
    assert few == many


def test_author_page_query_count_is_flat(client, section, writers) -> None:
    few, many = grow(_adder(section, writers), writers[0].get_absolute_url, client)
    assert few == many


def test_search_page_query_count_is_flat(client, section, writers) -> None:
    few, many = grow(_adder(section, writers), lambda: "/search/?q=shipyard", client)
    assert few == many


def test_article_page_query_count_is_flat(client, section, writers, settings) -> None:
    # A free article read anonymously: the meter is not involved, only the page itself.
    # The rendering path is measured; served from the page cache it costs less (tests/test_page_cache.py).
    settings.PAGE_CACHE_SECONDS = 0
    story = make_article(category=section, authors=writers, access=Article.Access.FREE, title="The free one")
    few, many = grow(_adder(section, writers), story.get_absolute_url, client)
    assert few == many


def test_paginated_lists_really_grew(client, section, writers) -> None:
    """Guard for the tests above: with 30 items the lists are paginated and full."""
    add = _adder(section, writers)
    for i in range(30):
        add(i)
    page = client.get(section.get_absolute_url()).content.decode()
    assert page.count('class="lead-story__title"') + page.count('class="card__title"') == 12  # the lead, then cards
    assert 'rel="next"' in page
    older = re.search(r'href="\?older=(\d+)"', page).group(1)
    older_page = client.get(f"{section.get_absolute_url()}?older={older}").content.decode()
    assert older_page.count('class="card__title"') == 12 and 'class="lead-story__title"' not in older_page
