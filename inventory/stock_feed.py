"""The stock feed: on-hand snapshots and deltas from the retailer's systems, a chunk of rows at a time.

Rows are checked and applied as ``inventory.feeds`` describes; on PostgreSQL the chunk's
levels and ledger rows are written with COPY (``inventory.sql.StockFeedCopy``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from itertools import islice
from typing import TYPE_CHECKING

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, connections, transaction

from core.errors import InvalidInput

from .feeds import ImportResult, RowRejection, record_fields
from .models import Barcode, Location, Sku, StockLevel, StockMovement
from .ports import stock_rose
from .quantities import on_hand_problem, quantity_problem
from .sql import LevelsAppeared, StockFeedCopy

STOCK_COLUMNS = {"snapshot": ("location", "sku", "on_hand"), "delta": ("location", "sku", "delta")}
STOCK_CHUNK_ROWS = 50_000

if TYPE_CHECKING:
    from .models import LocationCredential


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


def _stock_store() -> _OrmStock | StockFeedCopy:
    return StockFeedCopy() if connection.vendor == "postgresql" else _OrmStock()


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
            result.rejected.append(record_fields(record, columns, row))
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


def _apply_chunk(store: _OrmStock | StockFeedCopy, rows: list[tuple[int, Pair, int]], mode: str, name, movement: dict):
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
    stock_rose({pair for pair, delta in outcome.changes if delta > 0})
    return outcome


def _apply_chunk_alone(store, rows, mode, name, movement) -> _ChunkOutcome:
    """Apply one chunk as a transaction of its own, redone when another writer created one of its levels."""
    while True:
        try:
            with transaction.atomic():
                return _apply_chunk(store, rows, mode, name, movement)
        except LevelsAppeared:
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
