"""Substack's export (Settings → Exports): a .zip, or the folder it unpacks to,
holding posts.csv (one row per post) and posts/<post_id>.html (its body;
post_id is "<number>.<slug>").

The CSV is read row by row and each body file opened only for its row, straight
from the zip (nothing is unpacked), so memory stays flat in the number of posts.
A body file over MAX_BODY_BYTES is reported, not read.

Substack's export names no authors and no sections: the stories take the
import's default section and default author (`--default-section`, `--default-author`).
"""

from __future__ import annotations

import contextlib
import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path, PurePosixPath

from .story import ExportError, Skipped, Story

MAX_BODY_BYTES = 20 * 1024 * 1024
# "only_free" needs a free account on Substack; the closest the site has is metered (a few free a day).
ACCESS = {"everyone": "free", "only_free": "metered", "only_paid": "subscribers", "founding": "subscribers"}


class _Folder:
    """The export's files, from the zip or the folder, by their path inside the export."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.zip: zipfile.ZipFile | None = None
        if path.is_dir():
            self.root = ""
            if not (path / "posts.csv").is_file():
                raise ExportError(f"{path} holds no posts.csv: not a Substack export")
            return
        try:
            self.zip = zipfile.ZipFile(path)
        except (OSError, zipfile.BadZipFile) as e:
            raise ExportError(f"{path.name} is not a readable Substack export (a .zip or its folder): {e}") from None
        found = sorted((n for n in self.zip.namelist() if PurePosixPath(n).name == "posts.csv"), key=len)
        if not found:
            raise ExportError(f"{path.name} holds no posts.csv: not a Substack export")
        parent = str(PurePosixPath(found[0]).parent)
        self.root = "" if parent == "." else parent + "/"

    def open(self, name: str):
        if self.zip is not None:
            return self.zip.open(self.root + name)
        return open(self.path / name, "rb")

    def size(self, name: str) -> int | None:
        try:
            if self.zip is not None:
                return self.zip.getinfo(self.root + name).file_size
            return (self.path / name).stat().st_size
        except (KeyError, OSError):
            return None

    def close(self) -> None:
        if self.zip is not None:
            self.zip.close()


def _date(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00")) if value.strip() else None
    except ValueError:
        return None


def read(path: Path) -> Iterator[Story | Skipped]:
    folder = _Folder(path)
    try:
        with folder.open("posts.csv") as raw:
            rows = csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))
            if not rows.fieldnames or "post_id" not in rows.fieldnames:
                raise ExportError("posts.csv has no post_id column: not a Substack export")
            try:
                for row in rows:
                    try:
                        story = _story(folder, row)
                    except (ValueError, TypeError, AttributeError, OSError, zipfile.BadZipFile) as e:
                        story = Skipped(str(row.get("post_id")), f"could not be read: {e}")  # the rest goes on
                    yield story
            except (csv.Error, UnicodeDecodeError) as e:
                raise ExportError(f"posts.csv is malformed near line {rows.line_num}: {e}") from None
    finally:
        folder.close()


def _story(folder: _Folder, row: dict) -> Story | Skipped:
    post_id = (row.get("post_id") or "").strip()
    number, _, slug = post_id.partition(".")
    name = f"posts/{post_id}.html"
    size = folder.size(name)
    if size is None:
        return Skipped(post_id, f"its body {name} is not in the export")
    if size > MAX_BODY_BYTES:
        return Skipped(post_id, f"its body {name} is {size / 1e6:.0f} MB, over the {MAX_BODY_BYTES / 1e6:.0f} MB limit")
    with contextlib.closing(folder.open(name)) as fh:
        html = fh.read().decode("utf-8", errors="replace")
    audience = (row.get("audience") or "everyone").strip()
    published = (row.get("is_published") or "").strip().lower() == "true"
    story = Story(
        source_id=number or post_id,
        title=(row.get("title") or "").strip(),
        slug=slug,
        html=html,
        standfirst=(row.get("subtitle") or "").strip(),
        publish_at=_date(row.get("post_date") or ""),
        status="published" if published else "draft",
        access=ACCESS.get(audience, "subscribers"),
    )
    if audience not in ACCESS:
        story.notes.append(f"audience “{audience}” is unknown: imported for subscribers only")
    if published and slug:
        story.old_paths.append(f"/p/{slug}")
    return story
