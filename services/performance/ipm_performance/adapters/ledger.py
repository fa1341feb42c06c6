"""Storage of many ledger series at once: postings, period balances and forecasts, in a few statements each.

A unit of work hands in everything that one fetch of events carries, so each step reads or writes
all series together instead of one statement per event. On SQLite every statement costs a round
trip to the driver's thread, which is what these functions save.
"""

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, delete, false, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_common.events import ActualsPosted, ForecastRerolled
from ipm_common.periods import PeriodKey
from ipm_performance.adapters import tables
from ipm_performance.adapters.statements import insert_many_missing, upsert_many

SeriesId = tuple[str, str, str]
"""Entity, account and cost centre (the empty string when none) of one ledger series."""

BalanceKey = tuple[str, str, str, str]
"""A series and the text of one of its periods."""


def series_of(data: ActualsPosted | ForecastRerolled) -> SeriesId:
    """Return the series that an event of actuals or forecasts is about."""
    return data.entity_id, data.account_id, data.cost_centre or ""


@dataclass(frozen=True)
class StoredForecast:
    origin: PeriodKey
    version: int
    ledger_version: int


def series_condition(table: Table, series: Collection[SeriesId]) -> ColumnElement[bool]:
    """Match exactly ``series`` in a table keyed by entity, account and cost centre, using its primary key."""
    accounts: dict[tuple[str, str], set[str]] = defaultdict(set)
    for entity_id, account_id, cost_centre in series:
        accounts[(entity_id, cost_centre)].add(account_id)
    if not accounts:
        return false()
    # Grouping by entity and cost centre keeps the condition exact, because a plain IN per column
    # would also match the cross product of the series' parts.
    return or_(*(and_(table.c.entity_id == entity_id, table.c.cost_centre == cost_centre,
                      table.c.account_id.in_(sorted(names)))
                 for (entity_id, cost_centre), names in sorted(accounts.items())))


# --- postings ----------------------------------------------------------------------------------


# One fetch may carry many thousand postings, and PostgreSQL takes at most 32,767 parameters per statement.
POSTINGS_PER_QUERY = 1000


async def known_postings(connection: AsyncConnection, source_ids: Collection[str]) -> set[str]:
    """Return which of ``source_ids`` are stored already."""
    ordered = sorted(source_ids)
    known: set[str] = set()
    for start in range(0, len(ordered), POSTINGS_PER_QUERY):
        rows = await connection.execute(select(tables.postings.c.source_id).where(
            tables.postings.c.source_id.in_(ordered[start:start + POSTINGS_PER_QUERY])))
        known.update(rows.scalars())
    return known


async def insert_postings(connection: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> None:
    # During a rebalance another consumer instance may store the same posting first, and its copy is the same.
    await insert_many_missing(connection, tables.postings, rows)


# --- balances ----------------------------------------------------------------------------------


async def balance_versions(connection: AsyncConnection, keys: Collection[BalanceKey]) -> dict[BalanceKey, int]:
    """Return the stored ledger version of each of ``keys`` that has a balance; only those periods are read."""
    if not keys:
        return {}
    table = tables.balances
    series = {key[:3] for key in keys}
    periods = sorted({key[3] for key in keys})
    rows = await connection.execute(select(
        table.c.entity_id, table.c.account_id, table.c.cost_centre, table.c.period, table.c.ledger_version,
    ).where(series_condition(table, series), table.c.period.in_(periods)))
    wanted = set(keys)
    found = {(row.entity_id, row.account_id, row.cost_centre, row.period): row.ledger_version for row in rows}
    return {key: version for key, version in found.items() if key in wanted}


async def save_balances(connection: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert or replace period balances. The caller has checked that each one is newer than the stored one."""
    await upsert_many(connection, tables.balances, rows)


async def series_ledger_versions(connection: AsyncConnection, series: Collection[SeriesId]) -> dict[SeriesId, int]:
    """Return the newest ledger version among each series' stored balances, 0 for a series without any."""
    found = dict.fromkeys(series, 0)
    if not series:
        return found
    table = tables.balances
    rows = await connection.execute(select(
        table.c.entity_id, table.c.account_id, table.c.cost_centre, func.max(table.c.ledger_version),
    ).where(series_condition(table, series)).group_by(table.c.entity_id, table.c.account_id, table.c.cost_centre))
    for entity_id, account_id, cost_centre, version in rows:
        found[(entity_id, account_id, cost_centre)] = int(version or 0)
    return found


# --- forecasts ---------------------------------------------------------------------------------


async def stored_forecasts(connection: AsyncConnection, series: Collection[SeriesId]) -> dict[SeriesId, StoredForecast]:
    """Return the stored forecast of each of ``series`` that has one."""
    if not series:
        return {}
    table = tables.forecasts
    rows = await connection.execute(select(
        table.c.entity_id, table.c.account_id, table.c.cost_centre, table.c.origin, table.c.version,
        table.c.ledger_version,
    ).where(series_condition(table, series)))
    return {(row.entity_id, row.account_id, row.cost_centre): StoredForecast(
        PeriodKey.parse(row.origin), row.version, row.ledger_version) for row in rows}


async def replace_forecasts(connection: AsyncConnection, forecasts: Sequence[Mapping[str, Any]],
                            points: Iterable[Mapping[str, Any]]) -> None:
    """Replace the forecast and all points of each series in ``forecasts`` with the given rows."""
    if not forecasts:
        return
    series = {(row["entity_id"], row["account_id"], row["cost_centre"]) for row in forecasts}
    await connection.execute(delete(tables.forecasts).where(series_condition(tables.forecasts, series)))
    await connection.execute(delete(tables.forecast_points).where(series_condition(tables.forecast_points, series)))
    await connection.execute(insert(tables.forecasts), [dict(row) for row in forecasts])

    point_rows = [dict(row) for row in points]
    if point_rows:
        await connection.execute(insert(tables.forecast_points), point_rows)


async def latest_origins(connection: AsyncConnection) -> dict[str, PeriodKey]:
    """Return, per entity, the latest origin among its series' forecasts."""
    table = tables.forecasts
    # Period keys are fixed-width text, so the text maximum is the latest period.
    rows = await connection.execute(select(table.c.entity_id, func.max(table.c.origin)).group_by(table.c.entity_id))
    return {entity_id: PeriodKey.parse(origin) for entity_id, origin in rows}


async def latest_origin(connection: AsyncConnection, entity_id: str) -> PeriodKey | None:
    """Return the latest origin among the entity's forecasts, None when it has none."""
    table = tables.forecasts
    origin = (await connection.execute(select(func.max(table.c.origin)).where(
        table.c.entity_id == entity_id))).scalar()
    return PeriodKey.parse(origin) if origin is not None else None
