import functools

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.db import connection
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, JSONObject
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.views.decorators.http import require_safe
from django.views.generic import ListView

from newsroom import ratelimit, shared_cache
from newsroom.client_ip import client_ip
from subscriptions import access, experiments, meter, stats

from . import archive, comments, gifts, page_cache, rendering, search
from .models import Article, Author, Category, Comment, Tag
from .structured_data import PAYWALL_CSS_CLASS, news_article


@require_safe
@shared_cache.shareable_view
@page_cache.listing
def home(request: HttpRequest) -> HttpResponse:
    latest, rails = search.front_page()
    lead, rest = (latest[0], latest[1:]) if latest else (None, [])
    return TemplateResponse(
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
    next_scheduled_at = Subquery(Article.objects.next_publication())
    queryset = (
        Article.objects.select_related("category")
        .defer("body", "search_vector", "public_search_vector")
        .annotate(comment_count=visible_comment_count, next_scheduled_at=next_scheduled_at)
    )
    if connection.vendor == "postgresql":
        # The topics and the byline (one small row each) in the same statement, not
        # queries of their own: see Article.topics and Article.byline.
        topics = Tag.objects.filter(articles=OuterRef("pk")).order_by("name")
        authors = Author.objects.filter(articles=OuterRef("pk")).order_by("name")
        queryset = queryset.annotate(
            topic_rows=ArraySubquery(topics.values(row=JSONObject(name="name", slug="slug"))),
            byline_rows=ArraySubquery(authors.values(row=JSONObject(**{f: f for f in Article.BYLINE_FIELDS}))),
        )
    return queryset


@require_safe
def article_detail(request: HttpRequest, slug: str) -> HttpResponse:
    # One direction: what is kept -> what this reader may read -> the page for that answer -> the response.
    found = page_cache.find(request, slug, _article_page())  # WRITES: may spend an anonymous reader's credit
    if found.html is not None:
        return respond_kept(found)
    article = found.article
    preview = not article.is_live
    if preview and not request.user.is_staff:
        raise Http404("No article here.")
    gift_token = request.GET.get("gift", "")
    if request.method == "HEAD":
        # A link checker's HEAD learns the page exists; it must not spend the reader's credit.
        return shared_cache.private(_robots_headers(HttpResponse(), article.is_free, gift_token))
    gift = gifts.find_gift(gift_token, article) if gift_token else None
    decision = access.decide(request, article, gift_from=gift.giver if gift else None)
    if decision.needs_credit:
        decision = access.spend_credit(request, article, found.spent)
    if decision.reason == access.Reason.SUBSCRIBERS_ONLY:  # the meter counted the paywalls it refused
        stats.count_page_view(meter.PAYWALL_VIEW)
    if decision.reason == access.Reason.GIFT:
        gifts.count_open(gift)
    render = functools.partial(_render_article, request, article, decision, preview, gift_token=gift_token)
    html = page_cache.page(request, found, decision, render, preview=preview)
    return _respond(html, is_free=article.is_free and not preview, gift_token=gift_token)


def respond_kept(served: page_cache.Found) -> HttpResponse:
    """The answer with a kept page (here, or in articles/middleware.py before the rest of the middleware)."""
    if served.paywalled and served.spent is None:  # subscribers only: no meter ran to count it
        stats.count_page_view(meter.PAYWALL_VIEW)
    return _respond(served.html, is_free=served.is_free)


def _respond(html: bytes, *, is_free: bool, gift_token: str = "") -> HttpResponse:
    response = _robots_headers(HttpResponse(html), is_free, gift_token)
    if is_free and not gift_token:
        return shared_cache.shareable(response)  # the same for every anonymous reader
    return shared_cache.private(response)  # the meter decides per reader


def _robots_headers(response: HttpResponse, is_free: bool, gift_token: str = "") -> HttpResponse:
    if gift_token:
        # The token is a secret: no search engine keeps the page, no other site sees the address.
        response["X-Robots-Tag"] = "noindex, noarchive"
        response["Referrer-Policy"] = "no-referrer"
    elif not is_free:
        response["X-Robots-Tag"] = "noarchive"
    return response


def _render_article(
    request: HttpRequest, article: Article, decision: access.Decision, preview: bool, *, gift_token: str = ""
) -> bytes:
    visible_html = access.visible_html(article, decision)
    # What a reader without a subscription could not normally read sits in the element
    # the JSON-LD's hasPart names, so search engines see paywalled content, not cloaking.
    # Non-subscribers reading in full get one ad between sections of the story, never above its opening.
    body_parts = None
    if decision.full:
        if article.is_free:
            free, paid = visible_html, ""
        else:
            free, paid = article.teaser_html, rendering.paid_part(article.body_html, article.teaser_html)
        body_parts = rendering.body_sections(free, paid, with_ad=decision.show_ads)
    access.redact(article, decision)
    # "More from" cards show no section (their own section's), no byline and no topics: no joins.
    related = (
        Article.objects.published()
        .filter(category_id=article.category_id)
        .exclude(pk=article.pk)
        .only("title", "slug", "standfirst", "hero_image", "hero_alt", "hero_renditions", "publish_at", "access")
        .order_by("-publish_at", "-id")[:4]
    )
    # The paywall's terms for this reader: the site's, or their experiment arm's (one place decides).
    terms = experiments.terms(request)
    plan = experiments.plan_offered(terms) if decision.show_ads else None
    daily_limit = meter.daily_limit(request)
    context = {
        "article": article,
        "decision": decision,
        "body_html": visible_html,
        "body_parts": body_parts,
        "meter": _meter(decision, daily_limit),
        "gifted": decision.reason == access.Reason.GIFT,
        "gift_invalid": bool(gift_token)
        and not article.is_free
        and decision.reason != access.Reason.GIFT
        and not decision.entitlement.entitled,
        "may_gift": request.user.is_authenticated and not preview and access.may_give_gifts(request.user),
        "gift_days": settings.GIFT_LINK_DAYS,
        "registration_extra": terms.registration_extra,
        "related": related,
        "preview": preview,
        "plan": plan,
        "paywall_terms": terms,
        "json_ld": news_article(request, article, decision, visible_html),
        "paywall_class": PAYWALL_CSS_CLASS,
        "free_per_day": daily_limit,
        **comments.context_for(request, article),
        **page_cache.PLACEHOLDERS,  # the reader's own parts: page_cache.fill()
    }
    return render_to_string("articles/article_detail.html", context, request).encode()


def _meter(decision: access.Decision, daily_limit: int) -> list[bool] | None:
    """The meter bar's pips, one per free article of the day: True for those used (this one included)."""
    if decision.credits_left is None or not decision.full:  # past the limit the paywall box says it
        return None
    limit = max(daily_limit, decision.credits_left)
    return [n < limit - decision.credits_left for n in range(limit)]


class ArchiveView(ListView):
    """Newest first, "older stories" by keyset (articles/archive.py): no OFFSET, no COUNT."""

    context_object_name = "articles"

    def base_queryset(self) -> QuerySet[Article]:
        return Article.objects.published().for_listing()

    def get_context_data(self, **kwargs) -> dict:
        page = archive.archive_page(self.object_list, self.request)
        return {**super().get_context_data(page=page, **kwargs), "articles": page.articles}


class CategoryView(ArchiveView):
    template_name = "articles/category.html"

    def get_queryset(self) -> QuerySet[Article]:
        self.category = get_object_or_404(Category, slug=self.kwargs["slug"])
        return self.base_queryset().filter(category=self.category)

    def get_context_data(self, **kwargs) -> dict:
        return super().get_context_data(category=self.category, **kwargs)


class AuthorView(ArchiveView):
    template_name = "articles/author.html"

    def get_queryset(self) -> QuerySet[Article]:
        self.author = get_object_or_404(Author, slug=self.kwargs["slug"])
        return self.base_queryset().filter(authors=self.author)

    def get_context_data(self, **kwargs) -> dict:
        return super().get_context_data(author=self.author, **kwargs)


class TagView(ArchiveView):
    template_name = "articles/tag.html"

    def get_queryset(self) -> QuerySet[Article]:
        self.tag = get_object_or_404(Tag, slug=self.kwargs["slug"])
        return self.base_queryset().filter(tags=self.tag)

    def get_context_data(self, **kwargs) -> dict:
        return super().get_context_data(tag=self.tag, **kwargs)


class SearchView(ListView):
    """Ranked results: the ids in rank order come from one query (at most
    search.SEARCH_CANDIDATES of them), the page's cards from a second."""

    template_name = "articles/search.html"
    paginate_by = archive.PAGE_SIZE
    context_object_name = "articles"

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        # Per client, so one scraper cannot hammer the full-text index for everyone.
        if not ratelimit.hit("search", client_ip(request), settings.RATE_LIMIT_SEARCH):
            response = render(request, "articles/search_limited.html", status=429)
            response["Retry-After"] = "60"
            return response
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> list[int]:
        self.query = self.request.GET.get("q", "").strip()[:200]
        self.full_text = access.full_text_filter(self.request, Article)
        return search.ranked_ids(Article.objects.published(), self.query, full_text=self.full_text)

    def get_context_data(self, **kwargs) -> dict:
        context = super().get_context_data(query=self.query, searches_everything=not self.full_text, **kwargs)
        ids = list(context["page_obj"].object_list) if context["page_obj"] else []
        cards = {a.pk: a for a in Article.objects.filter(pk__in=ids).for_listing()}
        context["articles"] = [cards[pk] for pk in ids if pk in cards]
        context["capped"] = len(self.object_list) >= search.SEARCH_CANDIDATES
        return context
