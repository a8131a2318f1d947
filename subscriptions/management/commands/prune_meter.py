from django.conf import settings
from django.core.management.base import BaseCommand

from subscriptions import meter


class Command(BaseCommand):
    help = (
        "Delete daily meter rows older than METER_RETENTION_DAYS (default 7). "
        "Schedule it daily, e.g. cron: `15 4 * * * cd /srv/newsroom && .venv/bin/python manage.py prune_meter`."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--keep-days", type=int, default=settings.METER_RETENTION_DAYS)

    def handle(self, *args, keep_days: int, **options) -> None:
        if keep_days < 1:
            self.stderr.write("--keep-days must be at least 1 (today's rows are in use).")
            raise SystemExit(2)
        removed = meter.prune(keep_days=keep_days)
        self.stdout.write(f"Removed {removed} meter rows older than {keep_days} days.")
