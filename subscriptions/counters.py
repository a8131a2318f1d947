"""Where the counts that page views raise live: the meter's credits and the
paywall-view counter, many a second on the article page.

With Redis (METER_STORE "redis", the default whenever REDIS_URL is set) they
are Redis keys: Redis runs each command, and each Lua script, alone, so a
script that checks and raises a count is exact under any concurrency, in one
round trip and no disk wait. Redis persists them with its append-only file;
with `appendfsync everysec` (docs/production.md) a crash forgets at most about
the last second of them — a reader gets an article back, the dashboard misses
a few paywall views; the durability rule allows exactly that for the meter,
and nothing else (money, accounts, comments, webhooks) is kept here. Keys
expire by themselves.

While that Redis is unreachable the meter opens nothing it cannot count: readers
without a subscription get the teaser (subscribers read as usual, their access is
not in it), and paywall views go uncounted; nothing fails (meter.consume).

Without Redis (METER_STORE "database": a first local run on SQLite, tests that
do not point at Redis) they are database rows (MeterRead, MeterDay, DailyStat).
"""

from __future__ import annotations

import functools

import redis
from django.conf import settings

# What a Redis that is down, restarting (still loading its file) or too slow raises:
# callers go on without it (the meter refuses, a count is skipped); anything else is a bug.
UNREACHABLE = (redis.ConnectionError, redis.TimeoutError)


def in_redis() -> bool:
    return settings.METER_STORE == "redis"


@functools.cache
def _client(url: str, timeout: float) -> redis.Redis:
    # Thread-safe: each command borrows a pooled connection.
    return redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)


def client(url: str = "") -> redis.Redis:
    """A client of the meter's Redis (METER_REDIS_URL), or of the one at `url`."""
    return _client(url or settings.METER_REDIS_URL, settings.REDIS_TIMEOUT)


# Redis Cluster runs a Lua script only when every key it touches is declared in KEYS and
# all of them hash to one slot. The meter's script and the anonymous page's (articles/
# page_cache.py) touch these counts together with the page's own keys, so all of them
# carry this hash tag: Redis hashes only what is inside the braces, so they share a slot.
# The price: that slot, so one node of a cluster, holds the whole meter (the address's
# backstop is shared by every reader at an address, so no narrower tag keeps one call's keys
# together); everything else the site keeps spreads over the cluster.
SLOT_TAG = "{reads}"


def key(*parts: object) -> str:
    """A key of ours, under the site's prefix (REDIS_KEY_PREFIX, shared with the cache), in the meter's slot."""
    return ":".join([settings.REDIS_KEY_PREFIX, SLOT_TAG, "counts", *map(str, parts)])
