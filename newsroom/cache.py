"""Django's Redis cache, where an unreachable Redis is a miss, never a failed page.

Everything the site keeps in the cache — pages, rows, accounts, version keys,
sessions' cached copies, rate-limit counts — can be read again from the
database or started over, so while Redis is down (a restart, a failover, a
network blip) a read finds nothing, a write keeps nothing, and the page is
rendered the long way; the error is logged. This is the cache's only special
behaviour: the backend's methods are Django's own, each wrapped once here.

A version key that cannot be replaced while Redis is down keeps its old value:
what was kept under it may be served for at most its own lifetime (pages
PAGE_CACHE_SECONDS, accounts access.ENTITLEMENT_SECONDS) once Redis is back
with its data — and nothing is served from the cache while it is unreachable.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import redis
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient

log = logging.getLogger(__name__)


def _missing_counter(key: Any, delta: int = 1) -> int:
    raise ValueError("Key not found: the cache is unreachable")  # what incr() raises for a missing key


# What each client method answers while Redis is unreachable: what it answers for a missing key.
_WHEN_UNREACHABLE: dict[str, Callable[..., Any]] = {
    "get": lambda key, default=None: default,
    "get_many": lambda keys: {},
    "has_key": lambda key: False,
    "add": lambda key, value, timeout: False,
    "set": lambda key, value, timeout: None,
    "set_many": lambda data, timeout: None,
    "touch": lambda key, timeout: False,
    "delete": lambda key: False,
    "delete_many": lambda keys: None,
    "incr": _missing_counter,
    "clear": lambda: False,
}


def _forgiving(name: str) -> Callable[..., Any]:
    method = getattr(RedisCacheClient, name)
    answer = _WHEN_UNREACHABLE[name]

    @functools.wraps(method)
    def forgiving(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except redis.RedisError as error:
            log.warning("cache %s: Redis unreachable (%s), taken as a miss", name, error.__class__.__name__)
            return answer(*args, **kwargs)

    return forgiving


class ForgivingClient(RedisCacheClient):
    """Django's client, each method answering as for a missing key while Redis is unreachable."""

    def get_client(self, key: Any = None, *, write: bool = False) -> redis.Redis:
        # One redis.Redis per connection pool, not one per call: redis-py 8 builds a client
        # (retry policy, event dispatcher) in tens of microseconds, and a subscriber's page
        # makes three calls. The client is thread-safe; connections still come from the pool.
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client

    @functools.cached_property
    def _clients(self) -> dict[int, redis.Redis]:
        return {}


for _name in _WHEN_UNREACHABLE:
    setattr(ForgivingClient, _name, _forgiving(_name))


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict) -> None:
        super().__init__(server, params)
        self._class = ForgivingClient
