"""One story as an export describes it, before it becomes an Article.

Each reader (wordpress.py, ghost.py, substack.py) turns its export into a stream
of these, one at a time; importer.py writes them. Nothing here touches the database.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from urllib.parse import unquote, urlsplit

from django.utils.encoding import escape_uri_path

# Bump when the mapping changes, so the next run updates every story instead of calling it unchanged.
MAPPING_VERSION = 1


class ExportError(Exception):
    """The export cannot be read at all (not a file of that kind, malformed): the import stops."""


@dataclass(frozen=True)
class Person:
    name: str
    email: str = ""
    slug: str = ""


@dataclass(frozen=True)
class Term:
    """A section or a topic: its name and its slug in the old system."""

    name: str
    slug: str = ""


@dataclass
class Story:
    source_id: str
    title: str
    slug: str
    html: str
    standfirst: str = ""
    publish_at: datetime | None = None
    status: str = "published"  # Article.Status values
    access: str = "free"  # Article.Access values
    authors: list[Person] = field(default_factory=list)
    section: Term | None = None
    topics: list[Term] = field(default_factory=list)
    image_url: str = ""
    image_alt: str = ""
    image_caption: str = ""
    old_paths: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the reader noticed (a closest-level mapping, …)

    @property
    def label(self) -> str:
        return f"{self.source_id} “{self.title[:60]}”" if self.title else self.source_id

    def digest(self) -> str:
        """The story's fingerprint: the same export gives the same one (so: unchanged)."""
        data = asdict(self)
        data["publish_at"] = self.publish_at.isoformat() if self.publish_at else None
        data["mapping_version"] = MAPPING_VERSION
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


@dataclass
class Skipped:
    """An item of the export that is not imported, and why (reported, counted as skipped)."""

    source_id: str
    reason: str


def old_path(url: str) -> str:
    """The path (and query) of an old address as Django's request.get_full_path() gives
    it (percent-escaped the same way, so the redirect table matches); "" for none."""
    if not url:
        return ""
    parts = urlsplit(url.strip())
    path = escape_uri_path(unquote(parts.path or "/"))
    if not path.startswith("/"):
        path = "/" + path
    return f"{path}?{parts.query}" if parts.query else path
