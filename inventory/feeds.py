"""Bulk feeds from the retailer's other systems: locations, the catalogue and stock.

Every feed takes records as received (lists of field values, one per row of the file
or request) and applies each row fully or not at all. A rejected row is reported with
its row number and the field at fault and changes nothing; the valid rows apply. Row
numbers count the header as row 1, as a spreadsheet shows them. Rows apply in file
order, so a later row for the same thing sees what the earlier one did.
"""

from __future__ import annotations

import csv
import io
import math
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from typing import TYPE_CHECKING

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import connection, connections, transaction
from django.utils import timezone
from psycopg2.errors import UniqueViolation

from .exceptions import InvalidInput
from .models import Barcode, Channel, Location, Sku, SkuAlias, StockLevel, StockMovement, validate_gtin
from .quantities import on_hand_problem, quantity_problem

LOCATION_COLUMNS = (
    "code", "name", "kind", "lat", "lon", "address", "city", "postcode", "country",
    "ships", "pickup", "returns", "daily_capacity", "priority",
)  # fmt: skip
SKU_COLUMNS = ("sku", "name", "barcodes", "aliases")
STOCK_COLUMNS = {"snapshot": ("location", "sku", "on_hand"), "delta": ("location", "sku", "delta")}
STOCK_CHUNK_ROWS = 50_000

if TYPE_CHECKING:
    from .models import LocationCredential


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


def _fields(record: Sequence, columns: Sequence[str], row: int) -> dict | RowRejection:
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
        values = _fields(record, LOCATION_COLUMNS, row)
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
        values = _fields(record, SKU_COLUMNS, row)
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


# --- stock -----------------------------------------------------------------------------

Pair = tuple[int, int]  # (sku id, location id)


def _batches(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


class _Codes:
    """Ids of location and SKU codes (a SKU by its code or a barcode), each looked up once."""

    def __init__(self):
        self.locations: dict[str, int | None] = {}
        self.skus: dict[str, int | None] = {}

    def learn(self, location_codes: set[str], sku_codes: set[str]) -> None:
        # Batches keep each IN list within SQLite's limit on query parameters.
        for batch in _batches(location_codes - self.locations.keys(), 900):
            self.locations |= dict.fromkeys(batch)
            self.locations |= dict(Location.objects.filter(code__in=batch).values_list("code", "id"))
        for batch in _batches(sku_codes - self.skus.keys(), 900):
            self.skus |= dict.fromkeys(batch)
            self.skus |= dict(Barcode.objects.filter(code__in=batch).values_list("code", "sku_id"))
            self.skus |= dict(Sku.objects.filter(code__in=batch).values_list("code", "id"))


def _quantity(value) -> int | None:
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return value if type(value) is int else None


class _LevelsAppeared(Exception):
    """Another writer created a stock level this chunk meant to create; the chunk is redone."""


class _OrmStock:
    """Stock levels through the ORM, for SQLite: its one writer at a time makes locks unnecessary."""

    def existing(self, pairs: Iterable[Pair]) -> dict[Pair, list[int]]:
        """Read the levels that exist for ``pairs`` as [id, on_hand, reserved]."""
        by_location: dict[int, list[int]] = {}
        for sku_id, location_id in pairs:
            by_location.setdefault(location_id, []).append(sku_id)
        found = {}
        for location_id, sku_ids in by_location.items():
            for batch in _batches(sku_ids, 900):
                rows = StockLevel.objects.filter(location_id=location_id, sku_id__in=batch)
                for pk, sku_id, on_hand, reserved in rows.values_list("id", "sku_id", "on_hand", "reserved"):
                    found[(sku_id, location_id)] = [pk, on_hand, reserved]
        return found

    def create(self, on_hand: dict[Pair, int]) -> dict[Pair, int]:
        """Create levels with their on-hand; return the id of each."""
        levels = StockLevel.objects.bulk_create(
            [StockLevel(sku_id=s, location_id=loc, on_hand=q) for (s, loc), q in on_hand.items()], batch_size=500
        )
        return {(lv.sku_id, lv.location_id): lv.pk for lv in levels}

    def write(self, on_hand: dict[int, int], changes: list[tuple[int, int]], movement: dict) -> None:
        """Set the on-hand of existing levels by id and log each change (level id, delta) in order."""
        StockLevel.objects.bulk_update(
            [StockLevel(pk=pk, on_hand=q) for pk, q in on_hand.items()], ["on_hand"], batch_size=500
        )
        StockMovement.objects.bulk_create(
            (StockMovement(stock_level_id=pk, on_hand_delta=delta, **movement) for pk, delta in changes),
            batch_size=500,
        )


def _copy_field(value) -> str:
    """``value`` as one field of COPY's text format."""
    if value is None:
        return r"\N"
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


class _PostgresStock:
    """Stock levels and ledger rows written with COPY, existing levels changed by one set-based UPDATE.

    COPY straight into the tables inserts rows a page at a time, which is what makes a
    million-row feed fast; the temporary tables carry only what a join needs. Existing
    levels are locked in primary-key order before they are read, like every other stock
    writer, so a reservation arriving mid-chunk waits for the chunk and the decisions
    taken on the values read stay true until commit.
    """

    levels = StockLevel._meta.db_table
    movements = StockMovement._meta.db_table

    @staticmethod
    def _copy(cursor, table: str, columns: str, lines: Iterable[str]) -> None:
        cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", io.StringIO("".join(lines)))

    def _scratch(self, cursor, table: str, columns: str, lines: Iterable[str]) -> None:
        """Fill this connection's temporary ``table`` with ``lines``."""
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table} ({columns}) ON COMMIT DELETE ROWS")
        # Rows outlive the chunk when an outer transaction is open (as in tests).
        cursor.execute(f"TRUNCATE {table}")
        self._copy(cursor, table, ", ".join(c.split()[0] for c in columns.split(",")), lines)

    def existing(self, pairs):
        with connection.cursor() as cursor:
            self._scratch(
                cursor, "stock_feed_pairs", "sku_id bigint, location_id bigint", (f"{s}\t{loc}\n" for s, loc in pairs)
            )
            cursor.execute(
                f"SELECT s.id, s.sku_id, s.location_id, s.on_hand, s.reserved FROM {self.levels} s"
                " JOIN stock_feed_pairs p ON p.sku_id = s.sku_id AND p.location_id = s.location_id"
                " ORDER BY s.id FOR UPDATE OF s"
            )
            return {(s, loc): [pk, on_hand, reserved] for pk, s, loc, on_hand, reserved in cursor.fetchall()}

    def create(self, on_hand):
        """Create the levels; raise _LevelsAppeared when another writer created one of them first.

        Levels are inserted in (sku, location) order, as every writer creates them, so two
        writers creating the same levels wait for each other instead of deadlocking.
        """
        pairs = sorted(on_hand)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [self.levels, len(pairs)],
            )
            ids = {pair: pk for pair, (pk,) in zip(pairs, cursor.fetchall(), strict=True)}
            try:
                self._copy(
                    cursor,
                    self.levels,
                    "id, sku_id, location_id, on_hand, reserved",
                    (f"{ids[p]}\t{p[0]}\t{p[1]}\t{on_hand[p]}\t0\n" for p in pairs),
                )
            except UniqueViolation as exc:
                raise _LevelsAppeared from exc
        return ids

    def write(self, on_hand, changes, movement):
        with connection.cursor() as cursor:
            if on_hand:
                self._scratch(
                    cursor,
                    "stock_feed_levels",
                    "id bigint, on_hand integer",
                    (f"{pk}\t{q}\n" for pk, q in on_hand.items()),
                )
                # The id list lets the planner fetch the rows through the primary key instead of
                # hashing the whole table to join a few thousand of them.
                cursor.execute(
                    f"UPDATE {self.levels} s SET on_hand = n.on_hand FROM stock_feed_levels n"
                    " WHERE s.id = n.id AND s.id = ANY(ARRAY(SELECT id FROM stock_feed_levels))"
                )
            who = (movement["actor_id"], movement["credential_id"])
            constants = (movement["kind"], 0, movement["reason"], movement["reference"], *who)
            tail = "\t".join(map(_copy_field, (*constants, timezone.now())))
            self._copy(
                cursor,
                self.movements,
                "stock_level_id, on_hand_delta, kind, reserved_delta, reason, reference, actor_id, credential_id,"
                " created_at",
                (f"{pk}\t{delta}\t{tail}\n" for pk, delta in changes),
            )


def _stock_store() -> _OrmStock | _PostgresStock:
    return _PostgresStock() if connection.vendor == "postgresql" else _OrmStock()


def _valid_stock_rows(
    chunk: list[tuple[int, Sequence]], mode: str, codes: _Codes, result: ImportResult
) -> list[tuple[int, Pair, int]]:
    """Resolve codes and quantities of one chunk; reject rows whose fields are at fault."""
    columns = STOCK_COLUMNS[mode]
    quantity_field = columns[2]
    shaped = []
    for row, record in chunk:
        if len(record) == 3:
            location_code, sku_code, quantity = record
            shaped.append((row, str(location_code).strip(), str(sku_code).strip(), quantity))
        else:
            result.rejected.append(_fields(record, columns, row))
    codes.learn({r[1] for r in shaped}, {r[2] for r in shaped})
    valid = []
    for row, location_code, sku_code, text in shaped:
        location_id = codes.locations[location_code]
        sku_id = codes.skus[sku_code]
        quantity = _quantity(text)
        if location_id is None:
            result.rejected.append(RowRejection(row, "location", f"unknown location {location_code!r}"))
        elif sku_id is None:
            result.rejected.append(RowRejection(row, "sku", f"unknown SKU or barcode {sku_code!r}"))
        elif quantity is None:
            result.rejected.append(RowRejection(row, quantity_field, f"{text!r} is not a whole number"))
        elif mode == "snapshot" and quantity < 0:
            result.rejected.append(RowRejection(row, quantity_field, f"{quantity} is negative"))
        elif problem := quantity_problem(quantity, signed=True):
            result.rejected.append(RowRejection(row, quantity_field, problem))
        else:
            valid.append((row, (sku_id, location_id), quantity))
    return valid


@dataclass
class _ChunkOutcome:
    changes: list[tuple[Pair, int]] = field(default_factory=list)
    unchanged: int = 0
    rejected: list[RowRejection] = field(default_factory=list)


def _decide(rows: list[tuple[int, Pair, int]], levels: dict[Pair, list[int]], mode: str, name) -> _ChunkOutcome:
    """Apply rows in file order to the levels' [id, on_hand, reserved]; say what each row does."""
    outcome = _ChunkOutcome()
    quantity_field = STOCK_COLUMNS[mode][2]
    for row, pair, quantity in rows:
        level = levels[pair]
        on_hand, reserved = level[1], level[2]
        target = quantity if mode == "snapshot" else on_hand + quantity
        if target == on_hand:
            outcome.unchanged += 1
        elif target < 0:
            outcome.rejected.append(
                RowRejection(row, "delta", f"{name(pair)}: {on_hand} on hand; taking {-quantity} would go below zero")
            )
        elif problem := on_hand_problem(target):
            outcome.rejected.append(RowRejection(row, quantity_field, f"{name(pair)}: {problem}"))
        elif target < reserved:
            outcome.rejected.append(
                RowRejection(
                    row,
                    quantity_field,
                    f"{name(pair)}: {target} on hand would be below the {reserved} reserved; "
                    "reservations are kept, release or re-route them first",
                )
            )
        else:
            level[1] = target
            outcome.changes.append((pair, target - on_hand))
    return outcome


def _apply_chunk(store: _OrmStock | _PostgresStock, rows: list[tuple[int, Pair, int]], mode: str, name, movement: dict):
    """Decide and write one chunk in the caller's transaction."""
    pairs = {pair for _, pair, _ in rows}
    levels = store.existing(pairs)
    fresh = {pair: [None, 0, 0] for pair in pairs - levels.keys()}
    outcome = _decide(rows, levels | fresh, mode, name)
    touched = {pair for pair, _ in outcome.changes}
    wanted = {pair: level[1] for pair, level in fresh.items() if pair in touched}
    ids = {pair: level[0] for pair, level in levels.items()} | (store.create(wanted) if wanted else {})
    store.write(
        {levels[pair][0]: levels[pair][1] for pair in touched - fresh.keys()},
        [(ids[pair], delta) for pair, delta in outcome.changes],
        movement,
    )
    return outcome


def _apply_chunk_alone(store, rows, mode, name, movement) -> _ChunkOutcome:
    """Apply one chunk as a transaction of its own, redone when another writer created one of its levels."""
    while True:
        try:
            with transaction.atomic():
                return _apply_chunk(store, rows, mode, name, movement)
        except _LevelsAppeared:
            continue


class _Lanes:
    """Run chunk tasks in this thread, or over ``count`` threads with a database connection each.

    A lane is one thread and runs its tasks in the order given, so rows sent to the same
    lane keep their order. At most two tasks a lane wait or run at a time: the caller
    reads ahead while the database writes, without holding the whole file in memory.
    ``done`` receives each task's result in the order the tasks were given.
    """

    def __init__(self, count: int, done: Callable[[_ChunkOutcome, int], None]):
        self.done = done
        self.pools = [ThreadPoolExecutor(1, f"stock-feed-{lane}") for lane in range(count)] if count > 1 else []
        self.queued: deque[tuple[Future, int]] = deque()

    def __len__(self) -> int:
        return max(len(self.pools), 1)

    def submit(self, lane: int, task: Callable[[], _ChunkOutcome], rows: int) -> None:
        if not self.pools:
            self.done(task(), rows)
            return
        self.queued.append((self.pools[lane].submit(task), rows))
        while self.queued and (len(self.queued) > 2 * len(self.pools) or self.queued[0][0].done()):
            self._finish_oldest()

    def _finish_oldest(self) -> None:
        future, rows = self.queued.popleft()
        self.done(future.result(), rows)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            while self.queued and exc_type is None:
                self._finish_oldest()
        finally:
            for future, _ in self.queued:
                future.cancel()
            for pool in self.pools:
                pool.submit(connections.close_all)
                pool.shutdown()


def stock_feed_apply(
    *,
    rows: Iterable[Sequence],
    mode: str,
    reference: str,
    actor: AbstractBaseUser | None = None,
    credential: LocationCredential | None = None,
    first_row: int = 2,
    chunk_rows: int = STOCK_CHUNK_ROWS,
    progress: Callable[[int], None] | None = None,
    writers: int = 1,
) -> ImportResult:
    """Set (``snapshot``) or change (``delta``) on-hand from rows of (location, sku, quantity).

    A SKU may be named by its code or a barcode. Each changed row writes one ``feed``
    movement to the ledger, naming the ``actor`` or the location system's ``credential``
    that sent it; a row that changes nothing writes none. On-hand never drops
    below what is reserved or below zero: such a row is rejected and the reservations
    stay. Each chunk of rows is one transaction, so a million-row file holds its row
    locks for a moment at a time rather than for the whole import.

    With ``writers`` above one on PostgreSQL, outside any transaction, chunks are written
    over that many connections at once; every row of one location goes through the same
    connection, so the rows for one stock level still apply in file order.
    """
    if mode not in STOCK_COLUMNS:
        raise InvalidInput(f"Unknown feed mode {mode!r}.", errors={"mode": ["Use snapshot or delta."]})
    result = ImportResult()
    codes = _Codes()
    store = _stock_store()
    movement = {
        "kind": StockMovement.Kind.FEED,
        "reason": mode,
        "reference": reference[: StockMovement._meta.get_field("reference").max_length],
        "actor_id": actor.pk if actor is not None else None,
        "credential_id": credential.pk if credential is not None else None,
    }

    def done(outcome: _ChunkOutcome, rows: int) -> None:
        result.applied += len(outcome.changes)
        result.unchanged += outcome.unchanged
        result.rejected += outcome.rejected
        if progress is not None:
            progress(rows)

    parallel = writers > 1 and connection.vendor == "postgresql" and not connection.in_atomic_block
    with _Lanes(writers if parallel else 1, done) as lanes:
        for chunk in _batches(((row, r) for row, r in enumerate(rows, first_row) if r), chunk_rows):
            valid = _valid_stock_rows(chunk, mode, codes, result)
            name = _namer(codes)
            parts = [[] for _ in range(len(lanes))]
            for item in valid:
                parts[item[1][1] % len(parts)].append(item)
            done(_ChunkOutcome(), len(chunk) - len(valid))
            for lane, part in enumerate(parts):
                if part:
                    lanes.submit(lane, partial(_apply_chunk_alone, store, part, mode, name, movement), len(part))
    result.rejected.sort(key=lambda r: r.row)
    return result


def _namer(codes: _Codes) -> Callable[[Pair], str]:
    """Name a (sku id, location id) pair by the codes the file used, for messages."""
    locations = {v: k for k, v in codes.locations.items() if v is not None}
    skus = {v: k for k, v in codes.skus.items() if v is not None}
    return lambda pair: f"{skus[pair[0]]}@{locations[pair[1]]}"
