from django.core.management.base import BaseCommand

from inventory.ledger import ledger_checkpoint


class Command(BaseCommand):
    help = "Sum the settled stock movements since the last checkpoint into the ledger balances (beat does this too)."

    def handle(self, *args, **options):
        checkpoint = ledger_checkpoint()
        if checkpoint is None:
            self.stdout.write("Nothing to add: no settled movement since the last checkpoint.")
        else:
            summed = f"{checkpoint.movements} movement(s) summed"
            self.stdout.write(f"Checkpoint up to movement {checkpoint.upto_movement_id}: {summed}.")
