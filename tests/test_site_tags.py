"""Topics (tags) alongside sections: a page and an RSS feed per topic, the
topic on cards and on the article, topic pages in the sitemap."""

from __future__ import annotations

import pytest

from articles.models import Article, Tag

from .conftest import MARKER, make_article

pytestmark = pytest.mark.django_db


@pytest.fixture
def housing(category, author) -> Tag:
    tag = Tag.objects.create(name="Housing", slug="housing")
    for title in ("Rents climb again", "A new tower on the quay"):
        make_article(category=category, authors=[author], title=title).tags.add(tag)
    make_article(category=category, authors=[author], title="Unrelated story")
    make_article(category=category, authors=[author], title="Draft on housing", status="draft").tags.add(tag)
    return tag


def test_a_topic_page_lists_its_live_stories_with_the_topic_on_each_card(client, housing) -> None:
    html = client.get("/topic/housing/").content.decode()
    assert "<h1>Housing</h1>" in html
    assert "Rents climb again" in html and "A new tower on the quay" in html
    assert "Unrelated story" not in html and "Draft on housing" not in html
    assert html.count('href="/topic/housing/"') >= 2  # the topic link on each card
    assert client.get("/topic/nothing-here/").status_code == 404


def test_the_home_page_cards_and_the_article_show_their_topics(client, housing) -> None:
    assert 'href="/topic/housing/"' in client.get("/").content.decode()
    article = Article.objects.get(title="Rents climb again")
    html = client.get(article.get_absolute_url()).content.decode()
    assert 'aria-label="Topics"' in html and 'href="/topic/housing/"' in html


def test_a_topic_feed_carries_teasers_only_for_non_free_stories(client, housing) -> None:
    response = client.get("/topic/housing/feed/")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/rss+xml")
    feed = response.content.decode()
    assert "Rents climb again" in feed and "Unrelated story" not in feed and "Draft on housing" not in feed
    assert "<category>Housing</category>" in feed
    assert MARKER not in feed


def test_topics_with_live_stories_are_in_the_sitemap(client, housing) -> None:
    Tag.objects.create(name="Empty topic", slug="empty-topic")
    assert "/sitemap-topics.xml</loc>" in client.get("/sitemap.xml").content.decode()  # the index lists it
    sitemap = client.get("/sitemap-topics.xml").content.decode()
    assert "/topic/housing/</loc>" in sitemap
    assert "/topic/empty-topic/" not in sitemap


def test_tagging_a_story_refreshes_its_cached_page(client, article, settings) -> None:
    settings.PAGE_CACHE_SECONDS = 300
    assert "/topic/ports/" not in client.get(article.get_absolute_url()).content.decode()
    article.tags.add(Tag.objects.create(name="Ports", slug="ports"))
    assert "/topic/ports/" in client.get(article.get_absolute_url()).content.decode()
