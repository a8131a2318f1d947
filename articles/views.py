import functools

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import Count, OuterRef, QuerySet, Subquery, prefetch_related_objects
from django.db.models.functions import Coalesce, Now
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views.decorators.http import require_safe
from django.views.generic import ListView

from newsroom import ratelimit
from newsroom.versioned_cache import Version
from subscriptions import access, meter, stats
from subscriptions.models import default_plan

from . import comments, page_cache, search
from .models import Article, Author, Category, Comment, Tag
from .rendering import split_for_ad
from .structured_data import PAYWALL_CSS_CLASS, news_article

PAGE_SIZE = 12
HOME_LATEST = 6  # stories under the lead, before the section rails


def _private(response: HttpResponse) -> HttpResponse:
    """Pages that differ by reader must never sit in a shared cache."""
    patch_cache_control(response, private=True, no_cache=True)
    patch_vary_headers(response, ["Cookie"])
    return response


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    latest = list(Article.objects.published().for_listing()[: 1 + HOME_LATEST])
    lead, rest = (latest[0], latest[1:]) if latest else (None, [])
    categories = list(Category.objects.all())
    # One of each story: a section's rail shows what the top of the page has not.
    rails = search.category_rails(categories, per_category=4, exclude=[a.pk for a in latest])
    return render(
        request,
        "articles/home.html",
        {"lead": lead, "latest": rest, "rails": rails, "ent": access.entitlement(request)},
    )


@functools.cache
def _article_page() -> QuerySet[Article]:
    """The article page's queryset, built once on first use (resolving its
    annotations is a good part of a rendered page's Python time) — not at
    import, so importing this module never needs the models loaded."""
    # A correlated subquery, not a JOIN + GROUP BY over every article column.
    visible_comment_count = Coalesce(
        Subquery(
            Comment.objects.filter(article=OuterRef("pk"), is_hidden=False)
            .order_by()
            .values("article")
            .annotate(n=Count("pk"))
            .values("n")
        ),
        0,
    )
    # When the next scheduled story goes live: nothing cached may outlive that (page_cache.seconds_to_keep).
    next_scheduled_at = Subquery(
        Article.objects.filter(status=Article.Status.SCHEDULED, publish_at__gt=Now())
        .order_by("publish_at")
        .values("publish_at")[:1]
    )
    queryset = (
        Article.objects.select_related("category")
        .defer("body", "search_vector", "public_search_vector")
        .annotate(comment_count=visible_comment_count, next_scheduled_at=next_scheduled_at)
    )
    if connection.vendor == "postgresql":
        # The topics in the same statement (two small arrays), not a query of their own: see Article.topics.
        topics = Tag.objects.filter(articles=OuterRef("pk")).order_by("name")
        queryset = queryset.annotate(
            topic_names=ArraySubquery(topics.values("name")), topic_slugs=ArraySubquery(topics.values("slug"))
        )
    return queryset


@require_safe
def article_detail(request: HttpRequest, slug: str) -> HttpResponse:
    article, generation = page_cache.find_article(_article_page(), slug)
    preview = not article.is_live
    if preview and not request.user.is_staff:
        raise Http404("No article here.")
    if request.method == "HEAD":
        # A link checker's HEAD learns the page exists; it must not spend the reader's credit.
        return _private(_robots_headers(HttpResponse(), article))
    decision = access.decide(request, article)
    if decision.paywalled:
        stats.count_page_view("paywall_view")
    entry = page_cache.get(request, article, decision, generation) if page_cache.applies(request, preview) else None
    html = entry.html if entry else None
    if html is None:
        html = _render_article(request, article, decision, preview, generation)
        if entry:
            page_cache.put(entry, html, article)
    return _private(_robots_headers(HttpResponse(html), article))


def _robots_headers(response: HttpResponse, article: Article) -> HttpResponse:
    if not article.is_free:
        response["X-Robots-Tag"] = "noarchive"
    return response


def _render_article(
    request: HttpRequest, article: Article, decision: access.Decision, preview: bool, generation: Version
) -> str:
    prefetch_related_objects([article], "authors")  # already there when the row came from the page cache
    visible_html = access.visible_html(article, decision)
    access.redact(article, decision)
    # Non-subscribers reading in full get one ad between sections of the story, never above its opening.
    body_html, body_after_ad = split_for_ad(visible_html) if decision.full and decision.show_ads else (visible_html, "")
    # Lazy: the template caches the cards it renders from it (same generation as the row),
    # so for every reader but the first this query never runs.
    related = (
        Article.objects.published()
        .filter(category_id=article.category_id)
        .exclude(pk=article.pk)
        .select_related("category")
        .only(
            "title",
            "slug",
            "standfirst",
            "hero_image",
            "hero_alt",
            "hero_renditions",
            "publish_at",
            "access",
            "category__name",
            "category__slug",
        )  # fmt: skip
        .order_by("-publish_at", "-id")[:4]
    )
    context = {
        "fragment_generation": generation,
        "fragment_seconds": page_cache.seconds_to_keep(article),
        "article": article,
        "decision": decision,
        "body_html": body_html,
        "body_after_ad": body_after_ad,
        "meter": _meter(decision),
        "related": related,
        "preview": preview,
        "plan": default_plan() if decision.show_ads else None,
        "json_ld": news_article(request, article, decision, visible_html),
        "paywall_class": PAYWALL_CSS_CLASS,
        "free_per_day": settings.FREE_ARTICLES_PER_DAY,
        **comments.context_for(request, article),
    }
    return render_to_string("articles/article_detail.html", context, request)


def _meter(decision: access.Decision) -> list[bool] | None:
    """The meter bar's pips, one per free article of the day: True for those used (this one included)."""
    if decision.credits_left is None or not decision.full:  # past the limit the paywall box says it
        return None
    limit = max(settings.FREE_ARTICLES_PER_DAY, decision.credits_left)
    return [n < limit - decision.credits_left for n in range(limit)]


class PublishedListView(ListView):
    paginate_by = PAGE_SIZE
    context_object_name = "articles"

    def base_queryset(self):
        return Article.objects.published().for_listing()


class CategoryView(PublishedListView):
    template_name = "articles/category.html"

    def get_queryset(self):
        self.category = get_object_or_404(Category, slug=self.kwargs["slug"])
        return self.base_queryset().filter(category=self.category)

    def get_context_data(self, **kwargs):
        return super().get_context_data(category=self.category, **kwargs)


class AuthorView(PublishedListView):
    template_name = "articles/author.html"

    def get_queryset(self):
        self.author = get_object_or_404(Author, slug=self.kwargs["slug"])
        return self.base_queryset().filter(authors=self.author)

    def get_context_data(self, **kwargs):
        return super().get_context_data(author=self.author, **kwargs)


class TagView(PublishedListView):
    template_name = "articles/tag.html"

    def get_queryset(self):
        self.tag = get_object_or_404(Tag, slug=self.kwargs["slug"])
        return self.base_queryset().filter(tags=self.tag)

    def get_context_data(self, **kwargs):
        return super().get_context_data(tag=self.tag, **kwargs)


class SearchView(PublishedListView):
    template_name = "articles/search.html"

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        # Per client, so one scraper cannot hammer the full-text index for everyone.
        if not ratelimit.hit("search", meter.client_ip(request), settings.RATE_LIMIT_SEARCH):
            response = render(request, "articles/search_limited.html", status=429)
            response["Retry-After"] = "60"
            return response
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        self.query = self.request.GET.get("q", "").strip()[:200]
        self.full_text = access.full_text_filter(self.request, Article)
        return search.search(self.base_queryset(), self.query, full_text=self.full_text)

    def get_context_data(self, **kwargs):
        return super().get_context_data(query=self.query, searches_everything=not self.full_text, **kwargs)

