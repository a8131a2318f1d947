from django.core.management.base import BaseCommand, CommandError

from subscriptions import billing


class Command(BaseCommand):
    help = ("Create the Stripe product and price of every active plan that lacks them, and the site's "
            "Billing Portal configuration. Safe to run twice.")

    def handle(self, *args, **options) -> None:
        if not billing.is_configured():
            raise CommandError("STRIPE_SECRET_KEY is not set; see README 'Subscriptions and Stripe'.")
        done = billing.sync_plans()
        for line in done:
            self.stdout.write(f"created {line}")
        # The portal refuses sessions without a configuration until one is saved in the dashboard.
        self.stdout.write(f"portal configuration {billing.portal_configuration()}")
        self.stdout.write(self.style.SUCCESS(f"plans in sync ({len(done)} objects created)"))
