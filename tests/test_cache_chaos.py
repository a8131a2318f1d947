"""The cache is never the reason a page fails: every persona walks the article,
list, feed and account pages while every cache entry the site uses goes
missing — deleted, expired or flushed at random between requests and during
them (before any command a request sends to Redis) — and gets no 5xx and
exactly the access their account and meter allow, every time.

"Every cache entry" is everything under the cache's keys: pages, article rows,
accounts, their versions, the anonymous page's facts, sessions' cached copies,
rate limits. The meter's credits are not a cache (they are the ledger the
daily limit is counted in, subscriptions/counters.py), so with the meter in
the same Redis they are left alone; with the meter in a Redis of its own, the
cache's database is flushed whole.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import redis
from django.test import Client
from django.utils import timezone

from articles.models import Article, Tag
from subscriptions import private_feeds
from subscriptions.models import Subscription

from .conftest import MARKER, TEST_REDIS_URL, make_article, make_subscription, make_user

pytestmark = pytest.mark.django_db

# The cache's own database when the meter has a Redis of its own: flushed whole by the chaos.
FREE_MARKER = "The free story's closing sentence, in feeds too."
CACHE_ONLY_REDIS_URL = TEST_REDIS_URL.rsplit("/", 1)[0] + "/13"


class Chaos:
    """Makes cache entries go missing: before a share of the commands any client
    sends to Redis (patched in below), and whenever strike() is called."""

    def __init__(self, url: str, pattern: str, flush_whole_db: bool, rng: random.Random, share: float) -> None:
        self.raw = redis.Redis.from_url(url)
        self.pattern, self.flush_whole_db, self.rng, self.share = pattern, flush_whole_db, rng, share
        self.busy = threading.local()
        self.struck: dict[str, int] = {"delete": 0, "expire": 0, "flush": 0}

    def maybe(self) -> None:
        if not getattr(self.busy, "on", False) and self.rng.random() < self.share:
            self.strike()

    def strike(self) -> None:
        self.busy.on = True
        try:
            keys = list(self.raw.scan_iter(self.pattern, count=1000))
            action = self.rng.choices(["delete", "expire", "flush"], weights=[6, 3, 1])[0]
            if action == "flush":
                if self.flush_whole_db:
                    self.raw.flushdb()
                elif keys:
                    self.raw.delete(*keys)
            elif keys:
                victims = self.rng.sample(keys, k=max(1, len(keys) // 3))
                if action == "delete":
                    self.raw.delete(*victims)
                else:  # expired: gone by the time it is next read
                    for key in victims:
                        self.raw.pexpire(key, 1)
            self.struck[action] += 1
        finally:
            self.busy.on = False


@pytest.fixture(params=["meter beside the cache", "meter apart, cache flushed whole"])
def chaos(request, settings, monkeypatch):
    """Production's Redis set-up, with a Chaos striking at it."""
    prefix = f"test-{uuid.uuid4().hex}"
    apart = request.param.startswith("meter apart")
    cache_url = CACHE_ONLY_REDIS_URL if apart else TEST_REDIS_URL
    settings.REDIS_URL, settings.METER_REDIS_URL, settings.METER_STORE = cache_url, TEST_REDIS_URL, "redis"
    settings.REDIS_KEY_PREFIX = prefix
    backend = "newsroom.cache.RedisCache"  # as in production
    settings.CACHES = {"default": {"BACKEND": backend, "LOCATION": cache_url, "KEY_PREFIX": prefix}}
    seed = random.randrange(1 << 30)
    print(f"chaos seed {seed}")  # shown with a failure, to walk the same way again
    pattern = "*" if apart else f"{prefix}:1:*"  # Django's cache keys: PREFIX:VERSION:KEY
    chaos = Chaos(cache_url, pattern, apart, random.Random(seed), share=0.08)
    send = redis.Redis.execute_command

    def execute_command(self, *args, **options):
        chaos.maybe()
        return send(self, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", execute_command)
    yield chaos
    raw = redis.Redis.from_url(TEST_REDIS_URL)
    if keys := list(raw.scan_iter(f"{prefix}:*")):
        raw.delete(*keys)
    if apart:
        chaos.raw.flushdb()


@dataclass
class Persona:
    """A reader, and what each of the walked articles must show them."""

    name: str
    client: Client
    full: dict[str, bool]  # article key -> full text expected
    entitled: bool = False
    logged_in: bool = False
    payment_failed: bool = False
    private_feed: str | None = None
    private_feed_full: bool = False
    extra: list[tuple[str, int]] = field(default_factory=list)  # (path, status) also walked


@pytest.fixture
def newsroom(category, author) -> dict[str, Article]:
    stories = {f"metered{n}": make_article(category=category, authors=[author]) for n in range(1, 7)}
    free_body = "A free story opens here.\n\nIt goes on.\n\nAnd on.\n\n" + FREE_MARKER
    stories["free"] = make_article(category=category, authors=[author], access=Article.Access.FREE, body=free_body)
    stories["subscribers"] = make_article(category=category, authors=[author], access=Article.Access.SUBSCRIBERS)
    stories["draft"] = make_article(category=category, authors=[author], status=Article.Status.DRAFT)
    topic = Tag.objects.create(name="Chaos", slug="chaos")
    for story in stories.values():
        story.tags.add(topic)
    return stories


def _logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _reads(client: Client, stories: dict[str, Article], *keys: str) -> Client:
    for key in keys:
        assert client.get(stories[key].get_absolute_url()).status_code == 200
    return client


def _personas(stories: dict[str, Article], settings, editor) -> list[Persona]:
    """Each persona, with the reads that put their meter where the walk needs it
    (done before the chaos, so the only thing at random is the cache)."""
    assert (settings.FREE_ARTICLES_PER_DAY, settings.FREE_ARTICLES_PER_DAY_REGISTERED) == (3, 5)
    everything = {key: True for key in stories if key != "draft"}

    def feed_of(user) -> str:
        return f"/feed/private/{private_feeds.feed_token_get_or_create(user=user).token}/"

    subscriber = make_user()
    make_subscription(subscriber, Subscription.Status.ACTIVE)
    trialing = make_user()
    make_subscription(trialing, Subscription.Status.TRIALING, trial_end=timezone.now() + timedelta(days=9))
    failed = make_user()
    make_subscription(failed, Subscription.Status.PAST_DUE, past_due_since=timezone.now() - timedelta(days=1))
    free, walled = make_user(), make_user()
    return [
        Persona("anonymous", _reads(Client(), stories, "metered1"),
                {"metered1": True, "free": True, "subscribers": False}, extra=[("/account/", 302)]),
        Persona("over the limit", _reads(Client(), stories, "metered1", "metered2", "metered3"),
                {"metered1": True, "metered4": False, "free": True, "subscribers": False}),
        Persona("free account", _reads(_logged_in(free), stories, "metered1"),
                {"metered1": True, "free": True, "subscribers": False}, logged_in=True,
                private_feed=feed_of(free)),
        Persona("registration wall", _reads(_logged_in(walled), stories, *(f"metered{n}" for n in range(1, 6))),
                {"metered4": True, "metered5": True, "metered6": False, "subscribers": False}, logged_in=True),
        Persona("subscriber", _logged_in(subscriber), everything, entitled=True, logged_in=True,
                private_feed=feed_of(subscriber), private_feed_full=True),
        Persona("trial", _logged_in(trialing), everything, entitled=True, logged_in=True),
        Persona("payment failed", _logged_in(failed), everything, entitled=True, logged_in=True, payment_failed=True),
        Persona("staff", _logged_in(editor), {**everything, "draft": True}, entitled=True, logged_in=True),
    ]  # fmt: skip


def _walk(persona: Persona, stories: dict[str, Article], category, author, strike: Callable[[], None]) -> None:
    def get(path: str):
        strike()
        response = persona.client.get(path)
        assert response.status_code < 500, f"{persona.name}: {path} answered {response.status_code}"
        return response

    for key, full in persona.full.items():
        response = get(stories[key].get_absolute_url())
        assert response.status_code == 200, f"{persona.name}: {key} answered {response.status_code}"
        page = response.content.decode()
        marker = FREE_MARKER if key == "free" else MARKER
        assert (marker in page) == full, f"{persona.name}: {key} should be {'full' if full else 'the teaser'}"
        assert ('class="paywall"' in page) == (not full), f"{persona.name}: {key}'s paywall box"
        if full:  # a story read in full carries ads for readers without a subscription
            assert ("ad-slot" in page) == (not persona.entitled), f"{persona.name}: {key}'s ads"
        else:  # and none under a paywall box (issue 29): the box is the page's offer
            assert "ad-slot" not in page[page.index('class="paywall"'):], f"{persona.name}: {key}'s ads"
        assert ("Log out" in page) == persona.logged_in, f"{persona.name}: logged in on {key}"
        assert ("Your last payment failed" in page) == persona.payment_failed, f"{persona.name}: {key}'s banner"
    lists = ["/", category.get_absolute_url(), author.get_absolute_url(), "/topic/chaos/", "/search/?q=paragraph"]
    for path in lists:
        response = get(path)
        assert response.status_code == 200, f"{persona.name}: {path} answered {response.status_code}"
        page = response.content.decode()
        assert stories["metered1"].title in page, f"{persona.name}: {path} lists the stories"
        assert ("Log out" in page) == persona.logged_in, f"{persona.name}: logged in on {path}"
        if path == "/":  # the home page carries ad slots, the other lists none
            assert ("ad-slot" in page) == (not persona.entitled), f"{persona.name}: the home page's ads"
    for path in ("/feed/", category.get_absolute_url() + "feed/", "/topic/chaos/feed/"):
        response = get(path)
        assert response.status_code == 200 and MARKER not in response.content.decode(), f"{persona.name}: {path}"
    if persona.private_feed:
        response = get(persona.private_feed)
        assert response.status_code == 200
        assert (MARKER in response.content.decode()) == persona.private_feed_full, f"{persona.name}'s private feed"
    if persona.logged_in:
        response = get("/account/")
        assert response.status_code == 200 and "Log out" in response.content.decode(), f"{persona.name}: account"
    for path, status in persona.extra:
        assert get(path).status_code == status, f"{persona.name}: {path}"


def test_every_persona_reads_exactly_what_they_may_while_cache_entries_vanish(
    chaos, newsroom, category, author, editor, settings
) -> None:
    personas = _personas(newsroom, settings, editor)
    for _ in range(3):
        for persona in personas:
            _walk(persona, newsroom, category, author, chaos.maybe)
        chaos.strike()  # and between whole walks, at least once
    assert all(chaos.struck.values()), f"every kind of loss happened at least once: {chaos.struck}"
