"""A cache key carries the code's release (settings.RELEASE, newsroom/release.py): a page or
row kept by one release is never read by another, so nothing pickled crosses a deploy —
while the meter's credits, which are not cache entries, carry over."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.core import mail
from django.test import Client

from articles.models import Article
from newsroom.release import code_digest
from subscriptions import billing, counters, experiments
from subscriptions.models import PaywallSettings, Subscription

from .conftest import MARKER, PASSWORD, TEST_REDIS_URL, make_article, make_subscription, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def one_redis(settings):
    prefix = f"test-{uuid.uuid4().hex}"
    settings.REDIS_URL = settings.METER_REDIS_URL = TEST_REDIS_URL
    settings.METER_STORE = "redis"
    settings.REDIS_KEY_PREFIX = prefix
    settings.FREE_ARTICLES_PER_DAY = 3
    yield prefix
    if keys := list(counters.client().scan_iter(f"{prefix}:*")):
        counters.client().delete(*keys)


def _release(settings, name: str) -> None:
    settings.CACHES = {"default": {"BACKEND": "newsroom.cache.RedisCache", "LOCATION": TEST_REDIS_URL,
                                   "KEY_PREFIX": settings.REDIS_KEY_PREFIX, "VERSION": name,
                                   "KEY_FUNCTION": "newsroom.versioned_cache.make_key"}}  # fmt: skip


def _title(client: Client, article: Article) -> str:
    response = client.get(article.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize("access", ["free", "metered"])
def test_two_releases_never_read_each_others_pages_or_rows(one_redis, settings, category, access) -> None:
    story = make_article(category=category, access=access, title="Written by release one")
    _release(settings, "one")
    reader = Client()
    assert "Written by release one" in _title(reader, story)
    # Changed without signals (as a deploy's data migration may): release one keeps what it kept…
    Article.objects.filter(pk=story.pk).update(title="Seen by release two")
    assert "Written by release one" in _title(Client(), story)
    assert "Written by release one" in _title(reader, story)
    # …and release two reads none of it: its own row, its own page.
    _release(settings, "two")
    assert "Seen by release two" in _title(Client(), story)
    assert "Seen by release two" in _title(reader, story)


def test_a_deploy_keeps_the_readers_credits(one_redis, settings, category) -> None:
    settings.FREE_ARTICLES_PER_DAY = 2
    stories = [make_article(category=category, access="metered") for _ in range(3)]
    reader = Client()
    _release(settings, "one")
    assert MARKER in _title(reader, stories[0])
    _release(settings, "two")
    assert MARKER in _title(reader, stories[1])
    assert MARKER not in _title(reader, stories[2])  # two of two used, one before the deploy


def test_the_release_is_the_codes_digest_unless_the_environment_names_one(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "models.py").write_text("x = 1\n")
    (tmp_path / "requirements.txt").write_text("django==5.2\n")
    first = code_digest(tmp_path)
    assert code_digest(tmp_path) == first
    (tmp_path / "app" / "models.py").write_text("x = 2\n")
    assert code_digest(tmp_path) != first
    (tmp_path / "app" / "models.py").write_text("x = 1\n")
    (tmp_path / "requirements.txt").write_text("django==5.3\n")
    assert code_digest(tmp_path) != first
    named = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; c = settings.CACHES['default']; "
                               "print(c['VERSION'], c['KEY_FUNCTION'])"],
        env={**os.environ, "RELEASE": "v2026.12.05", "DJANGO_SETTINGS_MODULE": "newsroom.settings", "DEBUG": "1"},
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    # …and the version keys are every release's (newsroom/versioned_cache.make_key)
    assert named == "v2026.12.05 newsroom.versioned_cache.make_key"


@pytest.mark.parametrize("first, second", [("one", "two"), ("two", "one")])
def test_during_a_rolling_deploy_a_change_under_either_release_retires_what_both_keep(
    one_redis, settings, category, first, second
) -> None:
    """Both releases serve readers while a deploy rolls from server to server: what they keep
    is their own, but the versions that say it is current are shared, so an unpublish, a
    story moved behind the paywall or a cancelled subscription saved by one takes effect on
    the other at once — not when its kept page or account expires."""
    unpublished = make_article(category=category, access="metered", title="Rolling: to be unpublished")
    gated = make_article(category=category, access="free", title="Rolling: to go behind the paywall")
    subscriber = make_user()
    subscription = make_subscription(subscriber, Subscription.Status.ACTIVE)
    account = Client()
    account.force_login(subscriber)
    _release(settings, first)  # kept by the first release: a new reader's and the subscriber's pages, the account
    for reader in (Client(), account):
        assert "Rolling: to be unpublished" in _title(reader, unpublished)
        assert MARKER in _title(reader, gated)
    assert MARKER in _title(account, unpublished)

    _release(settings, second)  # saved through the second
    unpublished.status = Article.Status.DRAFT
    unpublished.save()
    gated.access = Article.Access.SUBSCRIBERS
    gated.save()
    subscription.status = Subscription.Status.CANCELED
    subscription.save()

    _release(settings, first)  # the first release, still serving, sees all three at once
    for reader in (Client(), account):
        assert reader.get(unpublished.get_absolute_url()).status_code == 404
        assert MARKER not in _title(reader, gated)


def test_during_a_rolling_deploy_the_paywalls_terms_saved_under_either_release_reach_both(
    one_redis, settings, monkeypatch
) -> None:
    """Each worker keeps the paywall's terms and asks the shared token every LOCAL_SECONDS
    whether they changed: the token is every release's, so terms saved through the new
    release's admin reach the old release's workers too."""
    _release(settings, "one")
    experiments.forget()
    copy = experiments.state()
    token = experiments._local[1]
    _release(settings, "two")
    PaywallSettings.objects.create(headline="Saved through release two")
    _release(settings, "one")
    experiments._local = (time.monotonic(), token, copy)  # release one's worker, still holding its copy
    later = time.monotonic() + experiments.LOCAL_SECONDS + 1
    monkeypatch.setattr(experiments.time, "monotonic", lambda: later)
    assert experiments.state().site.headline == "Saved through release two"
    experiments.forget()


def test_during_a_rolling_deploy_logging_out_through_either_release_logs_out_of_both(
    one_redis, settings, category
) -> None:
    """A session is read through the cache (cached_db): its cached copy is every release's
    (it holds only what the database row holds, JSON's types), so a session ended on a
    server already running the new release — logged out, or cycled at log-in — cannot be
    replayed on one still running the old (a copied cookie, another device)."""
    story = make_article(category=category, access="free")
    reader = Client()
    reader.force_login(make_user())
    _release(settings, "one")
    assert "Log out" in _title(reader, story)  # the session, read and kept by release one
    session = reader.cookies["sessionid"].value
    _release(settings, "two")
    assert "Log out" in _title(reader, story)
    assert reader.post("/accounts/logout/").status_code == 302
    _release(settings, "one")
    replayed = Client()
    replayed.cookies["sessionid"] = session
    assert "Log out" not in _title(replayed, story)


def test_during_a_rolling_deploy_a_rate_limit_counts_under_both_releases(one_redis, settings) -> None:
    """A rate limit's count is every release's: a deploy does not give a client a second budget
    (a scraper of the search index, a Checkout hammered) while both releases serve."""
    settings.RATE_LIMIT_SEARCH = "2/m"
    searcher = Client(REMOTE_ADDR="203.0.113.9")
    _release(settings, "one")
    assert searcher.get("/search/", {"q": "harbour"}).status_code == 200
    _release(settings, "two")
    assert searcher.get("/search/", {"q": "ferry"}).status_code == 200
    _release(settings, "one")
    assert searcher.get("/search/", {"q": "tides"}).status_code == 429


def test_during_a_rolling_deploy_a_double_click_on_checkout_gets_one_session(one_redis, settings, stripe_env) -> None:
    """The attempt at a Checkout (its idempotency key) is every release's: a reader whose two
    clicks reach servers on different releases is sent to one Stripe session, not two."""
    reader = Client()
    reader.force_login(make_user())
    _release(settings, "one")
    first = reader.post("/subscribe/checkout/", {"plan": "weekly"})
    _release(settings, "two")
    second = reader.post("/subscribe/checkout/", {"plan": "weekly"})
    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"]
    assert len(stripe_env.sessions) == 1


def test_during_a_rolling_deploy_failed_log_ins_count_under_both_releases(one_redis, settings, free_reader) -> None:
    """allauth's limit on failed log-ins (five per address in five minutes) is every release's:
    a password guesser whose tries reach servers on both releases still gets five, not ten."""
    for release, tries in (("one", 3), ("two", 2)):
        _release(settings, release)
        for _ in range(tries):
            answer = Client().post("/accounts/login/", {"login": free_reader.email, "password": "guess"})
            assert "Too many failed login attempts" not in answer.content.decode()
    _release(settings, "one")
    answer = Client().post("/accounts/login/", {"login": free_reader.email, "password": PASSWORD})
    assert "Too many failed login attempts" in answer.content.decode()


def test_during_a_rolling_deploy_staff_are_told_of_an_unknown_price_once(one_redis, settings) -> None:
    """The once-a-day alert for a subscription on a price no plan has had is every release's:
    its webhooks reaching servers on both releases during a deploy tell staff once, not twice."""
    settings.ADMINS = [("Ops", "ops@example.com")]
    for release in ("one", "two", "one"):
        _release(settings, release)
        billing._tell_staff_unknown_price("sub_deploy", "price_dashboard")
    assert [m.subject for m in mail.outbox] == ["[Django] Stripe subscription sub_deploy is on an unknown price"]
