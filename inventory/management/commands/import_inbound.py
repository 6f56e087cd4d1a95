from inventory.inbound import INBOUND_COLUMNS, inbound_import

from .import_locations import CsvImportCommand


class Command(CsvImportCommand):
    help = (
        f"Create or update inbound supply (purchase orders, shipping notices). Columns: {','.join(INBOUND_COLUMNS)} "
        "(one document line per row; expected_on as YYYY-MM-DD)."
    )

    def columns(self, options):
        return INBOUND_COLUMNS

    def apply(self, records, options):
        return inbound_import(records=records)
