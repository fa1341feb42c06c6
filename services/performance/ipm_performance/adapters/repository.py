"""Storage of targets and budgets, and loading all inputs of an entity's fiscal year as domain figures."""

import logging
from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_common.events import BudgetApproved, TargetLine, TargetsSet
from ipm_common.periods import PeriodKey
from ipm_common.reference import ReferenceStore
from ipm_performance.adapters import tables
from ipm_performance.domain.figures import Balance, EntityFigures, SeriesForecast, SeriesKey, Target
from ipm_performance.domain.lines import LineTree
from ipm_performance.domain.rules import target_band

logger = logging.getLogger(__name__)

reference_store = ReferenceStore(tables.reference)


def cost_centre_key(cost_centre: str | None) -> str:
    return cost_centre or ""


# --- reference data ----------------------------------------------------------------------------


async def line_tree(connection: AsyncConnection) -> LineTree:
    return LineTree.from_hierarchies(await reference_store.hierarchies(connection, "account"))


async def account_directions(connection: AsyncConnection) -> dict[str, str]:
    accounts = await reference_store.accounts(connection)
    return {account_id: account.direction for account_id, account in accounts.items()}


# --- targets -----------------------------------------------------------------------------------


async def store_targets(connection: AsyncConnection, data: TargetsSet, now: datetime) -> list[TargetLine]:
    """Store each target unless a newer version of the same entity, line and year is stored; return those stored."""
    stored: list[TargetLine] = []
    for target in data.targets:
        # Building the band rejects a negative band before anything is stored.
        target_band(target.band_pct, target.band_absolute, target.band_scope)
        key = (tables.targets.c.entity_id == data.entity_id, tables.targets.c.line == target.line,
               tables.targets.c.fiscal_year == target.fiscal_year)
        version = (await connection.execute(select(tables.targets.c.version).where(*key))).scalar()
        if version is not None and version > data.version:
            logger.info("ignored stale target %s %s FY%s version %s (stored %s)", data.entity_id, target.line,
                        target.fiscal_year, data.version, version)
            continue

        values = {"plan_id": data.plan_id, "plan_name": data.plan_name, "amount": target.amount,
                  "band_pct": target.band_pct, "band_absolute": target.band_absolute,
                  "band_scope": target.band_scope, "version": data.version, "updated_at": now}
        if version is None:
            await connection.execute(insert(tables.targets).values(
                entity_id=data.entity_id, line=target.line, fiscal_year=target.fiscal_year, **values))
        else:
            await connection.execute(update(tables.targets).where(*key).values(values))
        stored.append(target)
    return stored


# --- budgets -----------------------------------------------------------------------------------


async def store_budget(connection: AsyncConnection, data: BudgetApproved, now: datetime) -> bool:
    """Replace the entity's budget of the fiscal year when ``data`` is a newer version; return whether it did."""
    key = (tables.budgets.c.entity_id == data.entity_id, tables.budgets.c.fiscal_year == data.fiscal_year)
    version = (await connection.execute(select(tables.budgets.c.version).where(*key))).scalar()
    if version is not None and version >= data.version:
        logger.info("ignored budget %s of %s FY%s version %s: version %s is stored", data.budget_id,
                    data.entity_id, data.fiscal_year, data.version, version)
        return False

    await connection.execute(delete(tables.budgets).where(*key))
    await connection.execute(delete(tables.budget_lines).where(
        tables.budget_lines.c.entity_id == data.entity_id, tables.budget_lines.c.fiscal_year == data.fiscal_year))
    await connection.execute(insert(tables.budgets).values(
        entity_id=data.entity_id, fiscal_year=data.fiscal_year, budget_id=data.budget_id, version=data.version,
        approved_by=data.approved_by, received_at=now))

    rows = _budget_rows(data)
    if rows:
        await connection.execute(insert(tables.budget_lines), rows)
    return True


def _budget_rows(data: BudgetApproved) -> list[dict[str, object]]:
    """Build one row per line, cost centre and period, adding up repeated periods of one line."""
    amounts: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for line in data.lines:
        for period in line.periods:
            key = PeriodKey.parse(period.period)
            amounts[(line.line, cost_centre_key(line.cost_centre), str(key))] += period.amount
    return [
        {"entity_id": data.entity_id, "fiscal_year": data.fiscal_year, "line": line, "cost_centre": cost_centre,
         "period": period, "amount": amount, "budget_id": data.budget_id}
        for (line, cost_centre, period), amount in sorted(amounts.items())
    ]


# --- figures -----------------------------------------------------------------------------------


async def load_figures(connection: AsyncConnection, entity_id: str, fiscal_year: int) -> EntityFigures:
    """Load everything that evaluating one entity's fiscal year needs."""
    return EntityFigures(
        entity_id=entity_id,
        fiscal_year=fiscal_year,
        balances=await _load_balances(connection, entity_id, fiscal_year),
        forecasts=await _load_forecasts(connection, entity_id, fiscal_year),
        budgets=await _load_budgets(connection, entity_id, fiscal_year),
        targets=await _load_targets(connection, entity_id, fiscal_year),
    )


async def _load_balances(connection: AsyncConnection, entity_id: str,
                         fiscal_year: int) -> dict[SeriesKey, dict[PeriodKey, Balance]]:
    table = tables.balances
    rows = (await connection.execute(select(table).where(
        table.c.entity_id == entity_id, table.c.fiscal_year == fiscal_year))).all()
    found: dict[SeriesKey, dict[PeriodKey, Balance]] = defaultdict(dict)
    for row in rows:
        found[(row.account_id, row.cost_centre)][PeriodKey.parse(row.period)] = Balance(row.amount,
                                                                                         row.ledger_version)
    return dict(found)


async def _load_forecasts(connection: AsyncConnection, entity_id: str,
                          fiscal_year: int) -> dict[SeriesKey, SeriesForecast]:
    points = tables.forecast_points
    values: dict[SeriesKey, dict[PeriodKey, Decimal]] = defaultdict(dict)
    for row in (await connection.execute(select(points).where(
            points.c.entity_id == entity_id, points.c.fiscal_year == fiscal_year))).all():
        values[(row.account_id, row.cost_centre)][PeriodKey.parse(row.period)] = row.value

    rows = (await connection.execute(select(tables.forecasts).where(
        tables.forecasts.c.entity_id == entity_id))).all()
    return {
        (row.account_id, row.cost_centre): SeriesForecast(
            PeriodKey.parse(row.origin), row.version, values.get((row.account_id, row.cost_centre), {}))
        for row in rows
    }


async def _load_budgets(connection: AsyncConnection, entity_id: str,
                        fiscal_year: int) -> dict[str, dict[PeriodKey, Decimal]]:
    table = tables.budget_lines
    found: dict[str, dict[PeriodKey, Decimal]] = defaultdict(dict)
    for row in (await connection.execute(select(table).where(
            table.c.entity_id == entity_id, table.c.fiscal_year == fiscal_year))).all():
        period = PeriodKey.parse(row.period)
        found[row.line][period] = found[row.line].get(period, Decimal(0)) + row.amount
    return dict(found)


async def _load_targets(connection: AsyncConnection, entity_id: str, fiscal_year: int) -> dict[str, Target]:
    table = tables.targets
    rows = (await connection.execute(select(table).where(
        table.c.entity_id == entity_id, table.c.fiscal_year == fiscal_year))).all()
    return {
        row.line: Target(row.line, row.fiscal_year, row.amount,
                         target_band(row.band_pct, row.band_absolute, row.band_scope), row.plan_id, row.version)
        for row in rows
    }


async def latest_fiscal_years(connection: AsyncConnection) -> dict[str, int]:
    """Return, per entity, the latest fiscal year in which it has actuals."""
    table = tables.balances
    rows = (await connection.execute(select(table.c.entity_id, func.max(table.c.fiscal_year)).group_by(
        table.c.entity_id))).all()
    return {entity_id: fiscal_year for entity_id, fiscal_year in rows}
