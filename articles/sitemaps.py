from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap as DjangoSitemap

from .models import Article, Author, Category, Tag


class Sitemap(DjangoSitemap):
    """Locations on SITE_URL's scheme and host, not the Sites framework's row (example.com)."""

    def get_protocol(self, protocol: str | None = None) -> str:
        return urlsplit(settings.SITE_URL).scheme

    def get_domain(self, site=None) -> str:
        return urlsplit(settings.SITE_URL).netloc


class ArticleSitemap(Sitemap):
    changefreq = "daily"
    priority = 0.8
    limit = 5000

    def items(self):
        return Article.objects.published().only("slug", "updated_at").order_by("-publish_at", "-id")

    def lastmod(self, item: Article):
        return item.updated_at


class CategorySitemap(Sitemap):
    changefreq = "hourly"
    priority = 0.6

    def items(self):
        return Category.objects.all()


class AuthorSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.4

    def items(self):
        return Author.objects.all()


class TagSitemap(Sitemap):
    changefreq = "daily"
    priority = 0.5

    def items(self):
        # Only topics with a live story: an empty topic page is not worth a crawl.
        return Tag.objects.filter(articles__in=Article.objects.published()).distinct().order_by("name")


sitemaps = {
    "articles": ArticleSitemap,
    "categories": CategorySitemap,
    "authors": AuthorSitemap,
    "topics": TagSitemap,
}
