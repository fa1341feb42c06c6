"""Storage behind cost centre comparisons: series with a cost centre, and projections from outside."""

from collections import defaultdict
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_common.periods import PeriodKey
from ipm_performance.adapters import tables
from ipm_performance.adapters.statements import upsert_many
from ipm_performance.domain.cost_centres import CostCentreFigures

SeriesKey = tuple[str, str]


async def load_cost_centre_figures(connection: AsyncConnection, entity_id: str,
                                   fiscal_year: int) -> list[CostCentreFigures]:
    """Load every (account, cost centre) series of the year that has a budget; entity-wide series are left out."""
    budgets: dict[SeriesKey, dict[PeriodKey, Decimal]] = defaultdict(dict)
    table = tables.budget_lines
    for row in (await connection.execute(select(table).where(
            table.c.entity_id == entity_id, table.c.fiscal_year == fiscal_year, table.c.cost_centre != ""))).all():
        budgets[(row.line, row.cost_centre)][PeriodKey.parse(row.period)] = row.amount
    if not budgets:
        return []

    actuals: dict[SeriesKey, dict[PeriodKey, tuple[Decimal, int]]] = defaultdict(dict)
    balances = tables.balances
    for row in (await connection.execute(select(balances).where(
            balances.c.entity_id == entity_id, balances.c.fiscal_year == fiscal_year,
            balances.c.cost_centre != ""))).all():
        actuals[(row.account_id, row.cost_centre)][PeriodKey.parse(row.period)] = (row.amount, row.ledger_version)

    projections = tables.projections
    projected = {(row.line, row.cost_centre): row.projection for row in (await connection.execute(
        select(projections).where(projections.c.entity_id == entity_id,
                                  projections.c.fiscal_year == fiscal_year))).all()}

    return [CostCentreFigures(account, cost_centre, actuals.get((account, cost_centre), {}), budget,
                              projected.get((account, cost_centre)))
            for (account, cost_centre), budget in sorted(budgets.items())]


async def save_projections(connection: AsyncConnection, entity_id: str, line: str, fiscal_year: int,
                           amounts: dict[str, Decimal], as_of: str, source: str, now: datetime) -> None:
    rows = [{"entity_id": entity_id, "line": line, "cost_centre": cost_centre, "fiscal_year": fiscal_year,
             "projection": amount, "as_of": as_of, "source": source, "updated_at": now}
            for cost_centre, amount in sorted(amounts.items())]
    await upsert_many(connection, tables.projections, rows)
