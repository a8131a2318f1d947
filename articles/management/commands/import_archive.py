"""Move a newsroom in: import the archive of a WordPress, Ghost or Substack site.

    python manage.py import_archive --from wordpress export.xml [--media DIR] [--dry-run]
    python manage.py import_archive --from ghost ghost-export.json --media content/
    python manage.py import_archive --from substack export.zip --default-author "Ada Byline"

Every story becomes an article with its old address redirected (301) to its new
page; running it again updates what changed and reports the rest unchanged.
What maps to what: docs/moving-in.md. The work is done by articles/imports/.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from articles.imports import ghost, substack, wordpress
from articles.imports.importer import Counts, Importer
from articles.imports.story import ExportError

READERS = {"wordpress": wordpress.read, "ghost": ghost.read, "substack": substack.read}


class Command(BaseCommand):
    help = "Import a WordPress (WXR), Ghost (JSON) or Substack (zip) archive; safe to run again."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--from", dest="source", required=True, choices=sorted(READERS))
        parser.add_argument("path", help="the export file (Substack: the .zip or its unpacked folder)")
        parser.add_argument("--dry-run", action="store_true", help="report what would be done; write nothing")
        parser.add_argument(
            "--media",
            help="folder holding the export's pictures (default: the export's own folder); "
            "a picture's address is looked up under it, and under each shorter tail of its path",
        )
        parser.add_argument("--default-section", default="Archive", help="for stories with no section (Substack)")
        parser.add_argument("--default-author", default="", help="byline for stories that name none (Substack)")
        parser.add_argument(
            "--permalink",
            default="/{slug}/",
            help="Ghost: the old site's post address (routes.yaml), e.g. /{year}/{month}/{slug}/ (default /{slug}/)",
        )
        parser.add_argument(
            "--batch",
            type=int,
            default=200,
            metavar="N",
            help="new stories without a picture are written N at a time, in one transaction (default 200); "
            "1 writes every story alone, through Article.save()",
        )
        parser.add_argument("--no-progress", action="store_true", help="no running count on stderr")
        parser.add_argument("--progress-every", type=int, default=500, metavar="N")

    def handle(self, *, source: str, path: str, dry_run: bool, media: str | None, **options) -> None:
        export = Path(path)
        if not export.exists():
            raise CommandError(f"{export}: no such file or folder")
        try:
            options["permalink"].format(slug="s", id="1", year="2024", month="01", day="01")
        except (KeyError, IndexError, ValueError) as e:
            raise CommandError(f"--permalink {options['permalink']!r}: use {{slug}}, {{id}}, {{year}}, "
                               f"{{month}}, {{day}} ({e!r})") from None  # fmt: skip
        media_dir = Path(media) if media else (export if export.is_dir() else export.parent)
        if not media_dir.is_dir():
            raise CommandError(f"--media {media_dir}: not a folder")
        importer = Importer(
            source=source,
            media_dir=media_dir,
            write=self.stdout.write,
            dry_run=dry_run,
            default_section=options["default_section"],
            default_author=options["default_author"],
            verbose=options["verbosity"] >= 2,
            batch=options["batch"],
        )
        show = not options["no_progress"] and sys.stderr.isatty()
        started = time.monotonic()
        every = max(1, options["progress_every"])

        def progress(counts: Counts) -> None:
            if counts.read % every == 0:
                rate = counts.read / max(time.monotonic() - started, 1e-6)
                self.stderr.write(f"\r{counts.read} read, {counts.created} created, {counts.updated} updated, "
                                  f"{counts.unchanged} unchanged ({rate:.0f}/s)", ending="")  # fmt: skip

        try:
            stories = (
                ghost.read(export, permalink=options["permalink"]) if source == "ghost" else READERS[source](export)
            )
            counts = importer.run(stories, progress if show else None)
        except ExportError as e:
            counts = importer.counts
            if counts.read:
                self.stdout.write(counts.summary(dry_run=dry_run))
                done = "nothing was written (dry run)" if dry_run else "the stories before it are imported"
                raise CommandError(f"{e} — {done}; fix the export and run again") from None
            raise CommandError(str(e)) from None
        if show:
            self.stderr.write("")
        prefix = "Dry run, nothing written. " if dry_run else ""
        self.stdout.write(prefix + counts.summary(dry_run=dry_run) + f" ({time.monotonic() - started:.1f} s)")
