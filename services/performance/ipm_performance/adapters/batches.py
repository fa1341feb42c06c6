"""Storage of the batch barrier: how many series of an ERP batch were re-rolled, and what the batch touched."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_performance.adapters import tables
from ipm_performance.adapters.statements import insert_missing

SeriesId = tuple[str, str, str]
"""Entity, account and cost centre (the empty string when none) of one ledger series."""


@dataclass(frozen=True)
class BatchScope:
    """The footprint of one batch at one entity: fiscal years, re-rolled series and alert changes so far."""

    entity_id: str
    fiscal_years: tuple[int, ...]
    series: int
    alerts_changed: int


async def note_batch(connection: AsyncConnection, batch_id: str, series_count: int, entity_id: str,
                     fiscal_years: Iterable[int], now: datetime) -> None:
    """Record the batch, the entity and the fiscal years that one of its events touched."""
    await insert_missing(connection, tables.batches, {
        "batch_id": batch_id, "series_count": series_count, "forecasts_received": 0, "created_at": now,
        "evaluated_at": None})
    await insert_missing(connection, tables.batch_entities, {
        "batch_id": batch_id, "entity_id": entity_id, "alerts_changed": 0})
    for fiscal_year in sorted(set(fiscal_years)):
        await insert_missing(connection, tables.batch_years, {
            "batch_id": batch_id, "entity_id": entity_id, "fiscal_year": fiscal_year})


async def count_series(connection: AsyncConnection, batch_id: str, series: SeriesId, ledger_version: int,
                       waiting_for_actuals: bool) -> None:
    """Count a re-rolled series towards its batch, once per series, noting whether it waits for actuals."""
    entity_id, account_id, cost_centre = series
    is_new = await insert_missing(connection, tables.batch_series, {
        "batch_id": batch_id, "entity_id": entity_id, "account_id": account_id, "cost_centre": cost_centre,
        "ledger_version": ledger_version, "waiting_for_actuals": waiting_for_actuals})
    if is_new:
        await connection.execute(update(tables.batches).where(tables.batches.c.batch_id == batch_id).values(
            forecasts_received=tables.batches.c.forecasts_received + 1))


async def release_waiting_series(connection: AsyncConnection, series: SeriesId, ledger_version: int) -> list[str]:
    """Stop the series waiting wherever its forecast needs at most ``ledger_version``; return those batches."""
    table = tables.batch_series
    entity_id, account_id, cost_centre = series
    waiting = (table.c.entity_id == entity_id, table.c.account_id == account_id,
               table.c.cost_centre == cost_centre, table.c.waiting_for_actuals.is_(True),
               table.c.ledger_version <= ledger_version)
    batch_ids = sorted((await connection.execute(select(table.c.batch_id).where(*waiting))).scalars())
    if batch_ids:
        await connection.execute(update(table).where(*waiting).values(waiting_for_actuals=False))
    return batch_ids


async def claim_evaluation(connection: AsyncConnection, batch_id: str, now: datetime) -> bool:
    """Mark a batch evaluated once all its series were re-rolled and none waits for actuals.

    Returns True only to the one caller whose update marked it.
    """
    batches = tables.batches
    series = tables.batch_series
    waiting = exists().where(series.c.batch_id == batch_id, series.c.waiting_for_actuals.is_(True))
    result = await connection.execute(update(batches).where(
        batches.c.batch_id == batch_id,
        batches.c.evaluated_at.is_(None),
        batches.c.forecasts_received >= batches.c.series_count,
        ~waiting,
    ).values(evaluated_at=now))
    return bool(result.rowcount)


async def is_evaluated(connection: AsyncConnection, batch_id: str) -> bool:
    evaluated_at = (await connection.execute(select(tables.batches.c.evaluated_at).where(
        tables.batches.c.batch_id == batch_id))).scalar()
    return evaluated_at is not None


async def add_alert_changes(connection: AsyncConnection, batch_id: str, entity_id: str, count: int) -> None:
    if count == 0:
        return
    table = tables.batch_entities
    await connection.execute(update(table).where(table.c.batch_id == batch_id, table.c.entity_id == entity_id)
                             .values(alerts_changed=table.c.alerts_changed + count))


async def batch_scopes(connection: AsyncConnection, batch_id: str) -> list[BatchScope]:
    """List, per entity of the batch, what the batch touched."""
    years: dict[str, list[int]] = {}
    for row in (await connection.execute(select(tables.batch_years).where(
            tables.batch_years.c.batch_id == batch_id).order_by(tables.batch_years.c.fiscal_year))).all():
        years.setdefault(row.entity_id, []).append(row.fiscal_year)

    series_table = tables.batch_series
    series: dict[str, int] = dict((await connection.execute(select(series_table.c.entity_id, func.count()).where(
        series_table.c.batch_id == batch_id).group_by(series_table.c.entity_id))).all())

    entities = (await connection.execute(select(tables.batch_entities).where(
        tables.batch_entities.c.batch_id == batch_id).order_by(tables.batch_entities.c.entity_id))).all()
    return [BatchScope(row.entity_id, tuple(years.get(row.entity_id, ())), series.get(row.entity_id, 0),
                       row.alerts_changed) for row in entities]
