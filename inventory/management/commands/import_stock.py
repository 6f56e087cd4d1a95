import gc
import sys

from tqdm import tqdm

from inventory.stock_feed import STOCK_COLUMNS, stock_feed_apply

from .import_locations import CsvImportCommand


class Command(CsvImportCommand):
    help = (
        "Set (snapshot: location,sku,on_hand) or change (delta: location,sku,delta) on-hand stock. "
        "The sku column takes a SKU code or a barcode. Rows that would take on-hand below what is "
        "reserved or below zero are rejected; the command exits 1 if any row was rejected."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--mode", choices=list(STOCK_COLUMNS), default="snapshot")
        parser.add_argument(
            "--writers",
            type=int,
            default=2,
            help="Database connections writing at once on PostgreSQL (default 2): while one waits "
            "for the server, another's statements run on the server's next core.",
        )

    def columns(self, options):
        return STOCK_COLUMNS[options["mode"]]

    def apply(self, records, options):
        file = options["file"]
        show_progress = self.stdout.isatty()
        # A feed's rows are many small objects without reference cycles; the cycle collector
        # would scan them again and again while they wait for their chunk, doubling Python's time.
        gc.disable()
        try:
            with tqdm(unit=" rows", disable=not show_progress, file=sys.stderr) as bar:
                return stock_feed_apply(
                    rows=records,
                    mode=options["mode"],
                    reference=f"feed:{file.name}",
                    progress=bar.update,
                    writers=options["writers"],
                )
        finally:
            gc.enable()
