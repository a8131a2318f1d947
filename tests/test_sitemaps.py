"""Sitemaps at any archive size: an index over month sitemaps, a Google News
sitemap, each valid against the published schemas (vendored in tests/schemas)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone
from lxml import etree

from articles.models import Article
from articles.sitemaps import ArticleMonthSitemap

from .conftest import make_article

pytestmark = pytest.mark.django_db

SCHEMAS = Path(__file__).parent / "schemas"
NS = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9", "news": "http://www.google.com/schemas/sitemap-news/0.9"}


def valid(xml: bytes, schema: str) -> etree._Element:
    document = etree.fromstring(xml)
    validator = etree.XMLSchema(etree.parse(str(SCHEMAS / schema)))
    assert validator.validate(document), validator.error_log
    return document


def index_entries(client: Client) -> dict[str, str | None]:
    """Each sitemap the index lists (its path) and its lastmod."""
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    document = valid(response.content, "siteindex.xsd")
    return {
        re.sub(r"^https?://[^/]+", "", node.findtext("sm:loc", namespaces=NS)): node.findtext(
            "sm:lastmod", namespaces=NS
        )
        for node in document.findall("sm:sitemap", NS)
    }


def urls(client: Client, path: str, schema: str = "sitemap.xsd") -> dict[str, etree._Element]:
    response = client.get(path)
    assert response.status_code == 200
    document = valid(response.content, schema)
    return {re.sub(r"^https?://[^/]+", "", node.findtext("sm:loc", namespaces=NS)): node for node in document}


@pytest.fixture
def archive(category, author) -> dict[str, Article]:
    now = timezone.localtime()
    this_month = now.replace(day=1, hour=12)
    last_year = this_month.replace(year=this_month.year - 1)
    kwargs = {"category": category, "authors": [author]}
    return {
        "new": make_article(
            publish_at=now - timedelta(hours=3), title="Tonight's council vote & its aftermath", **kwargs
        ),
        "old": make_article(publish_at=last_year, **kwargs),
        "older": make_article(publish_at=last_year - timedelta(days=40), **kwargs),
        "draft": make_article(status=Article.Status.DRAFT, publish_at=last_year, **kwargs),
        "scheduled": make_article(status=Article.Status.SCHEDULED, publish_at=now + timedelta(hours=2), **kwargs),
    }


def month_path(article: Article) -> str:
    return f"/sitemap-articles-{timezone.localtime(article.publish_at):%Y-%m}.xml"


def test_the_index_lists_news_sections_authors_and_every_month_with_articles(client, archive) -> None:
    entries = index_entries(client)
    months = {month_path(archive[key]) for key in ("new", "old", "older")}
    assert months <= set(entries)
    assert {"/sitemap-news.xml", "/sitemap-categories.xml", "/sitemap-authors.xml"} <= set(entries)
    assert len([path for path in entries if path.startswith("/sitemap-articles-")]) == len(months)


def test_a_month_sitemap_holds_that_months_published_articles_with_their_edit_time(client, archive) -> None:
    old = archive["old"]
    listed = urls(client, month_path(old))
    assert set(listed) == {old.get_absolute_url()}  # not the draft of the same month, not other months
    assert listed[old.get_absolute_url()].findtext("sm:lastmod", namespaces=NS) == (
        timezone.localtime(old.updated_at).replace(microsecond=0).isoformat()
    )


def test_an_edit_moves_the_months_lastmod_in_the_index(client, archive) -> None:
    older = archive["older"]
    Article.objects.filter(pk=older.pk).update(updated_at=timezone.now() - timedelta(days=1))  # last edited yesterday
    before = index_entries(client)[month_path(older)]
    older.refresh_from_db()
    older.title = "Corrected headline"
    older.save()  # a real edit retires the cached month list
    after = index_entries(client)[month_path(older)]
    assert after != before
    assert after == timezone.localtime(older.updated_at).replace(microsecond=0).isoformat()


def test_the_news_sitemap_has_the_last_two_days_with_publication_and_title(client, archive, settings) -> None:
    listed = urls(client, "/sitemap-news.xml", "sitemap-with-news.xsd")
    new = archive["new"]
    assert set(listed) == {new.get_absolute_url()}
    news = listed[new.get_absolute_url()].find("news:news", NS)
    assert news.findtext("news:publication/news:name", namespaces=NS) == settings.SITE_NAME
    assert news.findtext("news:publication/news:language", namespaces=NS) == "en"
    assert news.findtext("news:title", namespaces=NS) == new.title
    assert news.findtext("news:publication_date", namespaces=NS) == (
        timezone.localtime(new.publish_at).replace(microsecond=0).isoformat()
    )


def test_a_month_past_fifty_thousand_urls_continues_on_a_second_page(archive) -> None:
    month = timezone.localtime(archive["old"].publish_at).date().replace(day=1)
    assert ArticleMonthSitemap(month, count=50001).paginator.num_pages == 2
    assert ArticleMonthSitemap(month).paginator.count == 1


def test_unknown_sections_are_not_found(client, db) -> None:
    assert client.get("/sitemap-articles-2026-13.xml").status_code == 404
    assert client.get("/sitemap-nothing.xml").status_code == 404


def test_sitemaps_are_shareable_by_a_cache_in_front(client, archive) -> None:
    for path in ("/sitemap.xml", "/sitemap-news.xml", month_path(archive["old"])):
        assert "public" in client.get(path)["Cache-Control"], path


def test_a_month_sitemap_shows_an_edit_made_after_it_was_cached(client, archive) -> None:
    old = archive["old"]
    assert set(urls(client, month_path(old))) == {old.get_absolute_url()}
    old.slug = "renamed-story"
    old.save()
    assert set(urls(client, month_path(old))) == {"/renamed-story/"}
    assert client.get("/sitemap-articles-1999-01.xml").status_code == 404  # a month without articles


def test_the_news_sitemap_shows_a_new_story_once_it_is_saved(client, archive) -> None:
    assert set(urls(client, "/sitemap-news.xml", "sitemap-with-news.xsd")) == {archive["new"].get_absolute_url()}
    fresh = make_article(category=archive["new"].category, publish_at=timezone.now() - timedelta(minutes=5))
    assert fresh.get_absolute_url() in urls(client, "/sitemap-news.xml", "sitemap-with-news.xsd")
