"""Hand-written SQL for the hot paths: IN lists, independent writes in one round trip, and
model instances inserted or updated without the ORM's query compiler.

The instance writers follow the models: columns, defaults (``pre_save``) and database
values (``get_db_prep_save``) come from the fields, exactly as ``save()`` would give
them; only the compiling is skipped, which cost more than the statement on every order.
None of the models written this way has signals or a ``save()`` of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache

from django.db import connection
from django.db.backends.utils import CursorWrapper
from django.db.models import Model

Statement = tuple[str, list]


def in_list(values: Sequence) -> str:
    """Placeholders for an IN list; the values themselves travel as parameters."""
    return ", ".join(["%s"] * len(values))


def send(cursor: CursorWrapper, statements: Sequence[Statement]) -> list[tuple]:
    """Run writes that do not depend on each other; return the last one's rows.

    PostgreSQL gets them in one round trip, all but the last as data-modifying WITH
    queries: they see the tables as they were before the statement, so no two of them may
    touch the same row. SQLite has no such queries and runs them one by one.
    """
    *first, (sql, params) = statements
    if first and cursor.db.vendor == "postgresql":
        sql = f"WITH {', '.join(f'w{n} AS ({s})' for n, (s, _) in enumerate(first))} {sql}"
        params = [value for _, values in first for value in values] + params
    else:
        for statement in first:
            cursor.execute(*statement)
    cursor.execute(sql, params)
    return cursor.fetchall() if cursor.description else []


@cache
def _insert_sql(model: type[Model], rows: int) -> tuple[str, tuple]:
    meta, quote = model._meta, connection.ops.quote_name
    fields = tuple(f for f in meta.concrete_fields if f is not meta.auto_field)  # the database numbers those
    row = f"({in_list(fields)})"
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)})"
        f" VALUES {', '.join([row] * rows)} RETURNING {quote(meta.pk.column)}"
    )
    return sql, fields


def insert_statement(objs: Sequence[Model]) -> Statement:
    """The INSERT of new instances of one model, returning their primary keys in order."""
    sql, fields = _insert_sql(type(objs[0]), len(objs))
    return sql, [f.get_db_prep_save(f.pre_save(obj, True), connection) for obj in objs for f in fields]


def rows_insert(objs: Sequence[Model], *, alongside: Sequence[Statement] = ()) -> None:
    """INSERT new instances of one model in one statement and give them their primary keys.

    ``alongside``: independent writes sent with it, in one round trip on PostgreSQL (``send``).
    """
    if not objs:
        return
    with connection.cursor() as cursor:
        ids = send(cursor, [*alongside, insert_statement(objs)])
    for obj, (pk,) in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding, obj._state.db = False, connection.alias


def update_statement(obj: Model, attnames: Iterable[str]) -> Statement | None:
    """The UPDATE of the given fields (by attribute name) of a saved instance, as ``save(update_fields=…)``
    writes them; None when there is nothing to write."""
    meta, quote = obj._meta, connection.ops.quote_name
    fields = [meta.get_field(name) for name in sorted(attnames)]
    if not fields:
        return None
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    params = [f.get_db_prep_save(f.pre_save(obj, False), connection) for f in fields]
    sql = f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s"
    return sql, [*params, obj.pk]
