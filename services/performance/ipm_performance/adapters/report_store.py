"""Storage behind variance reports: forecast versions, rates, KPIs, project benefits and volume drivers."""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_common.fx import Rate
from ipm_common.periods import PeriodKey
from ipm_common.variance import Direction, ToleranceBand
from ipm_performance.adapters import tables
from ipm_performance.adapters.statements import insert_many_missing, upsert_many
from ipm_performance.domain.kpis import KpiDefinition, KpiTarget
from ipm_performance.domain.report_inputs import ForecastVersion, SeriesKey

# --- forecast versions -------------------------------------------------------------------------


async def add_forecast_versions(connection: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Keep the points of each received forecast version; a redelivered version changes nothing."""
    await insert_many_missing(connection, tables.forecast_history, rows)


async def forecast_versions(connection: AsyncConnection, entity_id: str,
                            fiscal_years: Sequence[int]) -> dict[SeriesKey, list[ForecastVersion]]:
    """Load every kept version of the entity's series with its points in ``fiscal_years``, in version order.

    A series whose versions were never kept (stored before the history existed) gets its latest
    forecast as its only version.
    """
    table = tables.forecast_history
    prefixes = or_(*(table.c.period.like(f"FY{year}-%") for year in fiscal_years))
    rows = (await connection.execute(select(table).where(table.c.entity_id == entity_id, prefixes))).all()
    points: dict[tuple[str, str, int], dict[str, Any]] = {}
    for row in rows:
        version = points.setdefault((row.account_id, row.cost_centre, row.version),
                                    {"origin": row.origin, "values": {}, "benefits": {}})
        key = PeriodKey.parse(row.period)
        version["values"][key] = row.value
        version["benefits"][key] = row.benefits

    found: dict[SeriesKey, list[ForecastVersion]] = defaultdict(list)
    for (account_id, cost_centre, number), version in sorted(points.items()):
        found[(account_id, cost_centre)].append(ForecastVersion(
            number, PeriodKey.parse(version["origin"]), version["values"], version["benefits"]))
    await _add_latest_forecasts(connection, entity_id, fiscal_years, found)
    return dict(found)


async def _add_latest_forecasts(connection: AsyncConnection, entity_id: str, fiscal_years: Sequence[int],
                                found: dict[SeriesKey, list[ForecastVersion]]) -> None:
    headers = (await connection.execute(select(tables.forecasts).where(
        tables.forecasts.c.entity_id == entity_id))).all()
    missing = [row for row in headers if (row.account_id, row.cost_centre) not in found]
    if not missing:
        return
    points = tables.forecast_points
    values: dict[SeriesKey, dict[PeriodKey, Decimal]] = defaultdict(dict)
    layer: dict[SeriesKey, dict[PeriodKey, Decimal]] = defaultdict(dict)
    for row in (await connection.execute(select(points).where(
            points.c.entity_id == entity_id, points.c.fiscal_year.in_(list(fiscal_years))))).all():
        values[(row.account_id, row.cost_centre)][PeriodKey.parse(row.period)] = row.value
        layer[(row.account_id, row.cost_centre)][PeriodKey.parse(row.period)] = row.benefits
    for row in missing:
        key = (row.account_id, row.cost_centre)
        found[key].append(ForecastVersion(row.version, PeriodKey.parse(row.origin), values.get(key, {}),
                                          layer.get(key, {})))


# --- actuals, budgets and targets over several years -------------------------------------------


async def actuals(connection: AsyncConnection, entity_id: str,
                  fiscal_years: Sequence[int]) -> dict[SeriesKey, dict[PeriodKey, Decimal]]:
    table = tables.balances
    found: dict[SeriesKey, dict[PeriodKey, Decimal]] = defaultdict(dict)
    for row in (await connection.execute(select(table).where(
            table.c.entity_id == entity_id, table.c.fiscal_year.in_(list(fiscal_years))))).all():
        found[(row.account_id, row.cost_centre)][PeriodKey.parse(row.period)] = row.amount
    return dict(found)


async def budgets(connection: AsyncConnection, entity_id: str,
                  fiscal_years: Sequence[int]) -> dict[str, dict[PeriodKey, Decimal]]:
    table = tables.budget_lines
    found: dict[str, dict[PeriodKey, Decimal]] = defaultdict(dict)
    for row in (await connection.execute(select(table).where(
            table.c.entity_id == entity_id, table.c.fiscal_year.in_(list(fiscal_years))))).all():
        period = PeriodKey.parse(row.period)
        found[row.line][period] = found[row.line].get(period, Decimal(0)) + row.amount
    return dict(found)


async def targets(connection: AsyncConnection, entity_id: str, fiscal_year: int) -> dict[str, tuple[Decimal,
                                                                                                   ToleranceBand]]:
    """Return each line's strategic target of the year with its band."""
    table = tables.targets
    rows = (await connection.execute(select(table).where(
        table.c.entity_id == entity_id, table.c.fiscal_year == fiscal_year))).all()
    return {row.line: (row.amount, ToleranceBand(row.band_pct, row.band_absolute, row.band_scope)) for row in rows}


# --- exchange rates ----------------------------------------------------------------------------


async def store_rates(connection: AsyncConnection, rates: Sequence[Rate], now: datetime) -> None:
    await upsert_many(connection, tables.report_fx_rates, [
        {"from_currency": rate.from_currency, "to_currency": rate.to_currency, "rate_type": rate.rate_type,
         "period": rate.period, "rate": rate.rate, "updated_at": now} for rate in rates])


async def load_rates(connection: AsyncConnection) -> list[Rate]:
    rows = (await connection.execute(select(tables.report_fx_rates).order_by(
        *tables.report_fx_rates.primary_key.columns))).all()
    return [Rate(row.from_currency, row.to_currency, row.rate_type, row.period, row.rate) for row in rows]


# --- KPIs --------------------------------------------------------------------------------------


async def store_kpi(connection: AsyncConnection, definition: KpiDefinition, now: datetime) -> None:
    await upsert_many(connection, tables.kpi_definitions, [
        {"kpi_id": definition.kpi_id, "name": definition.name, "formula": definition.formula,
         "direction": definition.direction.value, "updated_at": now}])


async def kpi_definitions(connection: AsyncConnection) -> list[KpiDefinition]:
    rows = (await connection.execute(select(tables.kpi_definitions).order_by(tables.kpi_definitions.c.kpi_id))).all()
    return [KpiDefinition(row.kpi_id, row.name, row.formula, Direction(row.direction)) for row in rows]


async def store_kpi_target(connection: AsyncConnection, entity_id: str, target: KpiTarget, now: datetime) -> None:
    await upsert_many(connection, tables.kpi_targets, [
        {"entity_id": entity_id, "kpi_id": target.kpi_id, "fiscal_year": target.fiscal_year,
         "target": target.target, "band_pct": target.band.pct, "band_absolute": target.band.absolute,
         "updated_at": now}])


async def kpi_targets(connection: AsyncConnection, entity_id: str, fiscal_year: int) -> dict[str, KpiTarget]:
    table = tables.kpi_targets
    rows = (await connection.execute(select(table).where(
        table.c.entity_id == entity_id, table.c.fiscal_year == fiscal_year))).all()
    return {row.kpi_id: KpiTarget(row.kpi_id, row.fiscal_year, row.target,
                                  ToleranceBand(row.band_pct, row.band_absolute)) for row in rows}


# --- project benefits and volume drivers -------------------------------------------------------


async def replace_benefits(connection: AsyncConnection, project_id: str, entity_id: str, account_id: str,
                           kind: str, version: int, amounts: Mapping[str, Decimal]) -> bool:
    """Replace one kind of a project's benefits on a line when ``version`` is newer; return whether it was."""
    table = tables.project_benefits
    key = and_(table.c.project_id == project_id, table.c.entity_id == entity_id, table.c.account_id == account_id,
               table.c.kind == kind)
    stored = (await connection.execute(select(func.max(table.c.version)).where(key))).scalar()
    if stored is not None and stored >= version:
        return False
    await connection.execute(delete(table).where(key))
    await insert_many_missing(connection, table, [
        {"project_id": project_id, "entity_id": entity_id, "account_id": account_id, "kind": kind,
         "period": period, "amount": amount, "version": version} for period, amount in sorted(amounts.items())])
    return True


async def benefits(connection: AsyncConnection, entity_id: str, kind: str) -> dict[str, dict[PeriodKey, Decimal]]:
    """Sum one kind of benefits per account and period over the entity's projects."""
    table = tables.project_benefits
    found: dict[str, dict[PeriodKey, Decimal]] = defaultdict(dict)
    for row in (await connection.execute(select(table).where(
            table.c.entity_id == entity_id, table.c.kind == kind))).all():
        period = PeriodKey.parse(row.period)
        found[row.account_id][period] = found[row.account_id].get(period, Decimal(0)) + row.amount
    return dict(found)


async def store_volume_driver(connection: AsyncConnection, line: str, volume_account: str, now: datetime) -> None:
    await upsert_many(connection, tables.volume_drivers, [
        {"line": line, "volume_account": volume_account, "updated_at": now}])


async def volume_drivers(connection: AsyncConnection) -> dict[str, str]:
    rows = (await connection.execute(select(tables.volume_drivers))).all()
    return {row.line: row.volume_account for row in rows}
