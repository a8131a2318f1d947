from django.core.management.base import BaseCommand, CommandError

from subscriptions import billing


class Command(BaseCommand):
    help = (
        "Pull every subscription from Stripe and correct local state (missed or failed webhooks), "
        "and give Stripe customers their reader's current email. "
        "Safe to run any time, e.g. hourly from cron."
    )

    def handle(self, *args, **options) -> None:
        if not billing.is_configured():
            raise CommandError("STRIPE_SECRET_KEY is not set; see README 'Subscriptions and Stripe'.")
        seen = synced = 0
        for stripe_sub in billing.all_subscriptions():
            seen += 1
            # The page may be older than a webhook that came meanwhile: each object is fetched again.
            if billing.subscription_reconcile(stripe_sub) is not None:
                synced += 1
        emails = billing.customers_email_reconcile()
        self.stdout.write(self.style.SUCCESS(
            f"{seen} Stripe subscriptions seen, {synced} ours synced; {emails} customer emails corrected"))
