"""Daily counters for the publisher dashboard, raised atomically in SQL."""

from django.db import connection
from django.utils import timezone

_BUMP = (
    "INSERT INTO subscriptions_dailystat (day, name, value) VALUES (%s, %s, %s) "
    "ON CONFLICT (day, name) DO UPDATE SET value = subscriptions_dailystat.value + %s"
)


def bump(name: str, by: int = 1) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_BUMP, [timezone.localdate(), name, by, by])
