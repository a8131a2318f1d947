"""Send what is due: run from cron every few minutes, e.g.

    */5 * * * *  cd /srv/newsroom && .venv/bin/python manage.py send_newsletter

Safe to run twice at once (the senders split the work) and after a crash (it
resumes where the last run stopped). `--dry-run` lists who would get what.
"""

from __future__ import annotations

import sys
from collections import Counter

from django.core.management.base import BaseCommand, CommandError

from newsletter import sending
from newsletter.models import Delivery, Send


class Command(BaseCommand):
    help = "Create the sends that are due (daily digest, breaking news) and deliver pending emails."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Show who would get what; send and write nothing.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar even on a terminal.")

    def handle(self, *args, dry_run: bool = False, no_progress: bool = False, **options) -> None:
        if dry_run:
            for line in sending.dry_run():
                self.stdout.write(line)
            return
        for send in sending.schedule():
            self.stdout.write(f"Created {send.key}: “{send.subject}” ({send.deliveries.count()} recipients)")
        total = Delivery.objects.filter(status=Delivery.Status.PENDING, send__status=Send.Status.SENDING).count()
        show = total and not no_progress and sys.stderr.isatty()
        sender = sending.Sender(progress=self._bar(total) if show else None)
        try:
            counts = sender.run()
        except sending.MailServerUnavailable as exc:
            raise CommandError(f"Mail server unavailable, nothing more sent this run: {exc}") from exc
        finally:
            if show:
                sys.stderr.write("\n")
        if counts or total:
            self.stdout.write(", ".join(f"{n} {what}" for what, n in sorted(counts.items())) or "Nothing sent.")

    @staticmethod
    def _bar(total: int):
        def show(counts: Counter) -> None:
            done = sum(n for what, n in counts.items() if what != "retried")
            filled = int(30 * min(done, total) / total)
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total} · {counts['sent']} sent")
            sys.stderr.flush()

        return show
