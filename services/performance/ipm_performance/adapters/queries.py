"""Read-only queries behind the API: variance lines, alerts, input counts and the summary."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_performance.adapters import tables
from ipm_performance.adapters.statements import AnyRow

DEFAULT_LIMIT = 1000


async def list_variance_lines(connection: AsyncConnection, *, entity_id: str | None, line: str | None,
                              comparison: str | None, period: str | None,
                              limit: int = DEFAULT_LIMIT) -> Sequence[AnyRow]:
    table = tables.variance_lines
    statement = select(table).order_by(table.c.entity_id, table.c.line, table.c.comparison, table.c.period)
    for column, value in ((table.c.entity_id, entity_id), (table.c.line, line), (table.c.comparison, comparison),
                          (table.c.period, period)):
        if value is not None:
            statement = statement.where(column == value)
    return (await connection.execute(statement.limit(limit))).all()


async def list_alerts(connection: AsyncConnection, *, entity_id: str | None, status: str | None,
                      rule: str | None, limit: int = DEFAULT_LIMIT) -> Sequence[AnyRow]:
    table = tables.alerts
    statement = select(table).order_by(table.c.updated_at.desc(), table.c.alert_id)
    for column, value in ((table.c.entity_id, entity_id), (table.c.status, status), (table.c.rule, rule)):
        if value is not None:
            statement = statement.where(column == value)
    return (await connection.execute(statement.limit(limit))).all()


async def get_alert(connection: AsyncConnection, alert_id: str) -> AnyRow | None:
    return (await connection.execute(select(tables.alerts).where(tables.alerts.c.alert_id == alert_id))).first()


@dataclass(frozen=True)
class BudgetCount:
    fiscal_year: int
    budget_id: str
    version: int
    lines: int


@dataclass(frozen=True)
class InputCounts:
    """Counts of one entity's inputs: targets and budget lines per fiscal year, ledger and forecast coverage."""

    targets: dict[int, int]
    budgets: list[BudgetCount]
    latest_ledger_period: str | None
    latest_ledger_version: int | None
    postings: int
    series_with_actuals: int
    series_with_forecasts: int
    entity_registered: bool
    accounts: int


async def input_counts(connection: AsyncConnection, entity_id: str) -> InputCounts:
    targets = tables.targets
    target_rows = (await connection.execute(select(targets.c.fiscal_year, func.count()).where(
        targets.c.entity_id == entity_id).group_by(targets.c.fiscal_year))).all()

    balances = tables.balances
    latest = (await connection.execute(select(func.max(balances.c.period), func.max(balances.c.ledger_version))
                                       .where(balances.c.entity_id == entity_id))).one()
    series = select(balances.c.account_id, balances.c.cost_centre).where(
        balances.c.entity_id == entity_id).distinct().subquery()

    return InputCounts(
        targets=dict(target_rows),
        budgets=await _budget_counts(connection, entity_id),
        latest_ledger_period=latest[0],
        latest_ledger_version=latest[1],
        postings=await _count(connection, select(func.count()).select_from(tables.postings).where(
            tables.postings.c.entity_id == entity_id)),
        series_with_actuals=await _count(connection, select(func.count()).select_from(series)),
        series_with_forecasts=await _count(connection, select(func.count()).select_from(tables.forecasts).where(
            tables.forecasts.c.entity_id == entity_id)),
        entity_registered=await _count(connection, select(func.count()).select_from(tables.reference.entities).where(
            tables.reference.entities.c.entity_id == entity_id)) > 0,
        accounts=await _count(connection, select(func.count()).select_from(tables.reference.accounts)),
    )


async def _budget_counts(connection: AsyncConnection, entity_id: str) -> list[BudgetCount]:
    """Count the budget lines (line and cost centre) of each fiscal year's current budget."""
    lines = tables.budget_lines
    distinct_lines = (await connection.execute(select(lines.c.fiscal_year, lines.c.line, lines.c.cost_centre).where(
        lines.c.entity_id == entity_id).distinct())).all()
    per_year: dict[int, int] = {}
    for row in distinct_lines:
        per_year[row.fiscal_year] = per_year.get(row.fiscal_year, 0) + 1

    budgets = (await connection.execute(select(tables.budgets).where(
        tables.budgets.c.entity_id == entity_id).order_by(tables.budgets.c.fiscal_year))).all()
    return [BudgetCount(row.fiscal_year, row.budget_id, row.version, per_year.get(row.fiscal_year, 0))
            for row in budgets]


@dataclass(frozen=True)
class SummaryCounts:
    variance_lines: int
    evaluations: int
    variance_lines_by_comparison: dict[str, int]
    alerts_by_status: dict[str, int]
    alerts_by_rule: dict[str, dict[str, int]] = field(default_factory=dict)
    reviews_requested: int = 0
    batches_evaluated: int = 0


async def summary_counts(connection: AsyncConnection, entity_id: str) -> SummaryCounts:
    variance = tables.variance_lines
    by_comparison: dict[str, int] = dict((await connection.execute(select(variance.c.comparison, func.count()).where(
        variance.c.entity_id == entity_id).group_by(variance.c.comparison))).all())
    evaluations = await _count(connection, select(func.coalesce(func.sum(variance.c.evaluations), 0)).where(
        variance.c.entity_id == entity_id))

    alerts = tables.alerts
    by_rule: dict[str, dict[str, int]] = {}
    by_status: dict[str, int] = {}
    for rule, status, count in (await connection.execute(select(alerts.c.rule, alerts.c.status, func.count()).where(
            alerts.c.entity_id == entity_id).group_by(alerts.c.rule, alerts.c.status))).all():
        by_rule.setdefault(rule, {})[status] = count
        by_status[status] = by_status.get(status, 0) + count

    reviews = await _count(connection, select(func.count()).select_from(alerts).where(
        alerts.c.entity_id == entity_id, alerts.c.review_requested.is_(True)))
    batches = await _count(connection, select(func.count()).select_from(tables.batch_entities).join(
        tables.batches, tables.batches.c.batch_id == tables.batch_entities.c.batch_id).where(
        tables.batch_entities.c.entity_id == entity_id, tables.batches.c.evaluated_at.is_not(None)))

    return SummaryCounts(
        variance_lines=sum(by_comparison.values()),
        evaluations=evaluations,
        variance_lines_by_comparison=by_comparison,
        alerts_by_status=by_status,
        alerts_by_rule=by_rule,
        reviews_requested=reviews,
        batches_evaluated=batches,
    )


async def _count(connection: AsyncConnection, statement: Select[Any]) -> int:
    return int((await connection.execute(statement)).scalar() or 0)
