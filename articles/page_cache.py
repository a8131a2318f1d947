"""Rendered article pages, kept in the shared cache and reused by every reader
who got the same answer.

A reader's article page depends only on the article, on what
`subscriptions.access` answered — full text or teaser, why, how many free
articles are left, whether a payment failed, whether they may comment — on
whether they are logged in, and on the host and path it was asked for (its
canonical link names the host). The query string is not part of the key and
the page echoes none of it, so tracking parameters share one entry; only the
comment list's own parameters (page, order) count, where comments are shown.
`variant()` is the one name of that answer: every kept page is stored under it.
The meter always runs, on every request: credits are never cached. The
decision is part of the key, so a page rendered with the full text can only
ever be served to a reader whose own decision was "full"; a teaser page holds
the teaser only.

What is the reader's own is not in the stored page: it is rendered as
placeholders and filled in per request by `fill()` — the CSRF token, the
comment form's double-submit token, and which comments are the reader's own
(edit and delete) rather than someone else's (report). The account menu is
the same for every logged-in reader. So a subscriber's page is rendered once
per article and comments page, not once per subscriber.

Never shared for staff (previews, and they may see more), while a flash
message or a comment draft is waiting to be shown, or when PAGE_CACHE_SECONDS is 0.

The article itself (the row the page is made from, with its section, comment
count and the next scheduled publication) is kept here too, for every reader:
building and running that query was most of a cached page's cost. It holds the
full text, so it never leaves the server; what a reader sees is still decided
per request by `access.decide()`.

Freshness (newsroom/versioned_cache.py): every entry is stored with the versions
current when its data was read, and counts only while they are — retired once
when a change happens and again when its transaction commits, so a page
rendered from the old rows in between is not kept. Article pages count under
the site-wide generation and their story's own version; a section's, author's or
topic's list pages, and the home page, under the generation and their own list's
version (list_versions()); search pages and sitemaps under the generation and any
story's (LIST_VERSIONS). What retires what (forget_story, articles/receivers.py): a
story readers cannot see before or after its save (a draft, a scheduled story
edited) nothing; a story given a time to go live by itself everything (what is kept
after must expire then); a live story its own pages, the lists that show it (its
sections', authors' and topics', before and after the save; the home page when it is
or was there; search and sitemaps), and every article page too when it is among its
section's newest (the "More from" cards kept inside them); a comment its story's
pages (a deleted or renamed account's, the pages of every story it commented on); a section,
author, topic or plan everything; a picture in stories nothing itself, but each story
showing it is saved again (articles/receivers.py). A scheduled article going live saves nothing,
so nothing is kept past the next scheduled publication time; otherwise entries
live `PAGE_CACHE_SECONDS` (default 300; 0 turns the cache off).
"""

from __future__ import annotations

import functools
import hashlib
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet, prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.response import TemplateResponse
from django.utils import timezone

from newsroom import versioned_cache
from newsroom.versioned_cache import Version
from subscriptions import access, counters, crawlers, experiments, meter
from subscriptions.access import Decision, Reason

from . import search
from .comments import DRAFT_SESSION_KEY
from .models import Article, Category

# The site-wide version: every page shows sections (the menu), plans (the paywall's price)
# and, on article pages, the "More from" cards of a section.
# Both are read by anonymous_page()'s script, so they are in the meter's cluster slot.
GENERATION_KEY = versioned_cache.version_key(f"{counters.SLOT_TAG}page-cache:generation")
# What lists any story (search pages, sitemaps): any change to what readers can see of a
# story retires it. A section's, author's or topic's list and the home page have their own
# (list_key()): a story's change retires those that show it.
LISTS_KEY = versioned_cache.version_key("page-cache:lists")
LIST_VERSIONS = (GENERATION_KEY, LISTS_KEY)
# The list pages with a version of their own: URL name -> what names the list.
OWN_LISTS = {"home": None, "category": "slug", "author": "slug", "tag": "slug"}


def list_key(kind: str, slug: str = "") -> str:
    """The version of one list's pages: "home", or a section's ("category"), author's or topic's ("tag")."""
    return versioned_cache.version_key(f"page-cache:list:{kind}:{_digest(slug)}")


def list_versions(request: HttpRequest) -> tuple[str, ...]:
    """The versions a list page is kept under: its own list's, or any story's (search)."""
    match = request.resolver_match
    if match is not None and match.url_name in OWN_LISTS:
        name = OWN_LISTS[match.url_name]
        return (GENERATION_KEY, list_key(match.url_name, match.kwargs[name] if name else ""))
    return LIST_VERSIONS


def seconds_to_keep(next_scheduled_at) -> int:
    """PAGE_CACHE_SECONDS, but never past the moment the next scheduled article
    goes live (`next_scheduled_at`: annotated on the article by the view, or
    Article.objects.next_publication() for list pages)."""
    seconds = settings.PAGE_CACHE_SECONDS
    if next_scheduled_at is not None:
        seconds = min(seconds, int((next_scheduled_at - timezone.now()).total_seconds()))
    return seconds


def _article_or_404(queryset: QuerySet[Article], slug: str) -> Article:
    """The article with its authors (byline and author boxes) and topics, so a cached row needs no query for them."""
    article = queryset.filter(slug=slug).first()
    if article is None:
        raise Http404("No article here.")
    if not hasattr(article, "byline_rows"):  # not annotated (SQLite): prefetched instead
        prefetch_related_objects([article], "authors", "tags")
    return article


def _digest(parts: object) -> str:
    """A short, fixed-length name for what a cache key is made of."""
    return hashlib.blake2b(repr(parts).encode(), digest_size=20).hexdigest()


def _article_key(slug: str) -> str:
    """The version of one story's own pages: its edits and its comments retire it."""
    return versioned_cache.version_key(f"{counters.SLOT_TAG}page-cache:article-version:{_digest(slug)}")


def _find_article(queryset: QuerySet[Article], slug: str) -> tuple[Article, Version]:
    """The article at `slug` from `queryset` (the view's), from the cache when it
    is current, and the version read with it — the site-wide generation and this
    article's own version (one round trip when cached).
    Raises Http404 when there is no such article."""
    if settings.PAGE_CACHE_SECONDS <= 0:
        return _article_or_404(queryset, slug), (0,)
    key = "page-cache:article-row:" + _digest(slug)
    found, generation = versioned_cache.read([key], GENERATION_KEY, _article_key(slug))
    if key in found:
        return found[key], generation
    article = _article_or_404(queryset, slug)
    versioned_cache.store(key, generation, article, seconds_to_keep(article.next_scheduled_at))
    return article, generation


# Stand-ins for the reader's own parts of a page (see fill()); nothing else on a page looks like them.
CSRF_PLACEHOLDER = "csrf-for-this-reader-9c1e52"
COMMENT_TOKEN_PLACEHOLDER = "comment-token-for-this-reader-5a07d3"
PLACEHOLDERS = {"csrf_token": CSRF_PLACEHOLDER, "comment_token": COMMENT_TOKEN_PLACEHOLDER}
# includes/comment.html: <!--by AUTHOR_ID-->the author's controls<!--else-->everyone else's<!--/by-->
_OWN_CONTROLS = re.compile(rb"<!--by (\d+)-->(.*?)<!--else-->(.*?)<!--/by-->", re.S)
_CSRF, _COMMENT_TOKEN = CSRF_PLACEHOLDER.encode(), COMMENT_TOKEN_PLACEHOLDER.encode()


def fill(request: HttpRequest, html: bytes) -> bytes:
    """Put this reader's own parts into a page rendered with PLACEHOLDERS. Pages are
    kept and filled as the UTF-8 bytes they are sent as: never decoded and encoded again."""
    if _CSRF in html:
        html = html.replace(_CSRF, get_token(request).encode())
    if _COMMENT_TOKEN in html:
        html = html.replace(_COMMENT_TOKEN, secrets.token_hex(16).encode())
    if b"<!--by " in html:
        own = str(request.user.pk).encode()
        html = _OWN_CONTROLS.sub(lambda m: m[2] if m[1] == own else m[3], html)
    return html


def _shared(request: HttpRequest, preview: bool) -> bool:
    user = request.user
    if settings.PAGE_CACHE_SECONDS <= 0 or preview or user.is_staff or "messages" in request.COOKIES:
        return False
    if user.is_authenticated:
        return DRAFT_SESSION_KEY not in request.session
    return True


def variant(request: HttpRequest, decision: Decision, *, preview: bool = False) -> str | None:
    """Which of an article's pages this reader gets, by name: the one place that says.
    Every store of a kept page is keyed by it (with the address: _address), and every
    reader who gets the same name gets the same page. None: this request's page is its
    own, rendered and never kept (staff, a preview, a gift link — valid or not —, a
    verified crawler, a flash message or a comment draft waiting, the cache off).

    A reader without an account: what the meter answered — "full:<credits left>" (a free
    story: "full:None"), or the refusal's reason; anonymous_page()'s script gives the
    meter's answers these same names. An entitled reader: only what their page shows of
    their account (a failed payment's banner; without a verified email, no comments),
    whatever made them entitled. Anyone else logged in: the decision and what the paywall
    box says of their account. Where comments are shown, their page and order count too."""
    if (
        not _shared(request, preview)
        or "gift" in request.GET
        or decision.reason in (Reason.GIFT, Reason.VERIFIED_CRAWLER)
    ):
        return None
    ent = decision.entitlement
    if not request.user.is_authenticated:
        name = f"full:{decision.credits_left}" if decision.full else str(decision.reason)
    elif ent.entitled:
        name = f"entitled {decision.reason == Reason.FREE_ARTICLE} {ent.payment_failed} {ent.email_verified}"
    else:
        name = (f"account {decision.full} {decision.reason}/{decision.credits_left} {ent.reason}/"
                f"{ent.subscription_status} {ent.payment_failed} {ent.email_verified} {ent.trial_used}")  # fmt: skip
    if access.may_comment(ent):
        name += f" comments={request.GET.get('comments', '')}/{request.GET.get('cpage', '')}"
    return name


def _address(request: HttpRequest) -> str:
    """What a kept article page is for besides its variant: the address asked for and the
    reader's terms (the site's, or their experiment arm's: its limit, its paywall's words).
    The page names its host (canonical and og: links) but echoes no query string, so
    `?utm_source=…` and random parameters share one entry instead of adding one each."""
    return _digest((request.scheme, request.get_host(), request.path, experiments.terms(request).name))


def _page_key(request: HttpRequest, name: str) -> str:
    # Which article, and what it shows (its edits, its comment count), is in the address and
    # the version the page is stored under (find()); here only what varies per reader.
    return f"page-cache:article:{_address(request)}:{_digest(name)}"


def page(
    request: HttpRequest, found: Found, decision: Decision, render: Callable[[], bytes], *, preview: bool = False
) -> bytes:
    """The article page for this reader's `decision`, by its name (variant()): kept, or
    rendered with PLACEHOLDERS (by one worker at a time: _rendered_once) and kept under
    the version find() read the article with; then filled in for this reader. A page
    with no name is rendered for this request alone."""
    name = variant(request, decision, preview=preview)
    if name is None:
        return fill(request, render())
    article, version = found.article, found.version
    if in_one_call(request):  # kept where anonymous_page()'s script looks: it has looked already
        lock: object = (_anonymous_key(request), version, name)
        kept = functools.partial(_kept_anonymous, request, version, name)
        keep = functools.partial(_keep_anonymous, request, article, name, version)
    else:
        key = _page_key(request, name)
        lock, kept = (key, version), functools.partial(versioned_cache.get, key, version)
        if (html := kept()) is not None:
            return fill(request, html)
        seconds = seconds_to_keep(article.next_scheduled_at)
        keep = functools.partial(versioned_cache.store, key, version, seconds=seconds)

    def rendered_and_kept() -> bytes:
        html = render()
        keep(html)
        return html

    return fill(request, _rendered_once(lock, kept, rendered_and_kept))


# How long a render may hold its lock: a worker that dies rendering holds it no longer.
RENDER_LOCK_SECONDS = 10


def _rendered_once(name: object, kept: Callable[[], bytes | None], render: Callable[[], Any]) -> Any:
    """A page its caller found not kept: `render()` it (which keeps what it renders) — with
    no stampede: when many readers ask at once for a page nobody has kept (a popular story
    just edited), one renders it and the others wait for that render, polling `kept`, at
    most PAGE_RENDER_WAIT_SECONDS and no longer than that render: one that ends keeping
    nothing (it failed, or its page is never kept: a 404) lets them render at once."""
    lock = "page-cache:rendering:" + _digest(name)
    mine = cache.add(lock, 1, RENDER_LOCK_SECONDS)
    if not mine and cache.get(lock) is not None:  # another worker renders
        deadline = time.monotonic() + settings.PAGE_RENDER_WAIT_SECONDS
        while time.monotonic() < deadline:
            time.sleep(0.02)
            # Asked before the page: the render keeps its page before it lets go of the lock.
            rendering = cache.get(lock) is not None
            if (html := kept()) is not None:
                return html
            if not rendering:
                break
    try:
        return render()
    finally:  # kept, or failed: either way the others stop waiting (a lock taken by another is theirs)
        if mine:
            cache.delete(lock)


# An anonymous reader's page in one call to Redis: the page's versions, the
# article's facts (its id, its access and what it is for a reader without an
# account), the meter for a metered one, and the page kept for that answer.
# Every key it touches is declared (Redis Cluster runs nothing else), all under
# counters.SLOT_TAG (one call's keys in one slot): KEYS[1] to KEYS[5] the meter's
# (meter.CONSUME_FUNCTION), KEYS[6] the generation, KEYS[7] the article's own version,
# KEYS[8] a hash of what is kept for this address: the field "facts" and one field per
# answer (variant), each stamped with the versions it was made under ("<generation>:
# <article version>\n"), so a field made under older versions is a miss. The hash
# expires no later than the shortest-lived field written into it (EXPIRE ... LT).
# ARGV: the meter's limit, address limit, two times to keep and experiment reader id,
# then the two refusals' variants.
_ANONYMOUS_PAGE = meter.CONSUME_FUNCTION + """
local generation, own = redis.call('GET', KEYS[6]), redis.call('GET', KEYS[7])
if not generation or not own then return false end
local stamp = generation .. ':' .. own .. '\\n'
local function current(field)
  local value = redis.call('HGET', KEYS[8], field)
  if value and string.sub(value, 1, #stamp) == stamp then return string.sub(value, #stamp + 1) end
  return false
end
local facts = current('facts')
if not facts then return false end
local id, access, variant = string.match(facts, '^(%d+) (%S+) (.+)$')
local spent = false
if variant == 'metered' then
  spent = consume(id, ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])
  if spent[1] == 1 then variant = 'full:' .. spent[3]
  elseif spent[4] == 1 then variant = ARGV[6]
  else variant = ARGV[7] end
end
return {access, variant, spent, current(variant)}
"""
_METERED = "metered"


@dataclass(frozen=True)
class Found:
    """What find() found for an address: the page kept for this reader (filled in),
    or else the article's row and the version it was read under; and the meter's
    answer if it ran (anonymous_page)."""

    html: bytes | None = None
    is_free: bool = False
    paywalled: bool = False
    spent: meter.MeterResult | None = None
    article: Article | None = None
    version: Version = (0,)


def in_one_call(request: HttpRequest) -> bool:
    """An anonymous reader's plain GET, served by anonymous_page() when the meter and
    the cache share one Redis."""
    return (
        settings.PAGE_CACHE_SECONDS > 0
        and counters.in_redis()
        and settings.METER_REDIS_URL == settings.REDIS_URL
        and request.method == "GET"
        and settings.SESSION_COOKIE_NAME not in request.COOKIES  # no session: no account, no draft
        and "messages" not in request.COOKIES
        and "gift" not in request.GET
        and crawlers.claimed_crawler(request) is None
    )


def _anonymous_key(request: HttpRequest) -> str:
    return cache.make_key(f"{counters.SLOT_TAG}page-cache:anonymous:{_address(request)}")


def _stamp(version: Version) -> bytes:
    generation, own = version
    return f"{generation}:{own}\n".encode()


def find(request: HttpRequest, slug: str, queryset: QuerySet[Article]) -> Found:
    """What is kept for this reader at `slug`: their page, found without the article's
    row where that can be done — an anonymous reader's in one call to Redis with the
    meter's credit spent (anonymous_page; WRITES), an entitled reader's after their
    account (entitled_page) — or else the article (_find_article), with the meter's
    answer if it already ran. What articles/middleware.py found for this request is
    not asked again (hand_over). Raises Http404 when there is no such article."""
    served = request.__dict__.pop(_ASKED) if _ASKED in request.__dict__ else anonymous_page(request, slug)
    served = served or entitled_page(request, slug)
    if served is not None and served.html is not None:
        return served
    article, version = _find_article(queryset, slug)
    return Found(spent=served and served.spent, article=article, version=version)


_ASKED = "_anonymous_page_asked"


def hand_over(request: HttpRequest, served: Found | None) -> None:
    """anonymous_page() was asked for this request (and may have spent a credit): find() goes on from its answer."""
    request.__dict__[_ASKED] = served


def anonymous_page(request: HttpRequest, slug: str) -> Found | None:
    """An anonymous reader's article page with the meter's credit spent, in one
    round trip; None when this request is not served so or the article's facts are
    not kept (the view then goes the long way; nothing was spent)."""
    if not in_one_call(request):
        return None
    meter_keys, meter_args = meter.redis_call(request)
    keys = [*meter_keys, cache.make_key(GENERATION_KEY), cache.make_key(_article_key(slug)), _anonymous_key(request)]
    args = [*meter_args, Reason.ADDRESS_LIMIT, Reason.METER_EXHAUSTED]
    try:
        answer = counters.client().register_script(_ANONYMOUS_PAGE)(keys=keys, args=args)
    except counters.UNREACHABLE:
        answer = None  # the long way, where the meter refuses what it cannot count
    if answer is None:
        meter.drop_unused_id(request)
        return None
    article_access, variant, spent, html = answer
    if not spent:
        meter.drop_unused_id(request)
    return Found(
        is_free=article_access == Article.Access.FREE.encode(),
        paywalled=not variant.startswith(b"full:"),
        spent=meter.result(*spent) if spent else None,
        html=fill(request, html) if html is not None else None,
    )


def entitled_page(request: HttpRequest, slug: str) -> Found | None:
    """A logged-in reader's page when their account opens everything and the page is
    kept, without the article's row: read with the page's versions in one round trip."""
    if request.method != "GET" or "gift" in request.GET or not request.user.is_authenticated:
        return None
    ent = access.entitlement(request)
    if not ent.entitled:
        return None
    # The article's own access is not known without its row: its page is kept under one
    # of two names, as a free article's or as any other's.
    names = {reason == Reason.FREE_ARTICLE: variant(request, Decision(True, reason, ent))
             for reason in (Reason.FREE_ARTICLE, ent.reason)}  # fmt: skip
    if None in names.values():
        return None
    keys = {_page_key(request, name): is_free for is_free, name in names.items()}
    found, _ = versioned_cache.read(list(keys), GENERATION_KEY, _article_key(slug))
    for key, html in found.items():
        return Found(html=fill(request, html), is_free=keys[key])
    return None


def _kept_anonymous(request: HttpRequest, version: Version, name: str) -> bytes | None:
    """The page anonymous_page()'s script would find named `name` under `version`."""
    stamp = _stamp(version)
    try:
        value = counters.client().hget(_anonymous_key(request), name)
    except counters.UNREACHABLE:
        return None
    return value[len(stamp) :] if value is not None and value.startswith(stamp) else None


def _keep_anonymous(request: HttpRequest, article: Article, name: str, version: Version, html: bytes) -> None:
    seconds = seconds_to_keep(article.next_scheduled_at)
    if seconds < 1:
        return
    stamp, key = _stamp(version), _anonymous_key(request)
    for_anyone = access.decide_for_user(None, article)
    facts = f"{article.pk} {article.access} {_METERED if for_anyone.needs_credit else variant(request, for_anyone)}"
    try:
        with counters.client().pipeline(transaction=False) as pipe:
            pipe.hset(key, mapping={"facts": stamp + facts.encode(), name: stamp + html})
            pipe.expire(key, seconds, lt=True)  # no field outlives its own time (a scheduled story going live)
            pipe.execute()
    except counters.UNREACHABLE:
        pass  # kept next time


def listing(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A list page (home, section, author, topic, search) from the cache.

    The page is the same for every reader who asks for the same address and is
    alike in the two things a list page shows differently: logged in or not (the
    account menu), entitled or not (ad slots; which text search matches). So it
    is rendered once with PLACEHOLDERS under the site-wide generation — any save
    of an article, section, author or plan retires it, and it never outlives the
    next scheduled publication — and filled in per reader. Not for staff, a
    waiting flash message or comment draft, or anything but a 200 template page.
    The whole address counts (the "Log in" link returns to it). A search answered
    from here never reaches the index, so the per-client search limit counts only
    the searches that do."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method != "GET" or not _shared(request, preview=False):
            return view(request, *args, **kwargs)
        parts = (request.scheme, request.get_host(), request.get_full_path(), request.user.is_authenticated,
                 access.entitlement(request).entitled)  # fmt: skip
        key = "page-cache:listing:" + _digest(parts)
        found, version = versioned_cache.read([key], *list_versions(request))
        if key in found:
            return HttpResponse(fill(request, found[key]))

        def rendered_and_kept() -> bytes | HttpResponse:
            response = view(request, *args, **kwargs)
            if response.status_code != 200 or not isinstance(response, TemplateResponse):
                return response  # not kept
            response.context_data = {**(response.context_data or {}), **PLACEHOLDERS}
            html = response.rendered_content.encode()
            upcoming = Article.objects.next_publication().first()
            versioned_cache.store(key, version, html, seconds_to_keep(upcoming and upcoming["publish_at"]))
            return html

        html = _rendered_once((key, version), lambda: versioned_cache.get(key, version), rendered_and_kept)
        return html if isinstance(html, HttpResponse) else HttpResponse(fill(request, html))

    return wrapped


def invalidate() -> None:
    """Every cached article row, page and fragment is stale: something they show has changed
    (a section, an author, a topic, a plan, or stories written without signals)."""
    versioned_cache.retire(GENERATION_KEY)


@dataclass(frozen=True)
class Shown:
    """What readers could see of a story at one moment: enough to say which pages showed it."""

    slug: str
    category_id: int
    publish_at: datetime
    live: bool
    scheduled: bool  # goes live by itself at publish_at: no save will say so
    lists: frozenset[str]  # the versions of the section's, authors' and topics' lists (list_key)

    @classmethod
    def of(cls, article: Article) -> Shown:
        """As `article` stands, with its bylines and topics as the database has them now."""
        scheduled = article.status != Article.Status.DRAFT and not article.is_live
        lists = set()
        if article.is_live:
            lists.add(list_key("category", Category.objects.filter(pk=article.category_id).values_list(
                "slug", flat=True).first() or ""))  # fmt: skip
            if article.pk:
                lists.update(list_key("author", s) for s in article.authors.values_list("slug", flat=True))
                lists.update(list_key("tag", s) for s in article.tags.values_list("slug", flat=True))
        return cls(article.slug, article.category_id, article.publish_at, article.is_live, scheduled, frozenset(lists))


# "More from" shows a section's newest stories but the one being read (views._render_article).
MORE_FROM = 4


def _in_more_from(shown: Shown) -> bool:
    """Could this story be among the "More from" cards of its section's pages?"""
    newest = (
        Article.objects.published()
        .filter(category_id=shown.category_id)
        .order_by("-publish_at", "-id")
        .values_list("publish_at", flat=True)[MORE_FROM : MORE_FROM + 1]
    )
    cutoff = next(iter(newest), None)
    return cutoff is None or shown.publish_at >= cutoff


def _on_home(before: Shown | None, after: Shown | None) -> bool:
    """Was or is this story on the home page? Asked of the home page's own choice
    (search.front_page) when the story kept its place; a story that came, went, or
    moved in time or section may have changed what the home page shows."""
    if before is None or after is None or (before.publish_at, before.category_id, before.live) != (
        after.publish_at, after.category_id, after.live
    ):  # fmt: skip
        return True
    latest, rails = search.front_page()
    return after.slug in {a.slug for a in latest} | {a.slug for _, cards in rails for a in cards}


def forget_story(*, before: Shown | None, after: Shown | None) -> None:
    """A story was saved (`before` and `after` it) or deleted (`after` None): retire
    exactly the pages that showed it or will. A story readers cannot see before or
    after (a draft, a scheduled story edited) changes no public page: nothing. A story
    given a time to go live by itself: everything, so that what is kept from now on
    is kept no longer than that time (seconds_to_keep; nothing will save then).
    Otherwise its own pages, search and sitemaps, the lists of its sections, authors and
    topics before and after, and the home page when it is or was there; and, when it is or
    was among its section's newest (the "More from" cards), every article page, as those
    cards are kept inside them."""
    if after is not None and after.scheduled and (before is None or not before.scheduled
                                                    or before.publish_at != after.publish_at):  # fmt: skip
        invalidate()
        return
    seen = [shown for shown in (before, after) if shown is not None and shown.live]
    if not seen:
        return
    retired = {LISTS_KEY, *(_article_key(shown.slug) for shown in seen), *(k for shown in seen for k in shown.lists)}
    if _on_home(before if before and before.live else None, after if after and after.live else None):
        retired.add(list_key("home"))
    for key in sorted(retired):
        versioned_cache.retire(key)
    if any(_in_more_from(shown) for shown in seen):
        invalidate()


def forget_comments(slug: str) -> None:
    """A comment on this article was added, edited, hidden or removed: its cached
    row (which carries the count) and pages are stale; other articles' are not."""
    versioned_cache.retire(_article_key(slug))
