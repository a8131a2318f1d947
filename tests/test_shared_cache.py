"""Cache-Control for a shared cache in front (newsroom/shared_cache.py): public
only for what every anonymous reader sees alike, and only without a session."""

import pytest
from django.test import Client

from articles.models import Article

from .conftest import make_article

pytestmark = pytest.mark.django_db


def is_public(response) -> bool:
    value = response["Cache-Control"]
    return "public" in value and "s-maxage=60" in value and "stale-while-revalidate=30" in value


def test_free_articles_and_listings_are_shareable_for_anonymous_readers(client, article) -> None:
    free = make_article(category=article.category, access=Article.Access.FREE)
    for url in ("/", article.category.get_absolute_url(), article.authors.first().get_absolute_url(),
                "/search/?q=story", "/feed/", free.get_absolute_url()):  # fmt: skip
        response = client.get(url)
        assert response.status_code == 200
        assert is_public(response), url
        assert not response.cookies, url


def test_metered_and_subscriber_only_articles_stay_private(client, category) -> None:
    for access in (Article.Access.METERED, Article.Access.SUBSCRIBERS):
        response = client.get(make_article(category=category, access=access).get_absolute_url())
        assert response["Cache-Control"] == "private, no-cache", access


def test_a_reader_with_a_session_or_a_message_gets_private_pages(client, category, subscriber) -> None:
    free = make_article(category=category, access=Article.Access.FREE)
    client.force_login(subscriber)
    assert "private" in client.get(free.get_absolute_url())["Cache-Control"]
    assert "private" in client.get("/")["Cache-Control"]
    flashed = Client(HTTP_COOKIE="messages=anything")
    assert "private" in flashed.get("/")["Cache-Control"]


def test_drafts_previewed_by_staff_are_private(client, category, admin_user) -> None:
    draft = make_article(category=category, access=Article.Access.FREE, status=Article.Status.DRAFT)
    client.force_login(admin_user)
    assert "private" in client.get(draft.get_absolute_url())["Cache-Control"]


def test_the_cache_time_is_a_setting_and_zero_turns_sharing_off(client, article, settings) -> None:
    settings.SHARED_CACHE_SECONDS = 0
    assert "private" in client.get("/")["Cache-Control"]
