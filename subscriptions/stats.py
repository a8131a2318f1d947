"""Daily counters for the publisher dashboard, raised atomically in SQL."""

from django.db import connection
from django.utils import timezone

_BUMP = (
    "INSERT INTO subscriptions_dailystat (day, name, value) VALUES (%s, %s, %s) "
    "ON CONFLICT (day, name) DO UPDATE SET value = subscriptions_dailystat.value + %s"
)
_BUMP_WITHOUT_FLUSH = "SELECT subscriptions_bump_stat_without_flush(%s, %s, %s)"


def bump(name: str, by: int = 1) -> None:
    """Raise a counter as part of the caller's transaction (billing events)."""
    with connection.cursor() as cursor:
        cursor.execute(_BUMP, [timezone.localdate(), name, by, by])


def count_page_view(name: str) -> None:
    """Raise a counter that reader page views raise, many a second, all on one
    row (paywall views). On PostgreSQL, outside a transaction, it commits
    without waiting for the disk flush (migration 0005 says why and what that
    costs); inside one it must not change how the caller's transaction commits,
    so it is a plain bump()."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute(_BUMP_WITHOUT_FLUSH, [timezone.localdate(), name, 1])
    else:
        bump(name)
