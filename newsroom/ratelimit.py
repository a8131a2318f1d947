"""A per-client request budget in the shared cache, for views allauth's limits do not cover.

Limits are written as allauth's are: "30/m,500/h" — at most 30 requests in a
minute and 500 in an hour. Each period is a fixed window counted with the
cache's atomic `incr` (one Redis round trip per period after the first hit),
so the count holds across workers, app servers and, during a deploy, both
releases (versioned_cache.every_release). At a window's edge a
client may get up to twice a limit in a short burst; for slowing a scraper
down that is close enough, and it costs no lock.
"""

from __future__ import annotations

import hashlib
import time

from django.core.cache import cache

from newsroom import versioned_cache

_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse(limits: str) -> list[tuple[int, int]]:
    """"30/m,500/h" -> [(30, 60), (500, 3600)]. An empty string means no limit."""
    rates = []
    for part in filter(None, (p.strip() for p in limits.split(","))):
        amount, _, period = part.partition("/")
        rates.append((int(amount), _SECONDS[period]))
    return rates


def hit(scope: str, client: str, limits: str) -> bool:
    """Count one request by `client` in `scope`; False when it is over any of `limits`."""
    now = int(time.time())
    who = hashlib.blake2b(client.encode(), digest_size=12).hexdigest()
    allowed = True
    for amount, seconds in parse(limits):
        key = versioned_cache.every_release(f"ratelimit:{scope}:{seconds}:{now // seconds}:{who}")
        cache.add(key, 0, seconds + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # evicted between add and incr
            cache.set(key, 1, seconds + 1)
            count = 1
        allowed = allowed and count <= amount
    return allowed
