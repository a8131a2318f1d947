from django.core.management.base import BaseCommand, CommandError

from subscriptions import billing


class Command(BaseCommand):
    help = "Create the Stripe product and price of every active plan that lacks them. Safe to run twice."

    def handle(self, *args, **options) -> None:
        if not billing.is_configured():
            raise CommandError("STRIPE_SECRET_KEY is not set; see README 'Subscriptions and Stripe'.")
        done = billing.sync_plans()
        for line in done:
            self.stdout.write(f"created {line}")
        self.stdout.write(self.style.SUCCESS(f"plans in sync ({len(done)} objects created)"))
