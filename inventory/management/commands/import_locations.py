import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.errors import InvalidInput
from inventory.feeds import LOCATION_COLUMNS, ImportResult, csv_records, locations_import


class CsvImportCommand(BaseCommand):
    """Apply a CSV file through an import service, list every rejected row and exit 1 if any."""

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="CSV file (UTF-8) whose first row is the header.")

    def columns(self, options: dict) -> Sequence[str]:
        raise NotImplementedError

    def apply(self, records: Iterable[list[str]], options: dict) -> ImportResult:
        raise NotImplementedError

    def handle(self, *args, **options):
        file: Path = options["file"]
        started = time.perf_counter()
        try:
            # utf-8-sig: spreadsheets often save CSV with a byte-order mark.
            with file.open(newline="", encoding="utf-8-sig") as lines:
                result = self.apply(csv_records(lines, columns=self.columns(options)), options)
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}.") from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{file} is not UTF-8 text.") from exc
        except InvalidInput as exc:
            raise CommandError(exc.message) from exc
        seconds = time.perf_counter() - started
        for rejection in result.rejected:
            self.stderr.write(f"rejected {rejection}")
        self.stdout.write(
            f"{result.applied} applied, {result.unchanged} unchanged, {result.rejected_rows} rejected "
            f"of {result.rows} rows in {seconds:.1f} s ({result.rows / max(seconds, 1e-9):,.0f} rows/s)."
        )
        if result.rejected:
            raise CommandError(f"{result.rejected_rows} row(s) rejected; the other rows were applied.")


class Command(CsvImportCommand):
    help = f"Create or update locations by code. Columns: {','.join(LOCATION_COLUMNS)}."

    def columns(self, options):
        return LOCATION_COLUMNS

    def apply(self, records, options):
        return locations_import(records=records)
