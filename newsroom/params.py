"""Reading numbers out of query strings and forms without trusting them.

A client may send any text as a number: letters, "1e309", or 10^20, which
Python parses happily and PostgreSQL then refuses ("bigint out of range" in an
OFFSET). Views read such numbers through `bounded_int`, which always gives a
value the database accepts.
"""

from __future__ import annotations


def bounded_int(value: str | None, *, default: int, low: int, high: int) -> int:
    """`value` as a whole number clamped to [low, high]; `default` when it is not one."""
    if value is None or len(value) > 40:
        return default
    try:
        number = int(value)
    except ValueError:
        return default
    return max(low, min(high, number))
