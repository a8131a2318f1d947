"""Personas and builders shared by the whole suite.

Personas: anonymous reader, free reader (verified account, no
subscription), trialing subscriber, active subscriber, lapsed subscriber,
complimentary reader, editor (staff, in the Editors group).
"""

from __future__ import annotations

import itertools
import os
import uuid
from datetime import date, timedelta

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.utils import timezone

from articles.models import Article, Author, Category
from subscriptions.models import ComplimentaryAccess, Subscription

pytest_plugins = ["tests.conftest_billing", "tests.dns_fake"]

PASSWORD = "correct-horse-battery-staple-42"
MARKER = "The paid paragraph marker sentence lives here."
_seq = itertools.count(1)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


class _Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def ratelimit_clock(monkeypatch) -> _Clock:
    """newsroom/ratelimit.py counts requests in fixed windows (a minute, an hour), so a test
    that makes a limit's worth of requests and one more would see the last one allowed if a
    minute turned in between (the checkout test, twenty posts to the Stripe fake, did).
    Here its clock stands still at the test's start; a test that means to reach the next
    window moves it (`ratelimit_clock.now += 60`)."""
    import time

    from newsroom import ratelimit

    clock = _Clock(time.time())
    monkeypatch.setattr(ratelimit, "time", clock)
    return clock


@pytest.fixture(autouse=True)
def _no_digest_unless_a_test_asks(settings):
    """The daily digest is due from NEWSLETTER_DAILY_HOUR (06:00 in the newsroom's time
    zone) on, with the stories of the 24 hours before it: a test that sends a breaking
    email would also send a digest of its stories when run in the hour after 06:00. Never
    due here unless a test makes it so (test_newsletter_sending.digest_now)."""
    settings.NEWSLETTER_DAILY_HOUR = 24


# The Redis server the meter tests use (each test under its own key prefix, removed after it).
TEST_REDIS_URL = os.getenv("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(params=["redis", "database"])
def both_meter_stores(request, settings):
    """Runs a meter test against each store the meter counts in: Redis (one Lua
    call, what production uses) and the database (no Redis: a first local run)."""
    from subscriptions import counters

    settings.METER_STORE = request.param
    if request.param == "database":
        yield request.param
        return
    settings.METER_REDIS_URL = TEST_REDIS_URL
    settings.REDIS_KEY_PREFIX = f"test-{uuid.uuid4().hex}"
    yield request.param
    client = counters.client()
    if keys := list(client.scan_iter(f"{settings.REDIS_KEY_PREFIX}:*")):
        client.delete(*keys)


def meter_reads(day: date | None = None) -> dict[str, set[int]]:
    """Each reader's ("a:…", "u:…") articles opened with the meter on `day` (today),
    from whichever store the meter counts in; the per-address counters left out."""
    from subscriptions import counters, meter
    from subscriptions.models import MeterRead

    day = day or meter.today()
    reads: dict[str, set[int]] = {}
    if counters.in_redis():
        client = counters.client()
        prefix = counters.key("meter", day.isoformat(), "")
        for key in client.scan_iter(prefix + "*"):
            reader = key.decode()[len(prefix) :]
            if not reader.startswith("ip:"):
                reads[reader] = {int(a) for a in client.smembers(key)}
        return reads
    for reader, article_id in (
        MeterRead.objects.filter(day=day).exclude(reader__startswith="ip:").values_list("reader", "article_id")
    ):
        reads.setdefault(reader, set()).add(article_id)
    return reads


def make_user(email: str | None = None, *, verified: bool = True, **extra):
    n = next(_seq)
    email = email or f"reader{n}@example.com"
    user = get_user_model().objects.create_user(username=f"user{n}", email=email, password=PASSWORD, **extra)
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=verified)
    return user


def make_subscription(user, status: str = Subscription.Status.ACTIVE, **extra) -> Subscription:
    n = next(_seq)
    defaults = {
        "stripe_subscription_id": f"sub_test_{n}",
        "stripe_customer_id": f"cus_test_{n}",
        "current_period_end": timezone.now() + timedelta(days=7),
    }
    defaults.update(extra)
    return Subscription.objects.create(user=user, status=status, **defaults)


def make_category(name: str | None = None) -> Category:
    n = next(_seq)
    name = name or f"Section {n}"
    return Category.objects.create(name=name, slug=f"section-{n}")


def make_author(name: str | None = None) -> Author:
    n = next(_seq)
    return Author.objects.create(name=name or f"Writer {n}", slug=f"writer-{n}", role="Reporter", bio="Writes things.")


def make_article(
    *,
    category: Category | None = None,
    authors: list[Author] | None = None,
    access: str = Article.Access.METERED,
    status: str = Article.Status.PUBLISHED,
    publish_at=None,
    title: str | None = None,
    body: str | None = None,
) -> Article:
    n = next(_seq)
    body = body or (
        f"Opening paragraph number one of story {n}.\n\n"
        "Second paragraph, still public.\n\n"
        "Third paragraph, the end of the teaser.\n\n"
        f"{MARKER}\n\n"
        "> A pull quote that only readers with access see.\n\n"
        "A closing paragraph."
    )
    article = Article.objects.create(
        title=title or f"Story number {n}",
        slug=f"story-{n}",
        standfirst=f"Summary of story {n}.",
        body=body,
        category=category or make_category(),
        access=access,
        status=status,
        publish_at=publish_at or timezone.now() - timedelta(hours=1),
    )
    article.authors.set(authors or [make_author()])
    return article


@pytest.fixture
def category(db) -> Category:
    return make_category("World")


@pytest.fixture
def author(db) -> Author:
    return make_author("Dana Field")


@pytest.fixture
def article(category, author) -> Article:
    return make_article(category=category, authors=[author])


@pytest.fixture
def free_reader(db):
    return make_user("free@example.com")


@pytest.fixture
def subscriber(db):
    user = make_user("subscriber@example.com")
    make_subscription(user, Subscription.Status.ACTIVE)
    return user


@pytest.fixture
def trialing(db):
    user = make_user("trial@example.com")
    make_subscription(user, Subscription.Status.TRIALING, trial_end=timezone.now() + timedelta(days=10))
    return user


@pytest.fixture
def lapsed(db):
    user = make_user("lapsed@example.com")
    make_subscription(user, Subscription.Status.CANCELED, current_period_end=timezone.now() - timedelta(days=1))
    return user


@pytest.fixture
def complimentary(db):
    user = make_user("comp@example.com")
    ComplimentaryAccess.objects.create(user=user, until=timezone.now() + timedelta(days=30), note="test")
    return user


@pytest.fixture
def editor(db):
    user = make_user("editor@example.com", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    return user


@pytest.fixture
def writer(db):
    """Staff in the Writers group: drafts and edits their own stories, cannot publish."""
    user = make_user("writer@example.com", is_staff=True)
    user.groups.add(Group.objects.get(name="Writers"))
    return user


def pytest_configure(config) -> None:
    from django.conf import settings

    # Each test process gets its own cache (rate limits, nav), unless a test
    # run points at Redis on purpose.
    if not settings.REDIS_URL:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def smtp(settings):
    """Django's mail through a real SMTP server on loopback (tests/smtp_server.py): its recorder, with its port."""
    from .smtp_server import smtp_server, use_smtp

    with smtp_server() as (recorder, port):
        use_smtp(settings, port)
        yield recorder
