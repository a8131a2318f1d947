from django.core.management.base import BaseCommand, CommandError

from subscriptions import adoption, billing


class Command(BaseCommand):
    help = (
        "Adopt the subscriptions the Stripe account already bills (a newsroom moving in): match each to a "
        "reader by the Stripe customer import_members recorded, else by verified email, and record it as a "
        "webhook would, so the reader reads at once. Reports what it could not match. Safe to run again."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Write nothing; report what would be adopted.")

    def handle(self, *args, **options) -> None:
        if not billing.is_configured():
            raise CommandError("STRIPE_SECRET_KEY is not set; see README 'Subscriptions and Stripe'.")
        dry_run = options["dry_run"]
        report = adoption.adopt_all(dry_run=dry_run, say=self.stdout.write)
        if report.problems:
            self.stdout.write(f"\n{len(report.problems)} problem(s):")
            for line in report.problems:
                self.stdout.write(f"  {line}")
        self.stdout.write(
            self.style.SUCCESS(("DRY RUN, nothing written. " if dry_run else "") + report.summary(dry_run=dry_run))
        )
