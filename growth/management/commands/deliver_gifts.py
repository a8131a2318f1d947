"""Send the gift subscriptions whose delivery day has come. Run it every few minutes (cron or a
systemd timer beside the newsletter's sender); several at once send each gift once."""

from django.core.management.base import BaseCommand

from growth import gifts


class Command(BaseCommand):
    help = "Email recipients the gift subscriptions due today or earlier."

    def handle(self, *args, **options) -> None:
        sent = gifts.deliver_due()
        self.stdout.write(f"sent {sent} gift(s)")
