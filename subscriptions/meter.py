"""The daily free-article allowance.

A reader is "u:<user id>" when logged in, else "a:<random id>" from a
long-lived cookie the server sets: 128 random bits, unguessable, so no one can
spend another browser's credits, and unsigned — a made-up id is only a new
reader, as a cleared cookie is. A coarse per-address backstop for anonymous
readers ("ip:<addr>", an IPv6 client's /64) stops a cookie purge (or made-up
ids) from being an unlimited reset.

Counting is exact under concurrency because one store does each step alone
(subscriptions/counters.py says which store and why):
  1. If the reader already read this article today, it is full text, no cost.
  2. Otherwise a credit is taken if fewer than the day's limit are used, and
     the read is recorded; refused, nothing changes.
  3. The same for the per-address counter; refused there, nothing changes either.

In Redis (production) the three steps are one Lua script (_CONSUME): one round
trip, run alone by Redis, persisted asynchronously — a crash may forget the last
second of credits, never grant past the limit. In the database (no Redis) they
are one transaction: INSERT ... ON CONFLICT DO NOTHING for the read (two
requests for one article serialize on the unique index), `count = count + 1
WHERE count < limit` for the credits (PostgreSQL re-checks the WHERE against
the committed row), rolled back when refused.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from newsroom.client_ip import client_ip

from . import counters, experiments, stats
from .models import MeterDay, MeterRead

log = logging.getLogger(__name__)

# The dashboard's count of paywalls shown: the meter counts those it refused itself.
PAYWALL_VIEW = "paywall_view"


@dataclass(frozen=True)
class MeterResult:
    granted: bool
    already_read: bool = False
    remaining: int = 0
    by_ip_backstop: bool = False  # refused by the address's backstop, not the reader's own allowance


def today() -> date:
    """The site's local day (settings.TIME_ZONE), computed on the server."""
    return timezone.localdate()


_ID_BYTES = 16


def anonymous_id(request: HttpRequest) -> str | None:
    """This browser's id from its cookie, or None (no cookie, or a malformed one)."""
    value = request.COOKIES.get(settings.METER_COOKIE_NAME, "")
    return value if len(value) == 2 * _ID_BYTES and value.isalnum() and value.isascii() else None


def reader_key(request: HttpRequest) -> str:
    """Who is reading. For a new or malformed cookie, a fresh id is minted and
    remembered on the request; MeterCookieMiddleware sets it on the response."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"u:{user.pk}"
    anon = getattr(request, "_meter_anon_id", None) or anonymous_id(request) or _new_id(request)
    request._meter_anon_id = anon  # type: ignore[attr-defined]
    return f"a:{anon}"


def _new_id(request: HttpRequest) -> str:
    """A fresh reader id, set as this browser's cookie on the response (set_cookie_if_needed)."""
    request._meter_new_cookie = request._meter_anon_id = secrets.token_hex(_ID_BYTES)  # type: ignore[attr-defined]
    return request._meter_new_cookie  # type: ignore[attr-defined]


def drop_unused_id(request: HttpRequest) -> None:
    """reader_key() minted an id that no credit was recorded under (the article
    turned out free): no cookie for it, so a free page stays shareable."""
    if getattr(request, "_meter_new_cookie", None):
        del request._meter_new_cookie, request._meter_anon_id  # type: ignore[attr-defined]


def set_cookie_if_needed(request: HttpRequest, response: HttpResponse) -> None:
    new_id = getattr(request, "_meter_new_cookie", None)
    if new_id:
        response.set_cookie(
            settings.METER_COOKIE_NAME,
            new_id,
            max_age=settings.METER_COOKIE_MAX_AGE,
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )


_INSERT_READ = (
    "INSERT INTO subscriptions_meterread (reader, day, article_id) VALUES (%s, %s, %s) "
    "ON CONFLICT (reader, day, article_id) DO NOTHING RETURNING id"
)
_TAKE_CREDIT = (
    "INSERT INTO subscriptions_meterday (reader, day, count) VALUES (%s, %s, 1) "
    "ON CONFLICT (reader, day) DO UPDATE SET count = subscriptions_meterday.count + 1 "
    "WHERE subscriptions_meterday.count < %s RETURNING count"
)


def _take_credit(cursor, reader: str, day: date, limit: int) -> int | None:
    """Use one credit if fewer than `limit` are used; returns the new count or None."""
    if limit <= 0:
        return None
    cursor.execute(_TAKE_CREDIT, [reader, day, limit])
    row = cursor.fetchone()
    return row[0] if row else None


def backstop_key(request: HttpRequest) -> str:
    """The per-address counter: the client's IPv4 address, or its IPv6 /64 (one
    subscriber's network: a client can pick any address inside it at will)."""
    ip = client_ip(request)
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return f"ip:{ip}"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return f"ip:{address.ipv4_mapped}"
        return f"ip:{ipaddress.IPv6Network((address, 64), strict=False).network_address}/64"
    return f"ip:{address}"


def daily_limit(request: HttpRequest) -> int:
    """Free articles a day on the reader's terms (experiments.terms: the site's, or their
    experiment arm's): more for a logged-in reader (the registration wall) than for an anonymous one."""
    user = getattr(request, "user", None)
    return experiments.terms(request).daily_limit(logged_in=user is not None and user.is_authenticated)


def consume(request: HttpRequest, article_id: int) -> MeterResult:
    """Let this reader open this metered article in full, if their allowance allows."""
    if counters.in_redis():
        keys, args = redis_call(request)
        try:
            return result(*counters.client().register_script(_CONSUME)(keys=keys, args=[article_id, *args]))
        except counters.UNREACHABLE:
            # Nothing is opened that cannot be counted (subscriptions/counters.py): the teaser.
            log.warning("meter: Redis unreachable, article %s shown as a teaser", article_id)
            return MeterResult(granted=False)
    limit, reader, ip_key, ip_limit = _who(request)
    answer = _consume_in_database(reader, ip_key, today(), article_id, limit, ip_limit)
    experiments.count_in_database(request, reader, refused=not answer.granted)
    return answer


def _who(request: HttpRequest) -> tuple[int, str, str, int]:
    reader = reader_key(request)  # first: a new reader's id decides their experiment arm, and so the limit
    limit = daily_limit(request)
    # The backstop stops cookie clearing; an account's own count cannot be cleared,
    # so logged-in readers are not held to their address's (see docs/paywall.md).
    ip_limit = settings.FREE_ARTICLES_PER_IP_PER_DAY if reader.startswith("a:") else 0
    return limit, reader, backstop_key(request), ip_limit


# A Lua function other scripts include (articles/page_cache.py serves an anonymous
# reader's page in the same call): the three steps above, run alone by Redis.
# Every key it touches is declared, as KEYS[1] to KEYS[5] of whichever script includes
# it (redis_call() makes them; on Redis Cluster a script may touch only its
# declared keys, all in one slot: counters.SLOT_TAG): the reader's set of article ids read
# today; the address's credits used today (ip_limit 0: none); today's paywall views — a
# refusal shows the paywall, so it counts one for the dashboard, no round trip of its own;
# the reader's experiment arm's readers (a HyperLogLog of `member`, the browser's id) and
# its paywall views, counted only inside an experiment (`member` not empty).
# keep, views_keep: seconds to keep the day's keys and the views.
# Returns {granted, already read, credits left, refused by the address's backstop}.
CONSUME_FUNCTION = """
local function refuse(views_keep, member, by_ip)
  redis.call('INCR', KEYS[3])
  redis.call('EXPIRE', KEYS[3], views_keep)
  if member ~= '' then redis.call('INCR', KEYS[5]) end
  return {0, 0, 0, by_ip}
end
local function consume(article_id, limit, ip_limit, keep, views_keep, member)
  limit, ip_limit = tonumber(limit), tonumber(ip_limit)
  if member ~= '' then redis.call('PFADD', KEYS[4], member) end
  local used = redis.call('SCARD', KEYS[1])
  if redis.call('SISMEMBER', KEYS[1], article_id) == 1 then
    return {1, 1, math.max(0, limit - used), 0}
  end
  if used >= limit then
    return refuse(views_keep, member, 0)
  end
  if ip_limit > 0 then
    if tonumber(redis.call('GET', KEYS[2]) or '0') >= ip_limit then
      return refuse(views_keep, member, 1)
    end
    redis.call('INCR', KEYS[2])
    redis.call('EXPIRE', KEYS[2], keep)
  end
  redis.call('SADD', KEYS[1], article_id)
  redis.call('EXPIRE', KEYS[1], keep)
  return {1, 0, limit - used - 1, 0}
end
"""
# ARGV: article id, then redis_call()'s: limit, address limit, seconds to keep, seconds to
# keep the views, the reader's id in their experiment arm ("" outside one).
_CONSUME = CONSUME_FUNCTION + "return consume(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])"
# A day's keys outlive the day (the last read at 23:59 is still there at midnight) and then go.
_KEEP_SECONDS = 25 * 60 * 60


def _key(day: date, reader: str) -> str:
    return counters.key("meter", day.isoformat(), reader)


def redis_call(request: HttpRequest) -> tuple[list[str], list[object]]:
    """KEYS and ARGV (after the article id) for CONSUME_FUNCTION, for this reader today."""
    limit, reader, ip_key, ip_limit = _who(request)
    day = today()
    stem, member = experiments.counted_as(request, experiments.terms(request))
    stem = stem or counters.key("experiment", "none")  # declared, never touched: no arm to count
    keys = [_key(day, reader), _key(day, ip_key), stats.page_views_key(PAYWALL_VIEW, day),
            f"{stem}:readers", f"{stem}:paywall"]  # fmt: skip
    return keys, [limit, ip_limit, _KEEP_SECONDS, stats.PAGE_VIEW_SECONDS, member]


def result(granted: int, already_read: int, remaining: int, by_ip: int) -> MeterResult:
    """What CONSUME_FUNCTION returned."""
    if not granted:
        return MeterResult(granted=False, by_ip_backstop=bool(by_ip))
    return MeterResult(granted=True, already_read=bool(already_read), remaining=remaining)


def _consume_in_database(
    reader: str, ip_key: str, day: date, article_id: int, limit: int, ip_limit: int
) -> MeterResult:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_INSERT_READ, [reader, day, article_id])
        if cursor.fetchone() is None:
            used = MeterDay.objects.filter(reader=reader, day=day).values_list("count", flat=True).first() or 0
            return MeterResult(granted=True, already_read=True, remaining=max(0, limit - used))
        used = _take_credit(cursor, reader, day, limit)
        by_ip = used is not None and ip_limit > 0 and _take_credit(cursor, ip_key, day, ip_limit) is None
        if used is None or by_ip:
            transaction.set_rollback(True)
    if used is None or by_ip:  # the paywall: a view for the dashboard, as the Lua script counts it
        stats.count_page_view(PAYWALL_VIEW)
        return MeterResult(granted=False, by_ip_backstop=by_ip)
    return MeterResult(granted=True, remaining=max(0, limit - used))


def share_todays_reads(request: HttpRequest, user, *, leaving: bool) -> None:
    """Today's reads belong to the browser and the account alike: on log-in and
    on log-out (`leaving`) each gets the union of both, so neither gives a fresh
    allowance (read, log in, read to the paywall, log out: the browser is still at it).

    A browser that never read anonymously gets its cookie at log-out, so the
    account's reads follow it out.
    """
    day = today()
    user_key = f"u:{user.pk}"
    anon = anonymous_id(request)
    if anon is None:
        if not leaving or not _has_read(user_key, day):
            return
        anon = _new_id(request)
    keys = [f"a:{anon}", user_key]
    if counters.in_redis():
        a, u = (_key(day, k) for k in keys)
        try:
            with counters.client().pipeline() as pipe:  # MULTI/EXEC: both or neither
                pipe.sunionstore(a, [a, u]).sunionstore(u, [u, a]).expire(a, _KEEP_SECONDS).expire(u, _KEEP_SECONDS)
                pipe.execute()
        except counters.UNREACHABLE:  # logging in or out goes on; the two keep their own reads
            log.warning("meter: Redis unreachable, today's reads not shared at log-in/out")
        return
    with transaction.atomic():
        article_ids = set(MeterRead.objects.filter(reader__in=keys, day=day).values_list("article_id", flat=True))
        if not article_ids:
            return
        MeterRead.objects.bulk_create(
            [MeterRead(reader=k, day=day, article_id=a) for k in keys for a in article_ids],
            ignore_conflicts=True,
        )
        for key in keys:
            MeterDay.objects.bulk_create([MeterDay(reader=key, day=day, count=0)], ignore_conflicts=True)
            # Lock, then set: the count becomes the number of distinct reads.
            row = MeterDay.objects.select_for_update().get(reader=key, day=day)
            row.count = max(row.count, len(article_ids))
            row.save(update_fields=["count"])


def _has_read(reader: str, day: date) -> bool:
    if counters.in_redis():
        try:
            return bool(counters.client().exists(_key(day, reader)))
        except counters.UNREACHABLE:
            return False
    return MeterRead.objects.filter(reader=reader, day=day).exists()


def forget_user(user) -> None:
    """The account is going: its meter records go with it."""
    if counters.in_redis():
        day = today()
        counters.client().delete(*(_key(day - timedelta(days=n), f"u:{user.pk}") for n in (0, 1)))
    MeterRead.objects.filter(reader=f"u:{user.pk}").delete()
    MeterDay.objects.filter(reader=f"u:{user.pk}").delete()


PRUNE_BATCH = 10_000


def prune(*, keep_days: int, batch: int = PRUNE_BATCH) -> int:
    """Delete meter rows older than keep_days; returns how many rows went.
    (In Redis the meter's keys expire by themselves.)

    At a million reads a day one DELETE would remove millions of rows in one
    transaction (bench/meter_tables.py). In batches of `batch` rows, each its
    own statement and transaction (call it outside atomic()), nothing holds
    locks, a snapshot or a burst of WAL for long, and today's credits — other
    rows entirely — never wait on it."""
    cutoff = today() - timedelta(days=keep_days)
    removed = 0
    for model in (MeterRead, MeterDay):
        while ids := list(model.objects.filter(day__lt=cutoff).values_list("pk", flat=True)[:batch]):
            removed += model.objects.filter(pk__in=ids).delete()[0]
    return removed
