"""Search and per-category rails.

PostgreSQL: full-text search over a weighted tsvector (title A, summary B,
body C) kept in `Article.search_vector`, with a GIN index, ranked so title
hits come first. SQLite (first local run only): a case-insensitive match on
the same fields, title matches first.
"""

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import Case, F, IntegerField, Prefetch, Q, QuerySet, Value, When

from .models import Article, Category


def search(queryset: QuerySet[Article], query: str) -> QuerySet[Article]:
    if not query:
        return queryset.none()
    if connection.vendor == "postgresql":
        q = SearchQuery(query, config="english", search_type="websearch")
        return (
            queryset.filter(search_vector=q)
            .annotate(rank=SearchRank(F("search_vector"), q))
            .order_by("-rank", "-publish_at", "-id")
        )
    words = query.split()[:8]
    match = Q()
    for word in words:
        match &= Q(title__icontains=word) | Q(standfirst__icontains=word) | Q(body__icontains=word)
    return (
        queryset.filter(match)
        .annotate(
            title_hit=Case(
                When(title__icontains=words[0], then=Value(1)), default=Value(0), output_field=IntegerField()
            )
        )
        .order_by("-title_hit", "-publish_at", "-id")
    )


def category_rails(categories: list[Category], *, per_category: int) -> list[tuple[Category, list[Article]]]:
    """The newest few articles of each category, in one query for all of them."""
    if not categories:
        return []
    from django.db.models import Window
    from django.db.models.functions import RowNumber

    ranked = (
        Article.objects.published()
        .filter(category__in=categories)
        .annotate(
            row=Window(RowNumber(), partition_by=[F("category_id")], order_by=[F("publish_at").desc(), F("id").desc()])
        )
        .filter(row__lte=per_category)
        .select_related("category")
        .prefetch_related(Prefetch("authors"))
        .defer("body", "body_html", "teaser_html", "search_vector")
        .order_by("category__position", "-publish_at")
    )
    by_category: dict[int, list[Article]] = {c.pk: [] for c in categories}
    for article in ranked:
        by_category[article.category_id].append(article)
    return [(c, by_category[c.pk]) for c in categories if by_category[c.pk]]
