"""The registration wall's allowance and the monthly gift allowance hold under
concurrency on the real PostgreSQL: requests from one logged-in reader,
released at once by a barrier, each on its own connection."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.conf import settings as django_settings
from django.db import connections
from django.test import Client
from django.urls import reverse

from articles.models import Gift
from subscriptions.models import MeterDay

from .conftest import MARKER, make_article, make_author, make_category, make_subscription, make_user

pytestmark = pytest.mark.django_db(transaction=True)


def race(n: int, session: str, act: Callable[[Client, int], bool]) -> list[bool]:
    barrier = threading.Barrier(n)
    results: list[bool | None] = [None] * n

    def run(i: int) -> None:
        client = Client()
        client.cookies[django_settings.SESSION_COOKIE_NAME] = session
        try:
            barrier.wait(timeout=10)
            results[i] = act(client, i)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert all(r is not None for r in results), "a request did not finish"
    return results  # type: ignore[return-value]


def session_of(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[django_settings.SESSION_COOKIE_NAME].value


def test_a_free_account_reading_twenty_stories_at_once_gets_exactly_its_allowance(settings) -> None:
    settings.FREE_ARTICLES_PER_DAY_REGISTERED = 5
    reader = make_user()
    category, author = make_category(), make_author()
    articles = [make_article(category=category, authors=[author]) for _ in range(20)]

    def read(client: Client, i: int) -> bool:
        return MARKER in client.get(articles[i].get_absolute_url()).content.decode()

    assert sum(race(20, session_of(reader), read)) == 5
    assert MeterDay.objects.get(reader=f"u:{reader.pk}").count == 5


def test_gifting_ten_stories_at_once_makes_exactly_the_monthly_allowance(settings) -> None:
    settings.GIFT_ARTICLES_PER_MONTH = 3
    giver = make_user()
    make_subscription(giver)
    category, author = make_category(), make_author()
    articles = [make_article(category=category, authors=[author]) for _ in range(10)]

    def gift(client: Client, i: int) -> bool:
        response = client.post(reverse("articles:gift", kwargs={"slug": articles[i].slug}))
        return response.status_code == 200

    assert sum(race(10, session_of(giver), gift)) == 3
    assert Gift.objects.filter(giver=giver).count() == 3
