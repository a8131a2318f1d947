"""Search and per-category rails.

PostgreSQL: full-text search over weighted tsvectors (title A, summary B,
body C) with GIN indexes, ranked so title hits come first, among the newest
SEARCH_CANDIDATES matches. SQLite (first local run only): a case-insensitive
match on the same fields, title matches first.

Search must not be an oracle on paid text: whether an article comes back for
a quoted phrase says whether the phrase is in it. So an article matches by its
full text (`search_vector`) only where the access module says this reader may
read that text (`access.full_text_filter`), and otherwise by its public text
alone (`public_search_vector`: headline, summary, teaser).
"""

from collections.abc import Collection

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVectorField
from django.db import connection
from django.db.models import Case, F, IntegerField, Q, QuerySet, Value, When

from .models import Article, Category

# How many of the newest matching articles a search ranks and lists.
SEARCH_CANDIDATES = 1000


def ranked_ids(queryset: QuerySet[Article], query: str, *, full_text: Q) -> list[int]:
    """Ids of the articles of `queryset` matching `query`, best first, at most
    SEARCH_CANDIDATES, in one query: matched by their whole text where `full_text`
    (a filter from access.full_text_filter; empty means every article) allows,
    by their public text elsewhere."""
    if not query:
        return []
    if connection.vendor == "postgresql":
        q = SearchQuery(query, config="english", search_type="websearch")
        if full_text:
            match = Q(public_search_vector=q) | (full_text & Q(search_vector=q))
            vector = Case(
                When(full_text, then=F("search_vector")),
                default=F("public_search_vector"),
                output_field=SearchVectorField(),
            )
        else:
            match, vector = Q(search_vector=q), F("search_vector")
        # Rank the newest matches only: ranking reads every candidate's vector, and a
        # common word can match most of a large archive. PostgreSQL walks the publish_at
        # index newest first and stops at SEARCH_CANDIDATES matches for a broad term, or
        # takes the GIN index for a rare one (see bench/RESULTS.md).
        newest = queryset.filter(match).order_by("-publish_at", "-id").values("pk")[:SEARCH_CANDIDATES]
        return list(
            Article.objects.filter(pk__in=newest)
            .annotate(rank=SearchRank(vector, q))
            .order_by("-rank", "-publish_at", "-id")
            .values_list("pk", flat=True)
        )
    words = query.split()[:8]
    match = Q()
    for word in words:
        public = Q(title__icontains=word) | Q(standfirst__icontains=word) | Q(teaser_html__icontains=word)
        match &= public | (full_text & Q(body__icontains=word))
    return list(
        queryset.filter(match)
        .annotate(
            title_hit=Case(
                When(title__icontains=words[0], then=Value(1)), default=Value(0), output_field=IntegerField()
            )
        )
        .order_by("-title_hit", "-publish_at", "-id")
        .values_list("pk", flat=True)[:SEARCH_CANDIDATES]
    )


HOME_LATEST = 6  # stories under the lead, before the section rails
HOME_RAIL = 4  # each section's newest stories the top of the home page has not shown


def front_page() -> tuple[list[Article], list[tuple[Category, list[Article]]]]:
    """What the home page shows: the newest stories (the lead first), then each section's
    newest of the rest. The home view draws it; page_cache asks it whether a story is there."""
    latest = list(Article.objects.published().for_listing()[: 1 + HOME_LATEST])
    # One of each story: a section's rail shows what the top of the page has not.
    rails = category_rails(list(Category.objects.all()), per_category=HOME_RAIL, exclude=[a.pk for a in latest])
    return latest, rails


def category_rails(
    categories: list[Category], *, per_category: int, exclude: Collection[int] = ()
) -> list[tuple[Category, list[Article]]]:
    """The newest few articles of each category, in two queries for all of them,
    leaving out the ids in `exclude` (stories the page already shows above).

    The ids come from one UNION ALL of per-category "newest first, LIMIT n"
    scans, each an index scan on (category, publish_at desc), so the cost does
    not grow with the archive (a window function over all rows would sort
    every published article). Then the cards are loaded by id.
    """
    if not categories:
        return []
    newest = [
        Article.objects.published()
        .filter(category=c)
        .exclude(pk__in=exclude)
        .order_by("-publish_at", "-id")
        .values_list("pk")[:per_category]
        for c in categories
    ]
    if connection.features.supports_slicing_ordering_in_compound:
        ids = [pk for (pk,) in newest[0].union(*newest[1:], all=True)]
    else:  # SQLite (first local run): one small query per section
        ids = [pk for query in newest for (pk,) in query]
    cards = Article.objects.filter(pk__in=ids).for_listing()
    by_category: dict[int, list[Article]] = {c.pk: [] for c in categories}
    for article in cards:
        by_category[article.category_id].append(article)
    return [(c, by_category[c.pk]) for c in categories if by_category[c.pk]]
