import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from members import importing, sources


class Command(BaseCommand):
    help = (
        "Import members exported by Ghost, Substack or a generic CSV: accounts (no password: readers use "
        "'Forgot your password?'), email choices, complimentary access, labels and Stripe customer ids. Each "
        "member in its own transaction; safe to run twice. See docs/moving-in.md."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--from", dest="source", choices=sources.FORMATS, required=True,
                            help="ghost (members CSV), substack (subscribers CSV) or csv (generic, what "
                                 "export_members writes)")  # fmt: skip
        parser.add_argument("path", help="The CSV file.")
        parser.add_argument("--dry-run", action="store_true",
                            help="Write nothing; report what would be created, updated or skipped, and every "
                                 "problem.")  # fmt: skip
        parser.add_argument("--no-progress", action="store_true", help="No running count on standard error.")

    def handle(self, *args, **options) -> None:
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        source, dry_run = options["source"], options["dry_run"]
        opened = sources.open_text(path)
        if opened.note:
            self.stdout.write(f"{path.name}: {opened.note}")
        column = sources.OPT_IN_COLUMN[source]
        show_progress = not options["no_progress"]

        def progress(n: int) -> None:
            if show_progress:
                sys.stderr.write(f"\r{n} rows…")
                sys.stderr.flush()

        with opened.text:
            try:
                reader = sources.csv_reader(opened.text)
            except ValueError as exc:
                raise CommandError(f"{path.name}: {exc}") from exc
            if column not in reader.fieldnames:
                self.stdout.write(f"{path.name}: no {column!r} column: nobody is opted in to the newsletter")
            report = importing.import_members(
                sources.read_members(reader, source), source=source, dry_run=dry_run, say=self.stdout.write,
                detail=options["verbosity"] >= 2, progress=progress,
            )  # fmt: skip
        if show_progress:
            sys.stderr.write("\n")
        prefix = "DRY RUN, nothing written. " if dry_run else ""
        self.stdout.write(self.style.SUCCESS(prefix + report.summary(dry_run=dry_run)))
