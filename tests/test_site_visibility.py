"""Drafts and future-scheduled articles stay out of every reader-facing surface
until their time comes, while staff can preview them at the real URL."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from articles.models import Article
from tests.conftest import make_article

pytestmark = pytest.mark.django_db

LIVE = "Harbor pilots return to work"
DRAFT = "Quietly drafted zeppelin budget"
FUTURE = "Embargoed zeppelin announcement"


@pytest.fixture
def trio(category, author):
    kwargs = {"category": category, "authors": [author], "access": Article.Access.FREE}
    live = make_article(title=LIVE, body="Zeppelin hangars reopen.\n\nMore text here.", **kwargs)
    draft = make_article(title=DRAFT, status=Article.Status.DRAFT, body="Zeppelin draft body.\n\nSecond.", **kwargs)
    future = make_article(
        title=FUTURE,
        status=Article.Status.SCHEDULED,
        publish_at=timezone.now() + timedelta(days=1),
        body="Zeppelin scheduled body.\n\nSecond.",
        **kwargs,
    )
    return live, draft, future


def reader_surfaces(client, article: Article) -> dict[str, str]:
    """Every list a reader (or crawler) can reach, as text."""
    urls = {
        "home": "/",
        "category": article.category.get_absolute_url(),
        "author": article.authors.first().get_absolute_url(),
        "feed": "/feed/",
        "category feed": f"/category/{article.category.slug}/feed/",
        "news sitemap": "/sitemap-news.xml",
        "month sitemap": f"/sitemap-articles-{timezone.localtime(article.publish_at):%Y-%m}.xml",
        "search": "/search/?q=zeppelin",
    }
    pages = {}
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        pages[name] = response.content.decode()
    return pages


def test_drafts_and_future_articles_are_invisible_to_readers(client, trio) -> None:
    live, draft, future = trio
    assert client.get(live.get_absolute_url()).status_code == 200
    for hidden in (draft, future):
        assert client.get(hidden.get_absolute_url()).status_code == 404
    for name, text in reader_surfaces(client, live).items():
        assert live.slug in text, f"live article missing from {name}"
        for hidden in (draft, future):
            assert hidden.slug not in text, f"{hidden.status} article leaked into {name}"
            assert hidden.title not in text, f"{hidden.status} title leaked into {name}"


def test_logged_in_non_staff_reader_cannot_preview(client, trio, free_reader) -> None:
    client.force_login(free_reader)
    _live, draft, future = trio
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert client.get(future.get_absolute_url()).status_code == 404


def test_staff_preview_at_the_real_url(client, trio, editor) -> None:
    _live, draft, future = trio
    client.force_login(editor)
    for article in (draft, future):
        response = client.get(article.get_absolute_url())
        assert response.status_code == 200
        page = response.content.decode()
        assert "preview-banner" in page
        assert "Readers cannot see it yet" in page
        assert article.title in page
    # Previewing does not put them on the public lists, even for staff.
    home = client.get("/").content.decode()
    assert draft.title not in home and future.title not in home


def test_scheduled_article_goes_live_by_itself(client, category, author) -> None:
    future = make_article(
        title=FUTURE, status=Article.Status.SCHEDULED, publish_at=timezone.now() + timedelta(seconds=2),
        category=category, authors=[author], access=Article.Access.FREE,
    )  # fmt: skip
    assert client.get(future.get_absolute_url()).status_code == 404
    assert client.get(future.get_absolute_url()).status_code == 404  # and again, with its row in the page cache
    # Time passes: no cron job, no re-save — only the clock moves past publish_at.
    time.sleep(max(0.0, (future.publish_at - timezone.now()).total_seconds()) + 0.2)
    assert client.get(future.get_absolute_url()).status_code == 200
    pages = reader_surfaces(client, future)
    for name, text in pages.items():
        assert future.slug in text, f"scheduled article did not appear on {name}"


def test_feed_and_sitemap_list_only_published_articles(client, trio) -> None:
    live, draft, future = trio
    feed = client.get("/feed/")
    assert feed["Content-Type"].startswith("application/rss+xml")
    month = client.get(f"/sitemap-articles-{timezone.localtime(live.publish_at):%Y-%m}.xml").content.decode()
    news = client.get("/sitemap-news.xml").content.decode()
    for text in (feed.content.decode(), month, news):
        assert f"/{live.slug}/" in text
        assert f"/{draft.slug}/" not in text
        assert f"/{future.slug}/" not in text


def test_robots_txt_points_at_the_sitemap(client) -> None:
    response = client.get("/robots.txt")
    assert response.status_code == 200
    text = response.content.decode()
    assert "Sitemap: http://testserver/sitemap.xml" in text
    assert "Disallow: /admin/" in text


def test_friendly_404_page(client, db) -> None:
    response = client.get("/no-such-story-here/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "We couldn't find that page." in page
    assert 'action="/search/"' in page  # a way forward, not a dead end
    assert "<nav" in page  # the site's navigation is still there


def test_article_page_has_open_graph_and_twitter_tags(client, trio) -> None:
    live, _draft, _future = trio
    page = client.get(live.get_absolute_url()).content.decode()
    assert f'<meta property="og:title" content="{live.title}">' in page
    assert 'property="og:description"' in page
    assert f'<meta property="og:url" content="http://testserver/{live.slug}/">' in page
    assert '<meta property="og:type" content="article">' in page
    assert 'name="twitter:card"' in page
    assert f'<meta name="twitter:title" content="{live.title}">' in page
    assert '<link rel="canonical"' in page
