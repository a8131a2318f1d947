"""Cached values that writers can make stale reliably, in the shared cache.

Each value is stored with the version of its version key that was current
when the value was read from the database, and counts only while that version
is current. A writer retires the version (a new, never-used one) when it saves
— and again when its transaction commits, because until then other readers
still see the old rows and may store what they read under the new version.
A version key the cache has lost is replaced by a new one, never read as a
default that old entries could carry.

Used for the page cache (articles/page_cache.py: one site-wide version), readers'
entitlements (subscriptions/access.py: a version per user), and what every render
reads of sections and plans (the menu, the advertised plan: kept()).

The values are each release's own (the cache keeps every entry under settings.RELEASE:
nothing pickled crosses a deploy), but the version keys are shared by every release
(version_key(); make_key() says what else is): while a deploy rolls from server to server both releases
serve readers, and a change saved through either — an unpublish, a story moved behind
the paywall, a cancelled subscription — retires what both keep, at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.contrib.sessions.backends.cached_db import KEY_PREFIX as SESSION_COPY
from django.core.cache import cache
from django.db import transaction

Version = tuple[int, ...]

# How the name of a key no release owns starts (every_release()): it holds only a number or a
# few strings, which every release reads alike.
EVERY_RELEASE = "every-release:"


def every_release(name: str) -> str:
    """The name of a key that is the same under every release (make_key): a version key (a
    token: time_ns() here, a uuid for subscriptions/experiments.py), a rate limit's count
    (newsroom/ratelimit.py), a Stripe attempt's idempotency key and the unknown-price alert's
    once a day (subscriptions/billing.py).
    During a deploy both releases then count, retire and reuse one of each, not one apiece."""
    return EVERY_RELEASE + name


def version_key(name: str) -> str:
    """The name of a version key: one for every release."""
    return every_release(name)


# What else is every release's: a session's cached copy (SESSION_ENGINE cached_db), which holds
# what its database row holds (JSON's types), so a session ended through one release (logged
# out, cycled at log-in) is not still accepted by the other's copy; and allauth's rate limits
# (a list of times each, and its lock), so a deploy gives no second budget of failed log-ins.
ALLAUTH_RATE_LIMITS = "allauth:rl:"  # allauth.core.internal.ratelimit.get_cache_key
_SHARED = (EVERY_RELEASE, SESSION_COPY, ALLAUTH_RATE_LIMITS)


def make_key(key: str, key_prefix: str, version: Any) -> str:
    """The cache's KEY_FUNCTION (settings.CACHES): Django's own key — prefix, release, name —
    except every_release() keys, sessions' copies and allauth's rate limits, which are the
    same under every release."""
    if key.startswith(_SHARED):
        return f"{key_prefix}:{key}"
    return f"{key_prefix}:{version}:{key}"


def _named(version_key: str) -> str:
    if not version_key.startswith(EVERY_RELEASE):  # one release's own: the other would never see it retired
        raise ValueError(f"{version_key!r} is not a version key's name (version_key())")
    return version_key


def read(keys: list[str], *version_keys: str) -> tuple[dict[str, Any], Version]:
    """The values of `keys` that are current, and the current version (one number
    per version key: a value counts only while all of them are as it was stored
    under) — one round trip, and a second to replace a lost version key."""
    found = cache.get_many([*keys, *map(_named, version_keys)])
    parts = []
    for version_key in version_keys:
        part = found.get(version_key)
        if part is None:
            new = time.time_ns()
            # Another reader may have replaced it first; if it is lost again at once, `new`
            # names a version nothing is stored under, and what is stored under it is never read.
            part = new if cache.add(version_key, new, None) else (cache.get(version_key) or new)
        parts.append(part)
    version = tuple(parts)
    values = {}
    for key in keys:
        entry = found.get(key)
        if _stored_under(entry, version):
            values[key] = entry[1]
    return values, version


def kept(key: str, version_key: str, seconds: int, load: Callable[[], Any]) -> Any:
    """The value of `key` while it is current under `version_key`; else `load()` it (from
    the database) and keep it for `seconds`: one round trip when kept."""
    found, version = read([key], version_key)
    if key in found:
        return found[key]
    value = load()
    store(key, version, value, seconds)
    return value


def _stored_under(entry: Any, version: Version) -> bool:
    """Whether a cache entry is a value stored under `version`. A missing entry
    (None: expired, evicted, flushed) or anything else not written by store() is a miss."""
    return isinstance(entry, tuple) and len(entry) == 2 and entry[0] == version


def get(key: str, version: Version) -> Any:
    """The value of `key` if it was stored under `version` (already read with read()), else None."""
    entry = cache.get(key)
    return entry[1] if _stored_under(entry, version) else None


def store(key: str, version: Version, value: Any, seconds: int) -> None:
    """Keep `value`, read from the database under `version`, for `seconds` (none if < 1)."""
    if seconds >= 1:
        cache.set(key, (version, value), seconds)


def _new_version(version_key: str) -> None:
    cache.set(version_key, time.time_ns(), None)


def retire(version_key: str) -> None:
    """Everything stored under the current version is stale: now, and again on commit."""
    _new_version(_named(version_key))
    transaction.on_commit(lambda: _new_version(version_key))
