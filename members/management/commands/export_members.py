from django.core.management.base import BaseCommand

from members import export


class Command(BaseCommand):
    help = (
        "Write everything held about members (account, email choices, labels, complimentary access, Stripe "
        "customer and subscription) as CSV, in the format import_members --from csv reads."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--format", choices=["csv"], default="csv")
        parser.add_argument("--output", help="Write to this file instead of standard output.")

    def handle(self, *args, **options) -> None:
        if options["output"]:
            with open(options["output"], "w", encoding="utf-8", newline="") as out:
                count = export.write_csv(out)
            self.stderr.write(f"{count} members written to {options['output']}")
        else:
            export.write_csv(self.stdout)
