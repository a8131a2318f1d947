"""Rendered article pages for anonymous readers, kept in the shared cache.

An anonymous reader's article page depends only on the article and on what
`subscriptions.access.decide()` answered — full text or teaser, why, and how
many free articles are left — plus the host and path it was asked for (its
canonical link names the host). The query string is not part of the key and
the page echoes none of it, so tracking parameters share one entry. So once
the meter has decided (that part always runs, on every request: credits are
never cached), the page itself can be reused for every
anonymous reader who got the same answer. The decision is part of the key, so
a page rendered with the full text can only ever be served to a reader whose
own decision was "full"; a teaser page holds the teaser only.

Never used for logged-in readers (their header, comments and forms are
personal, and forms carry CSRF tokens), for staff previews, or while a flash
message is waiting to be shown.

The article itself (the row the page is made from, with its section, comment
count and the next scheduled publication) is kept here too, for every reader:
building and running that query was most of a cached page's cost. It holds the
full text, so it never leaves the server; what a reader sees is still decided
per request by `access.decide()`.

Freshness (newsroom/versioned_cache.py): every entry is stored with the
site-wide generation current when its data was read, and counts only while
that generation is. Any save or delete of an article, section, author or plan
starts a new one — once when it happens and again when its transaction
commits, so a page rendered from the old rows in between is not kept. A
comment retires only its own article's entries (a second version, per
article). A scheduled article going live saves
nothing, so nothing is kept past the next scheduled publish time (a page could
be missing the new story from its "More from" cards); otherwise entries live
`PAGE_CACHE_SECONDS` (default 300; 0 turns the cache off).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet, prefetch_related_objects
from django.http import Http404, HttpRequest
from django.utils import timezone

from newsroom import versioned_cache
from newsroom.versioned_cache import Version
from subscriptions.access import Decision

from .models import Article

GENERATION_KEY = "page-cache:generation"


def seconds_to_keep(article: Article) -> int:
    """PAGE_CACHE_SECONDS, but never past the moment the next scheduled article
    goes live (`next_scheduled_at`, annotated on the article by the view)."""
    seconds = settings.PAGE_CACHE_SECONDS
    if article.next_scheduled_at is not None:
        seconds = min(seconds, int((article.next_scheduled_at - timezone.now()).total_seconds()))
    return seconds


def _article_or_404(queryset: QuerySet[Article], slug: str) -> Article:
    """The article with its authors (byline and author boxes) and topics, so a cached row needs no query for them."""
    article = queryset.filter(slug=slug).first()
    if article is None:
        raise Http404("No article here.")
    prefetch_related_objects([article], "authors", *([] if hasattr(article, "topic_names") else ["tags"]))
    return article


def _slug_hash(slug: str) -> str:
    return hashlib.blake2b(slug.encode(), digest_size=20).hexdigest()


def _comments_key(slug: str) -> str:
    return "page-cache:comments-version:" + _slug_hash(slug)


def find_article(queryset: QuerySet[Article], slug: str) -> tuple[Article, Version]:
    """The article at `slug` from `queryset` (the view's), from the cache when it
    is current, and the version read with it — the site-wide generation and this
    article's comments version (one round trip when cached).
    Raises Http404 when there is no such article."""
    if settings.PAGE_CACHE_SECONDS <= 0:
        return _article_or_404(queryset, slug), (0,)
    key = "page-cache:article-row:" + _slug_hash(slug)
    found, generation = versioned_cache.read([key], GENERATION_KEY, _comments_key(slug))
    if key in found:
        return found[key], generation
    article = _article_or_404(queryset, slug)
    versioned_cache.store(key, generation, article, seconds_to_keep(article))
    return article, generation


def applies(request: HttpRequest, preview: bool) -> bool:
    return (
        settings.PAGE_CACHE_SECONDS > 0
        and not preview
        and not request.user.is_authenticated
        and "messages" not in request.COOKIES
    )


def _key(request: HttpRequest, article: Article, decision: Decision) -> str:
    # The page names its host (canonical and og: links) but echoes no query string, so
    # `?utm_source=…` and random parameters share one entry instead of adding one each.
    url = f"{request.scheme}://{request.get_host()}{request.path}"
    # What the article shows (its edits, its comment count) is in the version the page
    # is stored under (find_article), not here; here only what varies per reader.
    parts = (
        article.pk, decision.full, decision.reason.value, decision.credits_left, settings.FREE_ARTICLES_PER_DAY, url,
    )  # fmt: skip
    return "page-cache:article:" + hashlib.blake2b(repr(parts).encode(), digest_size=20).hexdigest()


@dataclass(frozen=True)
class Entry:
    """A page's place in the cache: its key, the generation current when it was
    looked up (a page rendered now belongs to it), and the page if it was there."""

    key: str
    generation: Version
    html: str | None


def get(request: HttpRequest, article: Article, decision: Decision, generation: Version) -> Entry:
    """The page for this decision, if it was rendered in `generation` (the one
    find_article() read the article with)."""
    key = _key(request, article, decision)
    return Entry(key, generation, versioned_cache.get(key, generation))


def put(entry: Entry, html: str, article: Article) -> None:
    versioned_cache.store(entry.key, entry.generation, html, seconds_to_keep(article))


def invalidate(**kwargs) -> None:
    """Every cached article row, page and fragment is stale: something they show has changed."""
    versioned_cache.retire(GENERATION_KEY)


def forget_comments(slug: str) -> None:
    """A comment on this article was added, edited, hidden or removed: its cached
    row (which carries the count) and pages are stale; other articles' are not."""
    versioned_cache.retire(_comments_key(slug))
