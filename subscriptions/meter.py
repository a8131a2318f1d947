"""The daily free-article allowance.

A reader is "u:<user id>" when logged in, else "a:<random id>" from a
long-lived signed cookie the server sets; a coarse per-address backstop for
anonymous readers ("ip:<addr>", an IPv6 client's /64) stops a cookie purge from
being an unlimited reset.

Counting is exact under concurrency because the database does it:
  1. INSERT the (reader, day, article) read ... ON CONFLICT DO NOTHING RETURNING.
     No row back means the article was already read today: full text, no cost.
     Two requests for the same article serialize on the unique index.
  2. Upsert the (reader, day) counter with `count = count + 1 WHERE count < limit`
     RETURNING count. No row back means the allowance is spent, and the whole
     transaction (including step 1) is rolled back. Concurrent requests for
     different articles serialize on the counter row's lock, and PostgreSQL
     re-checks the WHERE against the committed value, so the limit holds.
  3. The same for the per-IP counter; refused there, everything rolls back too.

On PostgreSQL these steps run inside one database function
(subscriptions_meter_consume, migration 0004): one statement, one round trip,
its own transaction, committed without waiting for the disk flush
(METER_ASYNC_COMMIT; docs/paywall.md has the trade). Elsewhere (SQLite for a first local run) the same steps
run from Python in a transaction. The meter tests run against both.
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core import signing
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from .models import MeterDay, MeterRead

COOKIE_SALT = "subscriptions.meter"


@dataclass(frozen=True)
class MeterResult:
    granted: bool
    already_read: bool = False
    remaining: int = 0
    by_ip_backstop: bool = False  # refused by the address's backstop, not the reader's own allowance


def today() -> date:
    """The site's local day (settings.TIME_ZONE), computed on the server."""
    return timezone.localdate()


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or the address our own proxies put in X-Forwarded-For.

    X-Forwarded-For is trusted only when TRUSTED_PROXY_COUNT says how many
    proxies we run; a client cannot add hops that we would believe.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _anonymous_id(request: HttpRequest) -> str | None:
    try:
        value = request.get_signed_cookie(settings.METER_COOKIE_NAME, salt=COOKIE_SALT)
    except (KeyError, signing.BadSignature):
        return None
    return value if value and len(value) <= 64 and value.isalnum() else None


def reader_key(request: HttpRequest) -> str:
    """Who is reading. For a new or tampered cookie, a fresh id is minted and
    remembered on the request; MeterCookieMiddleware sets it on the response."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"u:{user.pk}"
    anon = getattr(request, "_meter_anon_id", None) or _anonymous_id(request)
    if anon is None:
        anon = secrets.token_hex(16)
        request._meter_new_cookie = anon  # type: ignore[attr-defined]
    request._meter_anon_id = anon  # type: ignore[attr-defined]
    return f"a:{anon}"


def set_cookie_if_needed(request: HttpRequest, response: HttpResponse) -> None:
    new_id = getattr(request, "_meter_new_cookie", None)
    if new_id:
        response.set_signed_cookie(
            settings.METER_COOKIE_NAME,
            new_id,
            salt=COOKIE_SALT,
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


_CONSUME = "SELECT granted, already_read, used, by_ip_backstop FROM subscriptions_meter_consume(%s, %s, %s, %s, %s, %s)"
# The same call, committed without waiting for the WAL flush (set_config(..., true) lasts
# to the end of this statement's own transaction). Exactness is unchanged — the row locks
# and unique indexes decide — but a PostgreSQL crash may forget the last moments of
# credits, which only ever gives a reader an article back (docs/paywall.md).
_CONSUME_ASYNC = _CONSUME + ", set_config('synchronous_commit', 'off', true)"


def _in_database() -> bool:
    """Whether the database counts in one call (PostgreSQL's function) or Python does."""
    return connection.vendor == "postgresql" and settings.METER_IN_DATABASE


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


def consume(request: HttpRequest, article_id: int) -> MeterResult:
    """Let this reader open this metered article in full, if their allowance allows."""
    limit = settings.FREE_ARTICLES_PER_DAY
    reader = reader_key(request)
    # The backstop stops cookie clearing; an account's own count cannot be cleared,
    # so logged-in readers are not held to their address's (see docs/paywall.md).
    ip_limit = settings.FREE_ARTICLES_PER_IP_PER_DAY if reader.startswith("a:") else 0
    day = today()
    if _in_database():
        with connection.cursor() as cursor:
            # Inside a caller's transaction the call must not change how that one commits.
            asynchronous = settings.METER_ASYNC_COMMIT and not connection.in_atomic_block
            params = [reader, backstop_key(request), day, article_id, limit, ip_limit]
            cursor.execute(_CONSUME_ASYNC if asynchronous else _CONSUME, params)
            granted, already_read, used, by_ip = cursor.fetchone()
        if not granted:
            return MeterResult(granted=False, by_ip_backstop=by_ip)
        return MeterResult(granted=True, already_read=already_read, remaining=max(0, limit - used))
    return _consume_in_python(request, article_id, reader, day, limit, ip_limit)


def _consume_in_python(
    request: HttpRequest, article_id: int, reader: str, day: date, limit: int, ip_limit: int
) -> MeterResult:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_INSERT_READ, [reader, day, article_id])
        if cursor.fetchone() is None:
            used = MeterDay.objects.filter(reader=reader, day=day).values_list("count", flat=True).first() or 0
            return MeterResult(granted=True, already_read=True, remaining=max(0, limit - used))
        used = _take_credit(cursor, reader, day, limit)
        if used is None:
            transaction.set_rollback(True)
            return MeterResult(granted=False)
        if ip_limit > 0 and _take_credit(cursor, backstop_key(request), day, ip_limit) is None:
            transaction.set_rollback(True)
            return MeterResult(granted=False, by_ip_backstop=True)
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
    anon = _anonymous_id(request)
    with transaction.atomic():
        if anon is None:
            if not leaving or not MeterRead.objects.filter(reader=user_key, day=day).exists():
                return
            anon = secrets.token_hex(16)
            request._meter_new_cookie = anon  # type: ignore[attr-defined]
            request._meter_anon_id = anon  # type: ignore[attr-defined]
        keys = [f"a:{anon}", user_key]
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


def forget_user(user) -> None:
    """The account is going: its meter rows go with it."""
    MeterRead.objects.filter(reader=f"u:{user.pk}").delete()
    MeterDay.objects.filter(reader=f"u:{user.pk}").delete()


PRUNE_BATCH = 10_000


def prune(*, keep_days: int, batch: int = PRUNE_BATCH) -> int:
    """Delete meter rows older than keep_days; returns how many rows went.

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
