"""Insert statements that resolve primary-key conflicts in the database, on SQLite and PostgreSQL alike.

Two consumers of the same group can write the same key at once, such as a parent line or a batch.
An ``ON CONFLICT`` clause settles that inside the statement instead of failing the transaction.
"""

from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

from sqlalchemy import Row, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

AnyRow: TypeAlias = Row[*tuple[Any, ...]]
"""A result row of any shape, as ``select(table)`` returns."""


def _insert(connection: AsyncConnection, table: Table) -> postgresql.Insert | sqlite.Insert:
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _key_columns(table: Table) -> list[str]:
    return [column.name for column in table.primary_key.columns]


async def insert_many_missing(connection: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert each of ``rows`` unless its primary key exists."""
    if not rows:
        return
    statement = _insert(connection, table).on_conflict_do_nothing(index_elements=_key_columns(table))
    await connection.execute(statement, [dict(row) for row in rows])


async def upsert_many(connection: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]],
                      keep: Sequence[str] = (), increments: Mapping[str, int] | None = None) -> None:
    """Insert ``rows``, or update the existing rows with the same primary key.

    Columns named in ``keep`` keep their stored value on update, and each column of
    ``increments`` adds its number to the stored value instead of taking the new one.
    """
    if not rows:
        return

    statement = _insert(connection, table)
    keys = set(_key_columns(table))
    updates: dict[str, ColumnElement[Any]] = {
        name: statement.excluded[name]
        for name in rows[0]
        if name not in keys and name not in keep and name not in (increments or {})
    }
    for name, step in (increments or {}).items():
        updates[name] = table.c[name] + step

    upsert = statement.on_conflict_do_update(index_elements=list(keys), set_=updates)
    await connection.execute(upsert, [dict(row) for row in rows])
