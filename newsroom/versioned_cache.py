"""Cached values that writers can make stale reliably, in the shared cache.

Each value is stored with the version of its version key that was current
when the value was read from the database, and counts only while that version
is current. A writer retires the version (a new, never-used one) when it saves
— and again when its transaction commits, because until then other readers
still see the old rows and may store what they read under the new version.
A version key the cache has lost is replaced by a new one, never read as a
default that old entries could carry.

Used for the page cache (articles/page_cache.py: one site-wide version) and
readers' entitlements (subscriptions/access.py: a version per user).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import cache
from django.db import transaction

Version = tuple[int, ...]


def read(keys: list[str], *version_keys: str) -> tuple[dict[str, Any], Version]:
    """The values of `keys` that are current, and the current version (one number
    per version key: a value counts only while all of them are as it was stored
    under) — one round trip."""
    return current(cache.get_many([*keys, *version_keys]), keys, version_keys)


def current(found: dict[str, Any], keys: list[str], version_keys: tuple[str, ...]) -> tuple[dict[str, Any], Version]:
    """read() of `keys` and `version_keys` from `found`: what the cache held for them, read some other way."""
    parts = []
    for version_key in version_keys:
        part = found.get(version_key)
        if part is None:
            cache.add(version_key, time.time_ns(), None)
            part = cache.get(version_key)
        parts.append(part)
    version = tuple(parts)
    values = {}
    for key in keys:
        if key in found:
            stored_in, value = found[key]
            if stored_in == version:
                values[key] = value
    return values, version


def get(key: str, version: Version) -> Any:
    """The value of `key` if it was stored under `version` (already read with read()), else None."""
    stored_in, value = cache.get(key, (None, None))
    return value if stored_in == version else None


def store(key: str, version: Version, value: Any, seconds: int) -> None:
    """Keep `value`, read from the database under `version`, for `seconds` (none if < 1)."""
    if seconds >= 1:
        cache.set(key, (version, value), seconds)


def _new_version(version_key: str) -> None:
    cache.set(version_key, time.time_ns(), None)


def retire(version_key: str) -> None:
    """Everything stored under the current version is stale: now, and again on commit."""
    _new_version(version_key)
    transaction.on_commit(lambda: _new_version(version_key))
