from django.core.management.base import BaseCommand, CommandError

from inventory.selectors import inventory_discrepancies


class Command(BaseCommand):
    help = "Prove that every stock counter equals its ledger and live reservations; exit 1 listing any disagreement."

    def handle(self, *args, **options):
        found = inventory_discrepancies()
        for d in found:
            self.stdout.write(f"{d.sku}@{d.location}: {d.field} is {d.counter} but the {d.source} say {d.expected}")
        if found:
            raise CommandError(f"{len(found)} disagreement(s) between counters and ledger.")
        self.stdout.write(
            self.style.SUCCESS("Inventory is consistent: every counter matches the ledger and reservations.")
        )
