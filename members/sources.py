"""Reading a member list exported by Ghost, Substack or anything else, one row at a time.

Each format is a CSV; `read_members` streams it (never the whole file in memory)
and turns each row into a `Member` in our terms, or says what is wrong with it.
What each source's columns mean here (docs/moving-in.md):

* Ghost members CSV (`id,email,name,note,subscribed_to_emails,complimentary_plan,
  stripe_customer_id,created_at,deleted_at,labels,tiers`): the digest only where
  `subscribed_to_emails` is true; complimentary access where `complimentary_plan`
  is (Ghost's export carries no end date: until COMP_NO_END); the address counts
  as verified where Ghost has been mailing it (`subscribed_to_emails`) or it pays
  (`stripe_customer_id`): a Ghost member signs in only by emailed link, so either
  means the address reaches them. Rows with `deleted_at` are skipped.
* Substack subscribers CSV (`email, active_subscription, expiry, plan,
  email_disabled, created_at, …`): the digest unless `email_disabled`; a `comp`
  plan (or a true `is_comp`/`comp` column) is complimentary access until
  `comp_expiry`/`expiry`; verified where `active_subscription` is true (a paying
  subscriber, who signs in by emailed link too); `stripe_customer_id` if present.
* A generic CSV (`email,name,created_at,newsletter,labels,comp_until`, and
  optionally `verified`, `breaking_news`, `note`, `stripe_customer_id`): what
  `export_members` writes, so an export can be imported again.

A column that is absent means no: nobody is opted in or verified by a column the
file does not have.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TextIO

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from subscriptions.models import split_labels

FORMATS = ("ghost", "substack", "csv")
# Complimentary access the source gives without an end date (Ghost's comps have none).
COMP_NO_END = datetime(2100, 1, 1, tzinfo=UTC)

_TRUE = {"true", "t", "yes", "y", "1", "on", "subscribed"}
_FALSE = {"false", "f", "no", "n", "0", "off", "", "unsubscribed", "null", "none"}


@dataclass
class Member:
    line: int
    email: str
    name: str = ""
    created_at: datetime | None = None
    newsletter: bool = False
    breaking: bool = False
    verified: bool = False
    labels: str = ""
    note: str = ""
    comp_until: datetime | None = None
    stripe_customer_id: str = ""
    source_id: str = ""
    problems: list[str] = field(default_factory=list)


@dataclass
class Skipped:
    line: int
    email: str
    reason: str


@dataclass
class Opened:
    """The file as text, how it was decoded, and any line the report should carry about that."""

    text: TextIO
    encoding: str
    note: str = ""


def _decodes(path: Path, encoding: str) -> bool:
    """Does the whole file decode as `encoding`? Read in chunks, so memory stays flat."""
    decoder = codecs.getincrementaldecoder(encoding)()
    with open(path, "rb") as fh:
        try:
            while chunk := fh.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def open_text(path: Path) -> Opened:
    """The file as text: a byte-order mark decides (UTF-8, UTF-16, UTF-32); else UTF-8 if
    every byte decodes as it; else Windows-1252 (what spreadsheet programs write for
    "CSV"), or Latin-1 for a file even that refuses, with a line in the report."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head.startswith(codecs.BOM_UTF8):
        encoding, note = "utf-8-sig", ""
    elif head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        encoding, note = "utf-32", ""
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding, note = "utf-16", ""
    elif _decodes(path, "utf-8"):
        encoding, note = "utf-8", ""
    elif _decodes(path, "cp1252"):
        encoding, note = "cp1252", "not UTF-8: read as Windows-1252 (check accented names came out right)"
    else:
        encoding, note = "latin-1", "neither UTF-8 nor Windows-1252: read as Latin-1 (check accented names)"
    return Opened(open(path, encoding=encoding, newline=""), encoding, note)


def _flag(row: dict, column: str, problems: list[str]) -> bool:
    value = (row.get(column) or "").strip().lower()
    if value in _TRUE:
        return True
    if value not in _FALSE:
        problems.append(f"{column} is {value!r}, not yes or no: taken as no")
    return False


def _when(row: dict, column: str, problems: list[str]) -> datetime | None:
    """An ISO 8601 date or date-time (Ghost's "2023-04-12T10:11:12.000Z", a plain
    "2023-04-12"); a time without a zone is in the site's TIME_ZONE."""
    value = (row.get(column) or "").strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace(" UTC", "+00:00"))
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(value[:10]), time())
        except ValueError:
            problems.append(f"{column} {value[:40]!r} is not a date: left out")
            return None
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


def _text(row: dict, column: str, limit: int) -> str:
    return " ".join((row.get(column) or "").split())[:limit]


def _ghost(row: dict, m: Member) -> str:
    if (row.get("deleted_at") or "").strip():
        return "deleted on Ghost"
    m.source_id = _text(row, "id", 100)
    m.newsletter = _flag(row, "subscribed_to_emails", m.problems)
    m.stripe_customer_id = _text(row, "stripe_customer_id", 255)
    m.verified = m.newsletter or bool(m.stripe_customer_id)
    if _flag(row, "complimentary_plan", m.problems):
        m.comp_until = _when(row, "comp_expiry", m.problems) or COMP_NO_END
    return ""


def _substack(row: dict, m: Member) -> str:
    m.newsletter = "email_disabled" in row and not _flag(row, "email_disabled", m.problems)
    m.verified = _flag(row, "active_subscription", m.problems)
    m.stripe_customer_id = _text(row, "stripe_customer_id", 255)
    plan = (row.get("plan") or "").strip().lower()
    if plan in ("comp", "complimentary") or _flag(row, "is_comp", m.problems) or _flag(row, "comp", m.problems):
        m.comp_until = _when(row, "comp_expiry", m.problems) or _when(row, "expiry", m.problems) or COMP_NO_END
    return ""


def _generic(row: dict, m: Member) -> str:
    m.newsletter = _flag(row, "newsletter", m.problems)
    m.breaking = _flag(row, "breaking_news", m.problems)
    m.verified = _flag(row, "verified", m.problems)
    m.comp_until = _when(row, "comp_until", m.problems)
    m.stripe_customer_id = _text(row, "stripe_customer_id", 255)
    return ""


_READERS = {"ghost": _ghost, "substack": _substack, "csv": _generic}
# The columns that decide who is opted in to emails, per format: when the file lacks
# it, nobody is (and the report says so).
OPT_IN_COLUMN = {"ghost": "subscribed_to_emails", "substack": "email_disabled", "csv": "newsletter"}


def csv_reader(text: TextIO) -> csv.DictReader:
    """A reader whose column names are trimmed and lower-cased. ValueError without an `email` column."""
    reader = csv.DictReader(text)
    names = reader.fieldnames or []
    reader.fieldnames = [(name or "").strip().lstrip("\ufeff").lower() for name in names]
    if "email" not in reader.fieldnames:
        raise ValueError(f"no 'email' column (the columns are: {', '.join(reader.fieldnames)[:300] or 'none'})")
    return reader


def read_members(reader: csv.DictReader, source: str) -> Iterator[Member | Skipped]:
    """Members (with their problems) or skipped rows, in file order; blank lines vanish."""
    fill = _READERS[source]
    for row in reader:
        line = reader.line_num
        row.pop(None, None)  # values past the last column
        if not any((value or "").strip() for value in row.values()):
            continue
        raw_email = (row.get("email") or "").strip()
        email = raw_email.lower()
        try:
            validate_email(email)
        except ValidationError:
            yield Skipped(line, raw_email[:100], f"invalid email {raw_email[:100]!r}")
            continue
        m = Member(
            line=line,
            email=email,
            name=_text(row, "name", 300),
            labels=", ".join(split_labels(row.get("labels") or "")),
            note=(row.get("note") or "").strip()[:2000],
        )
        m.labels = m.labels[:500]
        m.created_at = _when(row, "created_at", m.problems)
        if why := fill(row, m):
            yield Skipped(line, email, why)
            continue
        yield m
