"""Inbound supply: goods suppliers have announced for a location, and their receipt.

A document (a purchase order or an advance shipping notice) names a location, the day the
goods are expected and a quantity per SKU. Receiving books the units into on hand through
``stock_receive`` — the one way stock arrives, which writes the ledger — and counts them
against the lines; more than announced is taken and reported, since the goods are there.
Every change checks all of its input before it writes anything, in one transaction.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core.errors import Conflict, InvalidInput

from .credentials import stock_write_refusal
from .feeds import ImportResult, RowRejection, record_fields
from .models import InboundLine, InboundSupply, Location, LocationCredential, Sku, StockMovement
from .ports import stock_rises_collected, supply_changed
from .quantities import COLUMN_MAX, quantity_problem
from .selectors import skus_resolve
from .services import stock_receive

logger = logging.getLogger(__name__)

INBOUND_COLUMNS = ("reference", "location", "sku", "quantity", "expected_on")
RECEIPT_PREFIX = "inbound:"
# The ledger's reference of a receipt is RECEIPT_PREFIX + the document's, and must fit its column.
REFERENCE_MAX = StockMovement._meta.get_field("reference").max_length - len(RECEIPT_PREFIX)

Actor = AbstractBaseUser | None
Line = tuple[str, int]  # a SKU code or barcode, and a number of units
Status = InboundSupply.Status


def _refuse(errors: dict[str, list[str]]) -> None:
    if errors:
        raise InvalidInput(" ".join(m for ms in errors.values() for m in ms), errors=errors)


def _units_problem(quantity: object) -> str | None:
    if type(quantity) is int and quantity <= 0:
        return "Enter a whole number of units above zero."
    return quantity_problem(quantity)


def _reference_problem(reference: object) -> str | None:
    if not isinstance(reference, str):
        return "Enter a reference."
    if len(reference) > REFERENCE_MAX:
        return f"Use at most {REFERENCE_MAX} characters."
    try:
        InboundSupply._meta.get_field("reference").clean(reference, None)
    except ValidationError as exc:
        return " ".join(exc.messages)
    return None


def _new_date_problem(expected_on: object) -> str | None:
    """What is wrong with the expected date of a new document or line."""
    if not isinstance(expected_on, date) or isinstance(expected_on, datetime):
        return "Enter a date."
    if expected_on < timezone.localdate():
        return f"{expected_on.isoformat()} is in the past; supply still to come is expected today or later."
    return None


def _location(code: object) -> tuple[Location | None, str | None]:
    """The active location ``code`` names, or what is wrong with it."""
    location = Location.objects.filter(code=code).first() if isinstance(code, str) else None
    if location is None:
        return None, f"Unknown location {code!r}."
    if not location.active:
        return None, f"Location {location.code} is inactive; supply cannot be announced for it."
    return location, None


def _inactive(sku: Sku) -> str:
    return f"SKU {sku.code} is inactive; supply cannot be announced for it."


def _settle(supply: InboundSupply) -> None:
    """After a change to its lines: received once every line is in full, open again if one is not."""
    if supply.status != Status.CLOSED:
        full = not supply.lines.filter(received__lt=F("quantity")).exists()
        supply.status = Status.RECEIVED if full else Status.OPEN
    supply.save(update_fields=["status", "updated_at"])


@transaction.atomic
def inbound_create(
    *,
    reference: str,
    location: str,
    expected_on: date,
    lines: Sequence[Line],
    actor: Actor = None,
    credential: LocationCredential | None = None,
) -> InboundSupply:
    """Announce supply for ``location`` (its code): ``lines`` of SKU code or barcode and quantity.

    A location system (``credential``) announces supply only for its own locations; the
    caller has checked that an ``actor`` may.
    """
    if credential is not None:
        stock_write_refusal(credential=credential, location_codes=[str(location)])
    errors: dict[str, list[str]] = {}
    if problem := _reference_problem(reference):
        errors["reference"] = [problem]
    place, problem = _location(location)
    if problem:
        errors["location"] = [problem]
    if problem := _new_date_problem(expected_on):
        errors["expected_on"] = [problem]
    if not lines:
        errors["lines"] = ["List at least one line."]
    skus = skus_resolve(codes=[code for code, _ in lines if isinstance(code, str)])
    seen: set[int] = set()
    for i, (code, quantity) in enumerate(lines):
        sku = skus.get(code.strip()) if isinstance(code, str) else None
        if sku is None:
            errors[f"lines[{i}].sku"] = [f"Unknown SKU {code!r}."]
        elif not sku.active:
            errors[f"lines[{i}].sku"] = [_inactive(sku)]
        elif sku.pk in seen:
            errors[f"lines[{i}].sku"] = [f"SKU {sku.code} is listed twice."]
        else:
            seen.add(sku.pk)
        if problem := _units_problem(quantity):
            errors[f"lines[{i}].quantity"] = [problem]
    _refuse(errors)
    taken = Conflict(f"Inbound supply {reference} already exists.", errors={"reference": ["Already exists."]})
    if InboundSupply.objects.filter(reference=reference).exists():
        raise taken
    try:
        with transaction.atomic():
            supply = InboundSupply.objects.create(reference=reference, location=place, expected_on=expected_on)
    except IntegrityError as exc:  # created by a concurrent request since the look-up
        raise taken from exc
    InboundLine.objects.bulk_create(
        [InboundLine(supply=supply, sku=skus[code.strip()], quantity=quantity) for code, quantity in lines]
    )
    logger.info("inbound supply %s announced for %s by %s", reference, place.code, actor or "a system")
    supply_changed(seen)
    return supply


@transaction.atomic
@stock_rises_collected()  # every row raised first, then the waiting orders take from them
def inbound_receive(
    *,
    supply: InboundSupply,
    lines: Sequence[Line],
    actor: Actor = None,
    credential: LocationCredential | None = None,
) -> dict[str, int]:
    """Book units that arrived against ``supply``; return the units beyond what was announced, per SKU code.

    The document's row is locked first, so receipts and imports of one document queue. A
    location system (``credential``) receives only at its own locations.
    """
    supply = InboundSupply.objects.select_for_update(of=("self",)).select_related("location").get(pk=supply.pk)
    if credential is not None:
        stock_write_refusal(credential=credential, location_codes=[supply.location.code])
    if supply.status == Status.CLOSED:
        raise Conflict(
            f"Inbound supply {supply.reference} is closed; it takes no receipts.",
            errors={"reference": ["Closed: nothing more is received against it."]},
        )
    on_document = {line.sku_id: line for line in supply.lines.select_related("sku")}
    skus = skus_resolve(codes=[code for code, _ in lines if isinstance(code, str)])
    errors: dict[str, list[str]] = {} if lines else {"lines": ["List at least one line."]}
    arrived: Counter[int] = Counter()
    for i, (code, quantity) in enumerate(lines):
        sku = skus.get(code.strip()) if isinstance(code, str) else None
        if sku is None:
            errors[f"lines[{i}].sku"] = [f"Unknown SKU {code!r}."]
        elif sku.pk not in on_document:
            errors[f"lines[{i}].sku"] = [f"SKU {sku.code} is not on inbound supply {supply.reference}."]
        if problem := _units_problem(quantity):
            errors[f"lines[{i}].quantity"] = [problem]
        elif sku is not None and sku.pk in on_document:
            arrived[sku.pk] += quantity
    for sku_id, quantity in arrived.items():
        if on_document[sku_id].received + quantity > COLUMN_MAX:
            errors["lines"] = [f"{on_document[sku_id].sku.code}: more units than a receipt can count."]
    _refuse(errors)
    over: dict[str, int] = {}
    for sku_id in sorted(arrived):  # stock rows in one order, so concurrent receipts cannot deadlock
        line, quantity = on_document[sku_id], arrived[sku_id]
        InboundLine.objects.filter(pk=line.pk).update(received=F("received") + quantity)
        stock_receive(
            sku=line.sku,
            location=supply.location,
            quantity=quantity,
            reference=f"{RECEIPT_PREFIX}{supply.reference}",
            actor=actor,
        )
        before, line.received = line.received, line.received + quantity
        extra = max(0, line.received - line.quantity) - max(0, before - line.quantity)
        if extra:
            over[line.sku.code] = extra
    _settle(supply)
    # Last, once the units arrived have gone to the orders waiting for them: what is still due moved.
    supply_changed(arrived)
    return over


@transaction.atomic
def inbound_close(*, supply: InboundSupply, actor: Actor = None) -> InboundSupply:
    """Close ``supply``: nothing more will come, so it takes no receipts and no longer counts as coming."""
    supply = InboundSupply.objects.select_for_update(of=("self",)).get(pk=supply.pk)
    if supply.status != Status.CLOSED:
        supply.status, supply.closed_at = Status.CLOSED, timezone.now()
        supply.save(update_fields=["status", "closed_at", "updated_at"])
        logger.info("inbound supply %s closed by %s", supply.reference, actor or "a system")
        supply_changed(set(supply.lines.values_list("sku_id", flat=True)))
    return supply


# --- import ----------------------------------------------------------------------------


def _parsed_row(values: dict[str, str]) -> tuple[dict, dict[str, str]]:
    """Turn a row's text into values; return them and the fields that are wrong on their own."""
    parsed, errors = {}, {}
    if problem := _reference_problem(values["reference"]):
        errors["reference"] = problem
    parsed["location"], problem = _location(values["location"])
    if problem:
        errors["location"] = problem
    sku = skus_resolve(codes=[values["sku"]]).get(values["sku"])
    if sku is None:
        errors["sku"] = f"Unknown SKU {values['sku']!r}."
    parsed["sku"] = sku
    try:
        parsed["quantity"] = int(values["quantity"])
    except ValueError:
        errors["quantity"] = f"{values['quantity']!r} is not a whole number"
    else:
        if problem := _units_problem(parsed["quantity"]):
            errors["quantity"] = problem
    try:
        parsed["expected_on"] = date.fromisoformat(values["expected_on"])
    except ValueError:
        errors["expected_on"] = f"{values['expected_on']!r} is not a date (YYYY-MM-DD)"
    return parsed, errors


def _import_row(values: dict[str, str], parsed: dict) -> dict[str, str] | bool:
    """Apply one valid row to its document (locked); return the problems, or whether anything changed."""
    reference, sku = values["reference"], parsed["sku"]
    supply = InboundSupply.objects.select_for_update(of=("self",)).filter(reference=reference).first()
    line = supply.lines.filter(sku=sku).first() if supply else None
    errors = {}
    if supply is not None and supply.status == Status.CLOSED:
        errors["reference"] = f"Inbound supply {reference} is closed."
    if supply is not None and supply.location_id != parsed["location"].pk:
        errors["location"] = f"Inbound supply {reference} is for location {supply.location.code}."
    if line is None and (problem := _new_date_problem(parsed["expected_on"])):
        errors["expected_on"] = problem
    if line is None and not sku.active:
        errors["sku"] = _inactive(sku)
    if line is not None and parsed["quantity"] < line.received:
        errors["quantity"] = f"{line.received} already received; the quantity cannot be less."
    if errors:
        return errors
    if supply is None:
        supply = InboundSupply(reference=reference, location=parsed["location"])
    elif line is not None and (supply.expected_on, line.quantity) == (parsed["expected_on"], parsed["quantity"]):
        return False
    if supply.pk is None or supply.expected_on != parsed["expected_on"]:
        supply.expected_on = parsed["expected_on"]
        supply.save()
    if line is None:
        InboundLine.objects.create(supply=supply, sku=sku, quantity=parsed["quantity"])
    else:
        InboundLine.objects.filter(pk=line.pk).update(quantity=parsed["quantity"])
    _settle(supply)
    return True


def _split_references(rows: list[tuple[int, dict | RowRejection]]) -> set[str]:
    """References whose rows in the file name more than one location: none of their rows can be trusted."""
    locations: dict[str, set[str]] = defaultdict(set)
    for _, values in rows:
        if isinstance(values, dict):
            locations[values["reference"]].add(values["location"])
    return {reference for reference, codes in locations.items() if len(codes) > 1}


def inbound_import(*, records: Iterable[Sequence[str]], first_row: int = 2) -> ImportResult:
    """Create or update inbound supply from rows of INBOUND_COLUMNS, one document line per row.

    A new reference or a new SKU on one is created; an existing line's quantity and the
    document's expected date are updated. Rows apply in file order, each fully or not at all.
    """
    rows: list[tuple[int, dict | RowRejection]] = []
    for row, record in enumerate(records, first_row):
        rows.append((row, record_fields(record, INBOUND_COLUMNS, row)))
    split = _split_references(rows)
    result = ImportResult()
    moved: set[str] = set()  # references the applied rows changed
    for row, values in rows:
        if isinstance(values, RowRejection):
            result.rejected.append(values)
            continue
        parsed, errors = _parsed_row(values)
        if values["reference"] in split:
            errors["location"] = f"Rows of {values['reference']} name different locations."
        outcome: dict[str, str] | bool = errors
        if not errors:
            try:
                with transaction.atomic():
                    outcome = _import_row(values, parsed)
            except IntegrityError:  # a concurrent writer created the reference or line first
                outcome = {"reference": "Changed by another import meanwhile; send the row again."}
        if isinstance(outcome, dict):
            result.rejected += [RowRejection(row, f, m) for f, m in outcome.items()]
        elif outcome:
            result.applied += 1
            moved.add(values["reference"])
        else:
            result.unchanged += 1
    # A document's new date moves every line on it, not only the rows' SKUs.
    supply_changed(set(InboundLine.objects.filter(supply__reference__in=moved).values_list("sku_id", flat=True)))
    return result
