import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from inventory.ledger import ledger_archive


class Command(BaseCommand):
    help = "Write stock movements older than --before and inside the last checkpoint to a CSV file, then delete them."

    def add_arguments(self, parser):
        parser.add_argument("--before", required=True, help="A date, YYYY-MM-DD: movements older than it are archived.")
        parser.add_argument("--to", required=True, help="The CSV file to write; it must not exist yet.")

    def handle(self, *args, before, to, **options):
        try:
            day = dt.date.fromisoformat(before)
        except ValueError as exc:
            raise CommandError(f"--before must be a date like 2026-01-01, not {before!r}.") from exc
        cutoff = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
        try:
            with open(to, "x", newline="", encoding="utf-8") as out:
                archived = ledger_archive(before=cutoff, to=out)
        except FileExistsError as exc:
            raise CommandError(f"{to} exists already; choose a new file.") from exc
        self.stdout.write(f"{archived} movement(s) before {day} written to {to} and removed from the ledger.")
