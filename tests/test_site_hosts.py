"""Feeds and the sitemap link to the site's real address (SITE_URL), never the
Sites framework's untouched default row (example.com)."""

import re

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _public_address(settings) -> None:
    settings.SITE_URL = "https://news.example.org"


def links(xml: str) -> list[str]:
    return re.findall(r"<(?:link|loc|guid[^>]*)>([^<]+)<", xml) + re.findall(r'href="([^"]+)"', xml)


@pytest.mark.parametrize("path", ["/feed/", "category_feed", "/sitemap-news.xml", "month sitemap"])
def test_feeds_and_sitemap_name_the_real_host(client, article, path) -> None:
    if path == "category_feed":
        path = f"/category/{article.category.slug}/feed/"
    if path == "month sitemap":
        path = f"/sitemap-articles-{timezone.localtime(article.publish_at):%Y-%m}.xml"
    xml = client.get(path).content.decode()
    assert "example.com" not in xml
    found = links(xml)
    assert found and all(url.startswith("https://news.example.org/") for url in found), found
    assert f"https://news.example.org{article.get_absolute_url()}" in found


def test_the_sitemap_index_names_the_real_host(client, article) -> None:
    found = links(client.get("/sitemap.xml").content.decode())
    month = f"https://news.example.org/sitemap-articles-{timezone.localtime(article.publish_at):%Y-%m}.xml"
    assert month in found and all(url.startswith("https://news.example.org/sitemap-") for url in found), found
