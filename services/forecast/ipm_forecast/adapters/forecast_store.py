"""Queries of forecast versions and their inputs: drivers, driver-based lines, overrides, accuracy."""

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_common.periods import PeriodKey
from ipm_common.storage import utcnow
from ipm_forecast.adapters import tables

Series = tuple[str, str, str]  # entity, account, cost centre


def _series_condition(table: Any, series: Series) -> Any:
    entity_id, account_id, cost_centre = series
    return and_(table.c.entity_id == entity_id, table.c.account_id == account_id,
                table.c.cost_centre == cost_centre)


# --- forecast versions -------------------------------------------------------------------------


async def forecast_header(connection: AsyncConnection, series: Series, version: int | None) -> Row[Any] | None:
    """Read the header of one kept version of a series, the latest when ``version`` is None."""
    table = tables.forecasts
    query = select(table).where(_series_condition(table, series))
    if version is None:
        query = query.order_by(table.c.version.desc()).limit(1)
    else:
        query = query.where(table.c.version == version)
    return (await connection.execute(query)).first()


async def forecast_headers(connection: AsyncConnection, series: Series) -> list[Row[Any]]:
    table = tables.forecasts
    return list((await connection.execute(select(table).where(_series_condition(table, series)).order_by(
        table.c.version.desc()))).all())


async def forecast_point_rows(connection: AsyncConnection, forecast_id: str) -> list[Row[Any]]:
    table = tables.forecast_points
    return list((await connection.execute(select(table).where(table.c.forecast_id == forecast_id).order_by(
        table.c.period))).all())


def lineage_of(header: Row[Any]) -> dict[str, Any]:
    """Return a version's lineage; versions kept before lineage was recorded get their ledger version only."""
    if header.lineage:
        loaded: dict[str, Any] = json.loads(header.lineage)
        return loaded
    return {"trigger": {"event_id": header.trigger_event_id, "event_type": header.trigger_event_type},
            "origin": header.origin, "ledger_version": header.ledger_version}


async def entity_series(connection: AsyncConnection, entity_id: str) -> list[Series]:
    """List every series of an entity that has postings, ordered by account and cost centre."""
    table = tables.postings
    rows = await connection.execute(select(table.c.account_id, table.c.cost_centre).where(
        table.c.entity_id == entity_id).distinct().order_by(table.c.account_id, table.c.cost_centre))
    return [(entity_id, row.account_id, row.cost_centre) for row in rows]


async def latest_values(connection: AsyncConnection, series: Series, period: PeriodKey) -> Decimal | None:
    """Read the latest version's value of one period, or None when that version does not cover it."""
    header = await forecast_header(connection, series, None)
    if header is None:
        return None
    table = tables.forecast_points
    return (await connection.execute(select(table.c.value).where(
        table.c.forecast_id == header.forecast_id, table.c.period == str(period)))).scalar()


async def entity_benefit_versions(connection: AsyncConnection,
                                  entity_ids: Iterable[str]) -> dict[tuple[str, str], dict[str, int]]:
    """Map each (entity, account) with planned benefits to its projects' stored versions."""
    table = tables.planned_benefits
    rows = await connection.execute(select(table.c.entity_id, table.c.account_id, table.c.project_id,
                                           table.c.version).where(table.c.entity_id.in_(list(entity_ids))).distinct())
    versions: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for row in rows:
        versions[(row.entity_id, row.account_id)][row.project_id] = row.version
    return dict(versions)


# --- drivers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DriverRecord:
    driver_id: str
    name: str
    version: int
    updated_at: datetime


async def driver(connection: AsyncConnection, driver_id: str) -> DriverRecord | None:
    row = (await connection.execute(select(tables.drivers).where(
        tables.drivers.c.driver_id == driver_id))).first()
    if row is None:
        return None
    return DriverRecord(row.driver_id, row.name, row.version, row.updated_at)


async def bump_driver(connection: AsyncConnection, driver_id: str, name: str | None) -> int:
    """Create the driver or raise its version; return the new version."""
    current = await driver(connection, driver_id)
    table = tables.drivers
    if current is None:
        await connection.execute(insert(table).values(driver_id=driver_id, name=name or driver_id, version=1,
                                                      updated_at=utcnow()))
        return 1
    # The increment happens in the UPDATE, so concurrent changes on PostgreSQL wait for each other's row lock
    # and each gets its own version.
    changes = {"version": table.c.version + 1, "updated_at": utcnow(), **({"name": name} if name else {})}
    result = await connection.execute(update(table).where(table.c.driver_id == driver_id).values(**changes)
                                      .returning(table.c.version))
    return int(result.scalar_one())


async def driver_values(connection: AsyncConnection, driver_id: str) -> dict[str, Decimal]:
    table = tables.driver_values
    rows = await connection.execute(select(table.c.month, table.c.value).where(table.c.driver_id == driver_id))
    return {row.month: row.value for row in rows}


async def scenario_values(connection: AsyncConnection, driver_id: str, scenario: str) -> dict[str, Decimal]:
    table = tables.driver_scenarios
    rows = await connection.execute(select(table.c.month, table.c.value).where(
        table.c.driver_id == driver_id, table.c.scenario == scenario))
    return {row.month: row.value for row in rows}


async def scenario_names(connection: AsyncConnection, driver_id: str) -> list[str]:
    table = tables.driver_scenarios
    rows = await connection.execute(select(table.c.scenario).where(table.c.driver_id == driver_id).distinct()
                                    .order_by(table.c.scenario))
    return [row.scenario for row in rows]


async def upsert_driver_values(connection: AsyncConnection, driver_id: str, values: dict[str, Decimal]) -> None:
    table = tables.driver_values
    await connection.execute(delete(table).where(table.c.driver_id == driver_id, table.c.month.in_(list(values))))
    await connection.execute(insert(table), [{"driver_id": driver_id, "month": month, "value": value}
                                             for month, value in values.items()])


async def replace_scenario(connection: AsyncConnection, driver_id: str, scenario: str,
                           values: dict[str, Decimal]) -> None:
    table = tables.driver_scenarios
    await connection.execute(delete(table).where(table.c.driver_id == driver_id, table.c.scenario == scenario))
    await connection.execute(insert(table), [{"driver_id": driver_id, "scenario": scenario, "month": month,
                                              "value": value} for month, value in values.items()])


@dataclass(frozen=True)
class DriverLine:
    entity_id: str
    account_id: str
    cost_centre: str
    driver_id: str
    scenario: str | None
    version: int
    configured_by: str
    updated_at: datetime


def _driver_line(row: Row[Any]) -> DriverLine:
    return DriverLine(row.entity_id, row.account_id, row.cost_centre, row.driver_id, row.scenario, row.version,
                      row.configured_by, row.updated_at)


async def driver_line(connection: AsyncConnection, series: Series) -> DriverLine | None:
    table = tables.driver_lines
    row = (await connection.execute(select(table).where(_series_condition(table, series)))).first()
    return None if row is None else _driver_line(row)


async def entity_driver_lines(connection: AsyncConnection, entity_ids: Iterable[str]) -> dict[Series, DriverLine]:
    table = tables.driver_lines
    rows = await connection.execute(select(table).where(table.c.entity_id.in_(list(entity_ids))))
    return {(row.entity_id, row.account_id, row.cost_centre): _driver_line(row) for row in rows}


async def lines_of_driver(connection: AsyncConnection, driver_id: str) -> list[DriverLine]:
    table = tables.driver_lines
    rows = await connection.execute(select(table).where(table.c.driver_id == driver_id).order_by(
        table.c.entity_id, table.c.account_id, table.c.cost_centre))
    return [_driver_line(row) for row in rows]


async def replace_driver_line(connection: AsyncConnection, series: Series, driver_id: str, scenario: str | None,
                              configured_by: str) -> int:
    """Store a line's driver configuration; return its new version."""
    current = await driver_line(connection, series)
    version = 1 if current is None else current.version + 1
    table = tables.driver_lines
    await connection.execute(delete(table).where(_series_condition(table, series)))
    entity_id, account_id, cost_centre = series
    await connection.execute(insert(table).values(
        entity_id=entity_id, account_id=account_id, cost_centre=cost_centre, driver_id=driver_id, scenario=scenario,
        version=version, configured_by=configured_by, updated_at=utcnow()))
    return version


async def delete_driver_line(connection: AsyncConnection, series: Series) -> None:
    table = tables.driver_lines
    await connection.execute(delete(table).where(_series_condition(table, series)))


# --- overrides ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OverrideRecord:
    override_id: str
    entity_id: str
    account_id: str
    cost_centre: str
    period: str
    value: Decimal
    author: str
    reason: str
    top_down_id: str | None
    active: bool
    created_at: datetime


def _override(row: Row[Any]) -> OverrideRecord:
    return OverrideRecord(row.override_id, row.entity_id, row.account_id, row.cost_centre, row.period, row.value,
                          row.author, row.reason, row.top_down_id, row.active, row.created_at)


async def entity_active_overrides(connection: AsyncConnection,
                                  entity_ids: Iterable[str]) -> dict[Series, list[OverrideRecord]]:
    table = tables.overrides
    rows = await connection.execute(select(table).where(table.c.entity_id.in_(list(entity_ids)),
                                                        table.c.active.is_(True)).order_by(table.c.period))
    grouped: dict[Series, list[OverrideRecord]] = defaultdict(list)
    for row in rows:
        grouped[(row.entity_id, row.account_id, row.cost_centre)].append(_override(row))
    return dict(grouped)


async def override_list(connection: AsyncConnection, entity_id: str, account_id: str | None) -> list[OverrideRecord]:
    """List an entity's overrides, the replaced and withdrawn ones too, newest first."""
    table = tables.overrides
    query = select(table).where(table.c.entity_id == entity_id)
    if account_id is not None:
        query = query.where(table.c.account_id == account_id)
    rows = await connection.execute(query.order_by(table.c.created_at.desc(), table.c.override_id))
    return [_override(row) for row in rows]


async def override_by_id(connection: AsyncConnection, override_id: str) -> OverrideRecord | None:
    row = (await connection.execute(select(tables.overrides).where(
        tables.overrides.c.override_id == override_id))).first()
    return None if row is None else _override(row)


async def insert_override(connection: AsyncConnection, record: OverrideRecord) -> None:
    """Store an override as the active one of its series and period; the one it replaces stays, inactive."""
    table = tables.overrides
    series = (record.entity_id, record.account_id, record.cost_centre)
    await connection.execute(update(table).where(_series_condition(table, series), table.c.period == record.period,
                                                 table.c.active.is_(True)).values(active=False))
    await connection.execute(insert(table).values(**record.__dict__))


async def deactivate_override(connection: AsyncConnection, override_id: str) -> None:
    table = tables.overrides
    await connection.execute(update(table).where(table.c.override_id == override_id).values(active=False))


# --- accuracy ----------------------------------------------------------------------------------


async def covering_points(connection: AsyncConnection, series: Series,
                          periods: Iterable[str]) -> list[Any]:
    """List (forecast id, version, origin, period, value) of every kept version's point in ``periods``."""
    header, point = tables.forecasts, tables.forecast_points
    rows = await connection.execute(
        select(header.c.forecast_id, header.c.version, header.c.origin, point.c.period, point.c.value)
        .join(point, point.c.forecast_id == header.c.forecast_id)
        .where(_series_condition(header, series), point.c.period.in_(list(periods)))
    )
    return list(rows.all())


async def replace_accuracy_points(connection: AsyncConnection, series: Series,
                                  rows: Sequence[dict[str, Any]]) -> None:
    table = tables.accuracy_points
    for row in rows:
        await connection.execute(delete(table).where(table.c.forecast_id == row["forecast_id"],
                                                     table.c.period == row["period"]))
    if rows:
        entity_id, account_id, cost_centre = series
        scored_at = utcnow()
        await connection.execute(insert(table), [
            {**row, "entity_id": entity_id, "account_id": account_id, "cost_centre": cost_centre,
             "scored_at": scored_at} for row in rows])


async def accuracy_rows(connection: AsyncConnection, entity_id: str, account_id: str | None = None,
                        cost_centre: str | None = None) -> list[Row[Any]]:
    table = tables.accuracy_points
    query = select(table).where(table.c.entity_id == entity_id)
    if account_id is not None:
        query = query.where(table.c.account_id == account_id)
    if cost_centre is not None:
        query = query.where(table.c.cost_centre == cost_centre)
    rows = await connection.execute(query.order_by(table.c.account_id, table.c.cost_centre, table.c.period,
                                                   table.c.version))
    return list(rows.all())


def group_by_series(rows: Iterable[Row[Any]]) -> dict[Series, list[Row[Any]]]:
    grouped: dict[Series, list[Row[Any]]] = defaultdict(list)
    for row in rows:
        grouped[(row.entity_id, row.account_id, row.cost_centre)].append(row)
    return dict(grouped)
