"""Storage of the batch barrier: how many forecasts of an ERP batch arrived, and what the batch touched.

Each function takes everything that one unit of work noted, so that a fetch of many events costs
a few statements rather than a few per event.
"""

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_performance.adapters import tables
from ipm_performance.adapters.ledger import SeriesId, series_condition
from ipm_performance.adapters.statements import insert_many_missing, upsert_many


@dataclass(frozen=True)
class BatchScope:
    """The footprint of one batch at one entity: fiscal years, re-rolled series and alert changes so far."""

    entity_id: str
    fiscal_years: tuple[int, ...]
    series: int
    alerts_changed: int


@dataclass(frozen=True)
class SeriesEntry:
    """A re-rolled forecast of a series counted towards its batch, with the ledger version it was built on."""

    batch_id: str
    series: SeriesId
    ledger_version: int
    waiting_for_actuals: bool


async def note_batches(connection: AsyncConnection, series_counts: Mapping[str, int],
                       entities: Iterable[tuple[str, str]], years: Iterable[tuple[str, str, int]],
                       now: datetime) -> None:
    """Record batches with their series counts, the entities and the (batch, entity, fiscal year) they touched."""
    await insert_many_missing(connection, tables.batches, [
        {"batch_id": batch_id, "series_count": count, "forecasts_received": 0, "created_at": now,
         "evaluated_at": None} for batch_id, count in sorted(series_counts.items())])
    await insert_many_missing(connection, tables.batch_entities, [
        {"batch_id": batch_id, "entity_id": entity_id, "alerts_changed": 0}
        for batch_id, entity_id in sorted(set(entities))])
    await insert_many_missing(connection, tables.batch_years, [
        {"batch_id": batch_id, "entity_id": entity_id, "fiscal_year": fiscal_year}
        for batch_id, entity_id, fiscal_year in sorted(set(years))])


async def count_forecasts(connection: AsyncConnection, entries: Iterable[SeriesEntry]) -> None:
    """Count each re-rolled forecast towards its batch, and note per series the ledger version it waits for.

    The forecast service re-rolls a series once for every actuals event of the batch, and a series
    with many postings comes in several events, so the batch counts forecasts, not series. A
    series waits for the newest ledger version that any of its forecasts was built on.
    """
    entries = list(entries)
    if not entries:
        return

    table = tables.batch_series
    batch_ids = sorted({entry.batch_id for entry in entries})
    stored = {(row.batch_id, (row.entity_id, row.account_id, row.cost_centre)): row.ledger_version
              for row in await connection.execute(select(
                  table.c.batch_id, table.c.entity_id, table.c.account_id, table.c.cost_centre,
                  table.c.ledger_version).where(table.c.batch_id.in_(batch_ids)))}
    changed: dict[tuple[str, SeriesId], SeriesEntry] = {}
    for entry in entries:
        key = (entry.batch_id, entry.series)
        if key not in stored or entry.ledger_version > stored[key]:
            stored[key] = entry.ledger_version
            changed[key] = entry
    await upsert_many(connection, table, [
        {"batch_id": entry.batch_id, "entity_id": entry.series[0], "account_id": entry.series[1],
         "cost_centre": entry.series[2], "ledger_version": entry.ledger_version,
         "waiting_for_actuals": entry.waiting_for_actuals} for entry in changed.values()])

    received: dict[str, int] = defaultdict(int)
    for entry in entries:
        received[entry.batch_id] += 1
    for batch_id, count in sorted(received.items()):
        await connection.execute(update(tables.batches).where(tables.batches.c.batch_id == batch_id).values(
            forecasts_received=tables.batches.c.forecasts_received + count))


async def release_waiting_series(connection: AsyncConnection, held: Mapping[SeriesId, int]) -> list[str]:
    """Stop each series waiting where its forecast needs at most the ledger version held; return those batches."""
    if not held:
        return []
    table = tables.batch_series
    rows = await connection.execute(select(
        table.c.batch_id, table.c.entity_id, table.c.account_id, table.c.cost_centre, table.c.ledger_version,
    ).where(table.c.waiting_for_actuals.is_(True), series_condition(table, held)))
    released: dict[str, set[SeriesId]] = defaultdict(set)
    for row in rows:
        series = (row.entity_id, row.account_id, row.cost_centre)
        if row.ledger_version <= held[series]:
            released[row.batch_id].add(series)

    for batch_id, batch_series in sorted(released.items()):
        await connection.execute(update(table).where(
            table.c.batch_id == batch_id, series_condition(table, batch_series)).values(waiting_for_actuals=False))
    return sorted(released)


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


async def evaluated_batches(connection: AsyncConnection, batch_ids: Collection[str]) -> set[str]:
    """Return which of ``batch_ids`` were evaluated already."""
    if not batch_ids:
        return set()
    table = tables.batches
    rows = await connection.execute(select(table.c.batch_id).where(
        table.c.batch_id.in_(sorted(batch_ids)), table.c.evaluated_at.is_not(None)))
    return set(rows.scalars())


async def add_alert_changes(connection: AsyncConnection, batch_id: str, entity_id: str, count: int) -> None:
    if count == 0:
        return
    table = tables.batch_entities
    await connection.execute(update(table).where(table.c.batch_id == batch_id, table.c.entity_id == entity_id)
                             .values(alerts_changed=table.c.alerts_changed + count))


async def batch_years(connection: AsyncConnection, batch_ids: Collection[str]) -> set[tuple[str, int]]:
    """Return every entity and fiscal year that ``batch_ids`` touched."""
    if not batch_ids:
        return set()
    table = tables.batch_years
    rows = await connection.execute(select(table.c.entity_id, table.c.fiscal_year).where(
        table.c.batch_id.in_(sorted(batch_ids))))
    return {(entity_id, fiscal_year) for entity_id, fiscal_year in rows}


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
