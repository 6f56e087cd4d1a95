"""Bulk feeds from the retailer's other systems: locations, the catalogue and stock.

Every feed takes records as received (lists of field values, one per row of the file
or request) and applies each row fully or not at all. A rejected row is reported with
its row number and the field at fault and changes nothing; the valid rows apply. Row
numbers count the header as row 1, as a spreadsheet shows them. Rows apply in file
order, so a later row for the same thing sees what the earlier one did.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction

from core.errors import InvalidInput

from .models import Barcode, Channel, Location, Sku, SkuAlias, validate_gtin

LOCATION_COLUMNS = (
    "code", "name", "kind", "lat", "lon", "address", "city", "postcode", "country",
    "ships", "pickup", "returns", "daily_capacity", "priority",
)  # fmt: skip
SKU_COLUMNS = ("sku", "name", "barcodes", "aliases")

if TYPE_CHECKING:
    pass


@dataclass(frozen=True)
class RowRejection:
    row: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.field}: {self.message}"


@dataclass
class ImportResult:
    applied: int = 0
    unchanged: int = 0
    rejected: list[RowRejection] = field(default_factory=list)

    @property
    def rejected_rows(self) -> int:
        return len({r.row for r in self.rejected})

    @property
    def rows(self) -> int:
        return self.applied + self.unchanged + self.rejected_rows


def csv_records(lines: Iterable[str], *, columns: Sequence[str]) -> Iterator[list[str]]:
    """Yield the records of a CSV file whose header must name exactly ``columns``, in order."""
    reader = csv.reader(lines)
    header = [h.strip().lower() for h in next(reader, [])]
    if header != list(columns):
        raise InvalidInput(
            f"row 1: the header must be {','.join(columns)}; found {','.join(header) or 'nothing'}.",
            errors={"header": [f"Expected {','.join(columns)}."]},
        )
    return reader


def record_fields(record: Sequence, columns: Sequence[str], row: int) -> dict | RowRejection:
    if len(record) != len(columns):
        return RowRejection(row, "row", f"expected {len(columns)} columns ({','.join(columns)}), found {len(record)}")
    return dict(zip(columns, (v.strip() if isinstance(v, str) else v for v in record), strict=True))


def _rejections(row: int, error: ValidationError) -> list[RowRejection]:
    return [RowRejection(row, f, " ".join(messages)) for f, messages in error.message_dict.items()]


# --- locations -------------------------------------------------------------------------

_BOOLEANS = {"true": True, "false": False}
_LOCATION_FIELDS = {"returns": "accepts_returns"}  # columns named unlike their model field


def _location_values(values: dict) -> tuple[dict, dict[str, str]]:
    """Turn a row's text into model values; return them and the fields that did not parse."""
    parsed, errors = {}, {}
    for name in ("code", "name", "kind", "address", "city", "postcode"):
        parsed[name] = values[name]
    parsed["country"] = values["country"].upper() or "GB"
    for name in ("lat", "lon"):
        try:
            parsed[name] = float(values[name])
        except ValueError:
            parsed[name] = math.nan
        if not math.isfinite(parsed[name]):
            errors[name] = f"{values[name]!r} is not a number"
    for name in ("ships", "pickup", "returns"):
        flag = _BOOLEANS.get(values[name].lower())
        if flag is None:
            errors[name] = f"{values[name]!r} is not true or false"
        else:
            parsed[_LOCATION_FIELDS.get(name, name)] = flag
    for name, default in (("daily_capacity", None), ("priority", 0)):
        text = values[name]
        try:
            parsed[name] = int(text) if text else default
        except ValueError:
            errors[name] = f"{text!r} is not a whole number"
    if isinstance(parsed.get("daily_capacity"), int) and parsed["daily_capacity"] < 0:
        errors["daily_capacity"] = "must be zero or more (empty means unlimited)"
    return parsed, errors


def locations_import(*, records: Iterable[Sequence[str]], first_row: int = 2) -> ImportResult:
    """Create or update locations by code from rows of LOCATION_COLUMNS."""
    result = ImportResult()
    for row, record in enumerate(records, first_row):
        values = record_fields(record, LOCATION_COLUMNS, row)
        if isinstance(values, RowRejection):
            result.rejected.append(values)
            continue
        parsed, errors = _location_values(values)
        location = Location.objects.filter(code=parsed["code"]).first() or Location()
        if location.pk and not errors and all(getattr(location, k) == v for k, v in parsed.items()):
            result.unchanged += 1
            continue
        for name, value in parsed.items():
            setattr(location, name, value)
        try:
            location.full_clean(exclude=[_LOCATION_FIELDS.get(c, c) for c in errors])
        except ValidationError as exc:
            columns = {v: k for k, v in _LOCATION_FIELDS.items()}
            errors = {columns.get(r.field, r.field): r.message for r in _rejections(row, exc)} | errors
        if errors:
            result.rejected += [RowRejection(row, f, m) for f, m in errors.items()]
            continue
        location.save()
        result.applied += 1
    return result


# --- catalogue -------------------------------------------------------------------------


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(";") if part.strip()]


def _sku_row_problems(values: dict, sku: Sku, channels: dict[str, Channel]) -> tuple[list, list, dict[str, str]]:
    """Check a catalogue row against the database; return its barcodes, aliases and problems."""
    problems: dict[str, list[str]] = {}
    barcodes = _split(values["barcodes"])
    for code in barcodes:
        try:
            validate_gtin(code)
        except ValidationError as exc:
            problems.setdefault("barcodes", []).extend(exc.messages)
    if len(set(barcodes)) != len(barcodes):
        problems.setdefault("barcodes", []).append("A barcode is listed twice.")
    taken = Barcode.objects.filter(code__in=barcodes).exclude(sku_id=sku.pk).select_related("sku")
    for barcode in taken:
        problems.setdefault("barcodes", []).append(f"{barcode.code} already belongs to SKU {barcode.sku.code}.")

    aliases = []
    for text in _split(values["aliases"]):
        channel_code, _, code = (part.strip() for part in text.partition(":"))
        if not code:
            problems.setdefault("aliases", []).append(f"{text!r} is not channel:code.")
        elif channel_code not in channels:
            problems.setdefault("aliases", []).append(f"Unknown channel {channel_code!r}.")
        elif len(code) > SkuAlias._meta.get_field("code").max_length:
            problems.setdefault("aliases", []).append(f"Alias {code!r} is too long.")
        else:
            aliases.append((channels[channel_code], code))
    for channel, code in aliases:
        owner = SkuAlias.objects.filter(channel=channel, code=code).exclude(sku_id=sku.pk).select_related("sku").first()
        if owner is not None:
            problems.setdefault("aliases", []).append(f"{channel.code}:{code} is already used by SKU {owner.sku.code}.")
    return barcodes, aliases, {f: " ".join(m) for f, m in problems.items()}


def skus_import(*, records: Iterable[Sequence[str]], first_row: int = 2) -> ImportResult:
    """Create or update SKUs from rows of SKU_COLUMNS, adding the barcodes and aliases listed.

    Barcodes and aliases are only ever added here: a file that omits one does not take
    it away from the SKU, so a partial export from one system cannot unlink what stores
    scan. Removing them is an admin action.
    """
    result = ImportResult()
    channels = {c.code: c for c in Channel.objects.all()}
    for row, record in enumerate(records, first_row):
        values = record_fields(record, SKU_COLUMNS, row)
        if isinstance(values, RowRejection):
            result.rejected.append(values)
            continue
        sku = Sku.objects.filter(code=values["sku"]).first() or Sku(code=values["sku"])
        renamed = sku.name != values["name"]
        sku.name = values["name"]
        problems = {}
        try:
            sku.full_clean(validate_unique=False)
        except ValidationError as exc:
            problems = {"sku" if r.field == "code" else r.field: r.message for r in _rejections(row, exc)}
        barcodes, aliases, more = _sku_row_problems(values, sku, channels)
        problems |= more
        if problems:
            result.rejected += [RowRejection(row, f, m) for f, m in problems.items()]
            continue
        # Validated above; the savepoint keeps the row whole if a concurrent writer wins a code.
        with transaction.atomic():
            created = sku.pk is None
            if created or renamed:
                sku.save()
            new_barcodes = Barcode.objects.bulk_create(
                [Barcode(code=c, sku=sku) for c in barcodes if not Barcode.objects.filter(code=c).exists()]
            )
            new_aliases = [
                SkuAlias(channel=ch, code=c, sku=sku)
                for ch, c in aliases
                if not SkuAlias.objects.filter(channel=ch, code=c).exists()
            ]
            SkuAlias.objects.bulk_create(new_aliases)
        if created or renamed or new_barcodes or new_aliases:
            result.applied += 1
        else:
            result.unchanged += 1
    return result
