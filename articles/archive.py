"""Archive pages that cost the same at any depth: "older stories" links by keyset.

A page number means OFFSET, and PostgreSQL reaches page 8,000 of a section by
reading and discarding the 96,000 rows before it. Instead each page after the
first is named by the article it continues from (`?older=<id>`: the stories
published before that one; `?newer=<id>`: the ones after it), and the query
starts from that article's (publish_at, id) in the index — the deepest page
is as cheap as the first. No page count either (COUNT over a section is a scan
of all of it): a page knows only whether there is another one, by fetching one
row more than it shows.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import HttpRequest

from .models import Article

PAGE_SIZE = 12


@dataclass
class ArchivePage:
    articles: list[Article]
    older: int | None  # ?older= for the next page back in time, if there is one
    newer: int | None  # ?newer= for the page before this one; None on the first page


def _anchor(value: str | None) -> tuple | None:
    """(publish_at, id) of the article a page continues from."""
    if not value or not value.isdigit():
        return None
    return Article.objects.filter(pk=int(value)).values_list("publish_at", "pk").first()


def archive_page(queryset: QuerySet[Article], request: HttpRequest, per_page: int = PAGE_SIZE) -> ArchivePage:
    """One page of `queryset` (newest first, by publish_at then id) for the request's ?older= / ?newer=."""
    newest_first = queryset.order_by("-publish_at", "-id")
    if anchor := _anchor(request.GET.get("newer")):
        at, pk = anchor
        after = (
            queryset.filter(publish_at__gte=at)
            .filter(Q(publish_at__gt=at) | Q(pk__gt=pk))
            .order_by("publish_at", "id")[: per_page + 1]
        )
        rows = list(after)
        if len(rows) > per_page:  # more newer stories beyond this page
            rows = rows[:per_page][::-1]
            return ArchivePage(rows, older=rows[-1].pk, newer=rows[0].pk)
        # Back at the top: show the first page as it is, not a short one.
    elif anchor := _anchor(request.GET.get("older")):
        at, pk = anchor
        before = newest_first.filter(publish_at__lte=at).filter(Q(publish_at__lt=at) | Q(pk__lt=pk))
        rows = list(before[: per_page + 1])
        page = rows[:per_page]
        return ArchivePage(
            page, older=page[-1].pk if len(rows) > per_page else None, newer=page[0].pk if page else None
        )
    rows = list(newest_first[: per_page + 1])
    page = rows[:per_page]
    return ArchivePage(page, older=page[-1].pk if len(rows) > per_page else None, newer=None)
