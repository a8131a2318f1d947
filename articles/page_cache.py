"""Rendered article pages for anonymous readers, kept in the shared cache.

An anonymous reader's article page depends only on the article and on what
`subscriptions.access.decide()` answered — full text or teaser, why, and how
many free articles are left — plus the URL it was asked for (the "Log in" link
returns there). So once the meter has decided (that part always runs, on every
request: credits are never cached), the page itself can be reused for every
anonymous reader who got the same answer. The decision is part of the key, so
a page rendered with the full text can only ever be served to a reader whose
own decision was "full"; a teaser page holds the teaser only.

Never used for logged-in readers (their header, comments and forms are
personal, and forms carry CSRF tokens), for staff previews, or while a flash
message is waiting to be shown.

Freshness: the key holds the article's `updated_at` and visible comment count,
and a site-wide generation number that any save or delete of an article,
section, author or plan bumps. A scheduled article going live saves nothing,
so no page is kept past the next scheduled publish time (it could be missing
the new story from its "More from" cards); otherwise pages live
`PAGE_CACHE_SECONDS` (default 300; 0 turns the cache off).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone

from subscriptions.access import Decision

from .models import Article

GENERATION_KEY = "page-cache:generation"


def applies(request: HttpRequest, preview: bool) -> bool:
    return (
        settings.PAGE_CACHE_SECONDS > 0
        and not preview
        and not request.user.is_authenticated
        and "messages" not in request.COOKIES
    )


def _key(request: HttpRequest, article: Article, decision: Decision) -> str:
    url = f"{request.scheme}://{request.get_host()}{request.get_full_path()}"
    parts = (
        article.pk, article.updated_at.timestamp(), article.comment_count, decision.full,
        decision.reason.value, decision.credits_left, settings.FREE_ARTICLES_PER_DAY, url,
    )  # fmt: skip
    return "page-cache:article:" + hashlib.blake2b(repr(parts).encode(), digest_size=20).hexdigest()


@dataclass(frozen=True)
class Entry:
    """A page's place in the cache: its key, the generation current when it was
    looked up (a page rendered now belongs to it), and the page if it was there."""

    key: str
    generation: int
    html: str | None


def get(request: HttpRequest, article: Article, decision: Decision) -> Entry:
    """One round trip: the page is stored with the generation it was rendered in,
    and read together with the current one."""
    key = _key(request, article, decision)
    found = cache.get_many([key, GENERATION_KEY])
    current = found.get(GENERATION_KEY, 0)
    rendered_in, html = found.get(key, (None, None))
    return Entry(key, current, html if rendered_in == current else None)


def put(entry: Entry, html: str, article: Article) -> None:
    """Keep the page, but never past the moment the next scheduled article goes
    live (`next_scheduled_at`, annotated on the article by the view)."""
    seconds = settings.PAGE_CACHE_SECONDS
    if article.next_scheduled_at is not None:
        seconds = min(seconds, int((article.next_scheduled_at - timezone.now()).total_seconds()))
    if seconds >= 1:
        cache.set(entry.key, (entry.generation, html), seconds)


def invalidate(**kwargs) -> None:  # noqa: ANN003 - signal receiver
    """Every cached page is stale: something they show has changed. A new,
    never-used generation (not a counter, which could restart after eviction
    and meet old pages again)."""
    cache.set(GENERATION_KEY, time.time_ns(), None)
