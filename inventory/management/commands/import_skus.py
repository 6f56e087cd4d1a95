from inventory.feeds import SKU_COLUMNS, skus_import

from .import_locations import CsvImportCommand


class Command(CsvImportCommand):
    help = (
        f"Create or update SKUs and add their barcodes and channel aliases. Columns: {','.join(SKU_COLUMNS)} "
        "(barcodes separated by ';', aliases as channel:code;channel:code)."
    )

    def columns(self, options):
        return SKU_COLUMNS

    def apply(self, records, options):
        return skus_import(records=records)
