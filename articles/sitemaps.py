"""Sitemaps for search engines, built on Django's sitemaps framework.

`/sitemap.xml` is an index. Its sections: the Google News sitemap (articles
published in the last two days), sections and authors, and the articles one
calendar month per sitemap (`/sitemap-articles-2026-11.xml`; a month past the
protocol's 50,000 URLs continues on `?p=2`). A month's page reads only that
month's rows through the publish_at index, so no page costs more as the archive
grows. `lastmod` is the article's `updated_at` — the time of its last real
save — and a month's lastmod in the index is its newest edit.

The index needs every month's count and newest edit: one aggregate over the
archive, kept in the shared cache under the page cache's site-wide generation
(retired by any article, section or author save) for MONTHS_CACHE_SECONDS, so
a story going live by schedule appears within that time; the index's XML is
kept the same way. A month's rendered XML is kept too, keyed on that month's
count and newest edit (_month_sitemap).
"""

from __future__ import annotations

import datetime
import re
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap as DjangoSitemap
from django.contrib.sitemaps.views import SitemapIndexItem, sitemap
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Count, Max
from django.db.models.functions import TruncMonth
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from newsroom import versioned_cache

from . import page_cache
from .models import Article, Author, Category, Tag

NEWS_DAYS = 2
NEWS_MAX_URLS = 1000  # Google News reads at most 1,000 URLs per news sitemap
MONTHS_CACHE_KEY = "sitemap:months"
INDEX_CACHE_KEY = "sitemap:index"
MONTHS_CACHE_SECONDS = 300
_MONTH_SECTION = re.compile(r"^articles-(\d{4})-(\d{2})$")


class Sitemap(DjangoSitemap):
    """Locations on SITE_URL's scheme and host, not the Sites framework's row (example.com)."""

    def get_protocol(self, protocol: str | None = None) -> str:
        return urlsplit(settings.SITE_URL).scheme

    def get_domain(self, site=None) -> str:
        return urlsplit(settings.SITE_URL).netloc


def _w3c(moment: datetime.datetime | None) -> datetime.datetime | None:
    """Whole seconds: the schemas allow at most 25 characters ("2026-11-25T15:20:00-05:00")."""
    return moment.replace(microsecond=0) if moment else None


class ArticleMonthSitemap(Sitemap):
    limit = 50000  # the protocol's maximum per file

    def __init__(self, month: datetime.date, *, count: int | None = None, lastmod: datetime.datetime | None = None):
        self.month = month
        self._count = count
        self._latest = lastmod

    def items(self):
        tz = timezone.get_current_timezone()
        start = datetime.datetime(self.month.year, self.month.month, 1, tzinfo=tz)
        end = datetime.datetime(self.month.year + self.month.month // 12, self.month.month % 12 + 1, 1, tzinfo=tz)
        return (
            Article.objects.published()
            .filter(publish_at__gte=start, publish_at__lt=end)
            .only("slug", "updated_at")
            .order_by("publish_at", "id")
        )

    def lastmod(self, item: Article) -> datetime.datetime:
        return item.updated_at

    @property
    def paginator(self) -> Paginator:
        paginator = Paginator(self.items(), self.limit)
        if self._count is not None:  # known from the index's aggregate: no COUNT per month
            paginator.count = self._count
        return paginator

    def get_latest_lastmod(self) -> datetime.datetime | None:
        if self._latest is not None:
            return _w3c(self._latest)
        return super().get_latest_lastmod()


class NewsSitemap(Sitemap):
    """Google News: what was published in the last two days, newest first."""

    limit = NEWS_MAX_URLS

    def items(self):
        since = timezone.now() - datetime.timedelta(days=NEWS_DAYS)
        return (
            Article.objects.published()
            .filter(publish_at__gte=since)
            .only("slug", "title", "publish_at", "updated_at")
            .order_by("-publish_at", "-id")[:NEWS_MAX_URLS]
        )

    def lastmod(self, item: Article) -> datetime.datetime:
        return item.updated_at

    def get_latest_lastmod(self) -> datetime.datetime | None:
        return _w3c(super().get_latest_lastmod())


class CategorySitemap(Sitemap):
    changefreq = "hourly"
    priority = 0.6

    def items(self):
        return Category.objects.all()


class AuthorSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.4

    def items(self):
        return Author.objects.order_by("name", "pk")


class TagSitemap(Sitemap):
    changefreq = "daily"
    priority = 0.5

    def items(self):
        # Only topics with a live story: an empty topic page is not worth a crawl.
        return Tag.objects.filter(articles__in=Article.objects.published()).distinct().order_by("name")


# The fixed sections; the article months are added per request (all_sections()).
sitemaps = {"news": NewsSitemap, "categories": CategorySitemap, "authors": AuthorSitemap, "topics": TagSitemap}
TEMPLATES = {"news": "sitemaps/news.xml"}
DEFAULT_TEMPLATE = "sitemaps/sitemap.xml"
MONTH_PAGE_CACHE_SECONDS = 24 * 3600


def article_months() -> list[tuple[datetime.date, int, datetime.datetime]]:
    """(month, published articles, newest edit) for every month with articles, newest first."""
    found, version = versioned_cache.read([MONTHS_CACHE_KEY], *page_cache.LIST_VERSIONS)
    months = found.get(MONTHS_CACHE_KEY)
    if months is None:
        rows = (
            Article.objects.published()
            .annotate(month=TruncMonth("publish_at"))
            .order_by()
            .values("month")
            .annotate(n=Count("pk"), latest=Max("updated_at"))
            .order_by("-month")
        )
        months = [(row["month"].date(), row["n"], row["latest"]) for row in rows]
        versioned_cache.store(MONTHS_CACHE_KEY, version, months, MONTHS_CACHE_SECONDS)
    return months


def all_sections() -> dict[str, Sitemap | type[Sitemap]]:
    months = {
        f"articles-{month:%Y-%m}": ArticleMonthSitemap(month, count=n, lastmod=latest)
        for month, n, latest in article_months()
    }
    return {**sitemaps, **months}


def sitemap_index(request: HttpRequest) -> HttpResponse:
    """The index, rendered once per version of the lists (page_cache.LIST_VERSIONS: any
    change readers can see to a story, section or author starts a new one) and at most
    MONTHS_CACHE_SECONDS old: it lists every month, and building a sitemap object per month costs more than the query.
    Like the sitemaps, it names SITE_URL's host (Django's index view would take the
    Sites framework's row)."""
    found, version = versioned_cache.read([INDEX_CACHE_KEY], *page_cache.LIST_VERSIONS)
    if (content := found.get(INDEX_CACHE_KEY)) is None:
        content = TemplateResponse(
            request, "sitemap_index.xml", {"sitemaps": _index_items()}, content_type="application/xml"
        ).render().content
        versioned_cache.store(INDEX_CACHE_KEY, version, content, MONTHS_CACHE_SECONDS)
    return HttpResponse(content, content_type="application/xml", headers={"X-Robots-Tag": "noindex, noodp, noarchive"})


def _index_items() -> list[SitemapIndexItem]:
    items = []
    for section, site in all_sections().items():
        site = site() if callable(site) else site
        location = settings.SITE_URL + reverse("sitemap_section", kwargs={"section": section})
        lastmod = site.get_latest_lastmod()
        items.append(SitemapIndexItem(location, lastmod))
        items += [SitemapIndexItem(f"{location}?p={page}", lastmod) for page in range(2, site.paginator.num_pages + 1)]
    return items


def sitemap_section(request: HttpRequest, section: str) -> HttpResponse:
    if match := _MONTH_SECTION.match(section):
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise Http404("No such sitemap.")
        return _month_sitemap(request, section, datetime.date(year, month, 1))
    if section not in sitemaps:
        raise Http404("No such sitemap.")
    # Rendered once per version of the lists, like the index (the news sitemap's ~300 URLs cost a page's render).
    key = f"sitemap:section:{section}:{request.GET.get('p', '1')}"
    found, version = versioned_cache.read([key], *page_cache.LIST_VERSIONS)
    if (content := found.get(key)) is None:
        template = TEMPLATES.get(section, DEFAULT_TEMPLATE)
        response = sitemap(request, {section: sitemaps[section]}, section=section, template_name=template)
        content = response.render().content
        versioned_cache.store(key, version, content, MONTHS_CACHE_SECONDS)
    return HttpResponse(content, content_type="application/xml", headers={"X-Robots-Tag": "noindex, noodp, noarchive"})


def _month_sitemap(request: HttpRequest, section: str, month: datetime.date) -> HttpResponse:
    """A month of up to 50,000 URLs takes a while to render, and an old month
    rarely changes: its XML is kept under what it is made of — the month's count
    and newest edit, from the index's aggregate — so any publication, edit or
    removal in that month (and only that month) makes a new key."""
    known = {m: (n, latest) for m, n, latest in article_months()}
    if month not in known:
        raise Http404("No articles that month.")
    count, latest = known[month]
    page = request.GET.get("p", "1")
    key = f"sitemap:{settings.SITE_URL}:{month:%Y-%m}:{count}:{latest.timestamp()}:{page}"
    content = cache.get(key)
    if content is None:
        response = sitemap(
            request, {section: ArticleMonthSitemap(month, count=count, lastmod=latest)}, section=section,
            template_name=DEFAULT_TEMPLATE,
        )  # fmt: skip
        content = response.render().content
        cache.set(key, content, MONTH_PAGE_CACHE_SECONDS)
    return HttpResponse(content, content_type="application/xml", headers={"X-Robots-Tag": "noindex, noodp, noarchive"})
