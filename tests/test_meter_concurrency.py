"""The meter is exact under concurrency, in each store it counts in (real Redis, real PostgreSQL).

Each thread uses its own database connection and its own HTTP client carrying
the same reader cookie, released at once by a barrier, so the requests really
race inside the store.
"""

import threading

import pytest
from django.db import connections
from django.test import Client

from .conftest import MARKER, make_article, make_author, make_category, meter_reads

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("both_meter_stores")]


def race(urls: list[str], cookie: str) -> list[bool]:
    barrier = threading.Barrier(len(urls))
    results: list[bool | None] = [None] * len(urls)

    def read(i: int, url: str) -> None:
        client = Client()
        client.cookies["reader"] = cookie
        try:
            barrier.wait(timeout=10)
            response = client.get(url)
            assert response.status_code == 200
            results[i] = MARKER in response.content.decode()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=read, args=(i, u)) for i, u in enumerate(urls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert all(r is not None for r in results), "a request did not finish"
    return results  # type: ignore[return-value]


@pytest.fixture
def reader_cookie() -> str:
    client = Client()
    category, author = make_category(), make_author()
    warmup = make_article(category=category, authors=[author])
    response = client.get(warmup.get_absolute_url())
    return response.cookies["reader"].value


def test_one_credit_left_and_twenty_articles_at_once_gives_exactly_one(reader_cookie, settings) -> None:
    settings.FREE_ARTICLES_PER_DAY = 2  # the warm-up read used one; one is left
    category, author = make_category(), make_author()
    articles = [make_article(category=category, authors=[author]) for _ in range(20)]
    results = race([a.get_absolute_url() for a in articles], reader_cookie)
    assert sum(results) == 1
    assert [len(reads) for reads in meter_reads().values()] == [2]


def test_the_same_article_twenty_times_at_once_costs_one_credit(reader_cookie, settings) -> None:
    settings.FREE_ARTICLES_PER_DAY = 3
    article = make_article(category=make_category(), authors=[make_author()])
    results = race([article.get_absolute_url()] * 20, reader_cookie)
    assert all(results)
    [reads] = meter_reads().values()
    assert len(reads) == 2 and article.pk in reads


def test_a_burst_never_exceeds_the_limit_or_loses_a_count(reader_cookie, settings) -> None:
    settings.FREE_ARTICLES_PER_DAY = 6
    category, author = make_category(), make_author()
    articles = [make_article(category=category, authors=[author]) for _ in range(12)]
    urls = [a.get_absolute_url() for a in articles] + [articles[0].get_absolute_url()] * 4
    [before] = meter_reads().values()
    results = race(urls, reader_cookie)
    served_full = {url for url, full in zip(urls, results, strict=True) if full}
    [after] = meter_reads().values()
    assert len(after) == 6
    # Exactly the articles served in full were counted: five new ones after the warm-up read.
    assert served_full == {a.get_absolute_url() for a in articles if a.pk in after - before}
    assert len(after - before) == 5
