"""Approve budgets: spread annual figures to periods to the cent and publish ``budget approved``."""

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_common.dispatch import publish_event
from ipm_common.errors import InvalidInput
from ipm_common.events import BudgetApproved, BudgetLine, BudgetPeriod
from ipm_common.periods import PeriodKey, fiscal_year_periods
from ipm_common.spreading import spread_by_profile, spread_even
from ipm_common.storage import Database, utcnow
from ipm_forecast.adapters import repository, tables

logger = logging.getLogger(__name__)

SOURCE = "ipm-forecast"


@dataclass(frozen=True)
class BudgetLineRequest:
    line: str
    cost_centre: str
    annual: Decimal | None
    periods: dict[str, Decimal] | None
    spread: str  # "even" or "profile"


async def approve_budget(database: Database, *, entity_id: str, fiscal_year: int, approved_by: str,
                         lines: Sequence[BudgetLineRequest], budget_id: str | None = None) -> BudgetApproved:
    """Store a new approved budget version for an entity's fiscal year and publish it."""
    async with database.transaction() as transaction:
        connection = transaction.connection
        entity = await repository.reference.entity(connection, entity_id)
        periods = fiscal_year_periods(fiscal_year)
        spread_lines = [await _spread_line(connection, entity_id, fiscal_year, periods, index, line)
                        for index, line in enumerate(lines)]

        version = await _next_version(connection, entity_id, fiscal_year)
        budget = BudgetApproved(entity_id=entity_id, budget_id=budget_id or str(uuid.uuid4()),
                                fiscal_year=fiscal_year, version=version, approved_by=approved_by,
                                lines=tuple(spread_lines))
        await _store(connection, budget)
        await publish_event(transaction, SOURCE, budget, correlation_id=budget.budget_id,
                            subject=f"{entity_id}/FY{fiscal_year}")

    logger.info("budget %s of %s FY%s version %s approved by %s with %s lines (%s)", budget.budget_id, entity_id,
                fiscal_year, version, approved_by, len(spread_lines), entity.currency)
    return budget


async def _spread_line(connection: AsyncConnection, entity_id: str, fiscal_year: int, periods: list[PeriodKey],
                       index: int, line: BudgetLineRequest) -> BudgetLine:
    if line.periods is not None:
        amounts = _monthly_amounts(index, line, periods)
        return BudgetLine(line=line.line, cost_centre=line.cost_centre or None, annual=sum(amounts, Decimal(0)),
                          spread_method="monthly", periods=_budget_periods(periods, amounts))

    if line.annual is None:
        raise InvalidInput(f"lines[{index}]: give either annual or periods", field=f"lines[{index}].annual")
    if line.spread == "profile":
        profile = await _prior_year_profile(connection, entity_id, line.line, fiscal_year - 1)
        amounts, method = spread_by_profile(line.annual, profile)
    elif line.spread == "even":
        amounts, method = spread_even(line.annual, len(periods)), "even"
    else:
        raise InvalidInput(f"lines[{index}].spread: {line.spread!r} is unknown; use \"even\" or \"profile\"",
                           field=f"lines[{index}].spread")
    return BudgetLine(line=line.line, cost_centre=line.cost_centre or None, annual=line.annual, spread_method=method,
                      periods=_budget_periods(periods, amounts))


def _monthly_amounts(index: int, line: BudgetLineRequest, periods: list[PeriodKey]) -> list[Decimal]:
    assert line.periods is not None
    expected = {str(period) for period in periods}
    unknown = sorted(set(line.periods) - expected)
    if unknown:
        raise InvalidInput(f"lines[{index}].periods: {unknown[0]} is not a period of this fiscal year",
                           field=f"lines[{index}].periods")
    return [line.periods.get(str(period), Decimal(0)) for period in periods]


def _budget_periods(periods: list[PeriodKey], amounts: Sequence[Decimal]) -> tuple[BudgetPeriod, ...]:
    return tuple(BudgetPeriod(period=str(period), amount=amount) for period, amount in zip(periods, amounts,
                                                                                          strict=True))


async def _prior_year_profile(connection: AsyncConnection, entity_id: str, line: str,
                              fiscal_year: int) -> list[Decimal]:
    """Sum the prior year's actuals of the line's leaf accounts per period."""
    leaves = [line]
    for hierarchy in await repository.reference.hierarchies(connection, "account"):
        if line in hierarchy.nodes:
            leaves = hierarchy.leaves_under(line)
            break

    profile = [Decimal(0)] * 12
    for account_id in leaves:
        totals, _ = await repository.period_totals(connection, entity_id, account_id, "")
        for period, amount in totals.items():
            if period.fiscal_year == fiscal_year:
                profile[period.period - 1] += amount
    return profile


async def _next_version(connection: AsyncConnection, entity_id: str, fiscal_year: int) -> int:
    table = tables.budgets
    current = (await connection.execute(select(func.max(table.c.version)).where(
        table.c.entity_id == entity_id, table.c.fiscal_year == fiscal_year))).scalar()
    return int(current or 0) + 1


async def _store(connection: AsyncConnection, budget: BudgetApproved) -> None:
    await connection.execute(insert(tables.budgets).values(
        budget_id=budget.budget_id, entity_id=budget.entity_id, fiscal_year=budget.fiscal_year,
        version=budget.version, status="approved", approved_by=budget.approved_by, approved_at=utcnow(),
    ))
    await connection.execute(insert(tables.budget_lines), [
        {"budget_id": budget.budget_id, "line": line.line, "cost_centre": line.cost_centre or "",
         "period": point.period, "amount": point.amount, "annual": line.annual, "spread_method": line.spread_method}
        for line in budget.lines for point in line.periods
    ])
