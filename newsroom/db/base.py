"""Django's PostgreSQL backend, with a health check that costs no round trip
while the connection is healthy.

Persistent connections (CONN_MAX_AGE) must be checked before a request uses
them, or the first request after a PostgreSQL restart fails on a dead one.
Django's check (CONN_HEALTH_CHECKS) sends `SELECT 1` at the start of every
request: a whole extra round trip, much of the cost of a cheap page.

An idle connection has nothing to read. When the server ends one (restart,
administrator, idle timeout), its goodbye message or the end of the stream is
waiting on the socket, so a zero-timeout poll tells. Only then is the server
asked for real, with Django's own `SELECT 1`. A peer that vanished without a
word (no FIN) is caught by neither check until the query's own timeout.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        if self.connection is None or self.connection.closed:
            return False
        try:
            readable, _, _ = select.select([self.connection.fileno()], [], [], 0)
        except (OSError, ValueError):
            return False
        return super().is_usable() if readable else True
