"""Queries of budget versions: headers, spread lines and the workflow history."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_common.storage import utcnow
from ipm_forecast.adapters import tables
from ipm_forecast.domain.budget_workflow import BudgetAction, BudgetStatus


@dataclass(frozen=True)
class BudgetHeader:
    budget_id: str
    entity_id: str
    fiscal_year: int
    version: int | None
    status: BudgetStatus
    approved_by: str | None
    approved_at: datetime | None


@dataclass(frozen=True)
class StoredPeriod:
    period: str
    amount: Decimal


@dataclass(frozen=True)
class StoredLine:
    line: str
    cost_centre: str
    annual: Decimal
    spread_method: str
    driver: str | None
    periods: tuple[StoredPeriod, ...]


@dataclass(frozen=True)
class HistoryStep:
    step: int
    action: str
    actor: str
    at: datetime
    comment: str | None


async def header(connection: AsyncConnection, budget_id: str) -> BudgetHeader | None:
    row = (await connection.execute(select(tables.budgets).where(tables.budgets.c.budget_id == budget_id))).first()
    return None if row is None else _header(row)


async def headers(connection: AsyncConnection, entity_id: str, fiscal_year: int | None) -> list[BudgetHeader]:
    """List an entity's budget versions, newest approval first and drafts after them."""
    table = tables.budgets
    query = select(table).where(table.c.entity_id == entity_id)
    if fiscal_year is not None:
        query = query.where(table.c.fiscal_year == fiscal_year)
    rows = (await connection.execute(query)).all()
    found = [_header(row) for row in rows]
    return sorted(found, key=lambda item: (-item.fiscal_year, item.version is None, -(item.version or 0),
                                           item.budget_id))


async def approved(connection: AsyncConnection, entity_id: str, fiscal_year: int) -> BudgetHeader | None:
    table = tables.budgets
    row = (await connection.execute(select(table).where(
        table.c.entity_id == entity_id, table.c.fiscal_year == fiscal_year,
        table.c.status == BudgetStatus.APPROVED))).first()
    return None if row is None else _header(row)


async def next_version(connection: AsyncConnection, entity_id: str, fiscal_year: int) -> int:
    table = tables.budgets
    current = (await connection.execute(select(func.max(table.c.version)).where(
        table.c.entity_id == entity_id, table.c.fiscal_year == fiscal_year))).scalar()
    return int(current or 0) + 1


async def insert_header(connection: AsyncConnection, budget_id: str, entity_id: str, fiscal_year: int) -> None:
    await connection.execute(insert(tables.budgets).values(
        budget_id=budget_id, entity_id=entity_id, fiscal_year=fiscal_year, version=None,
        status=BudgetStatus.DRAFT, approved_by=None, approved_at=None))


async def set_status(connection: AsyncConnection, budget_id: str, status: BudgetStatus) -> None:
    await connection.execute(update(tables.budgets).where(tables.budgets.c.budget_id == budget_id).values(
        status=status))


async def set_approved(connection: AsyncConnection, budget_id: str, version: int, approved_by: str,
                       approved_at: datetime) -> None:
    await connection.execute(update(tables.budgets).where(tables.budgets.c.budget_id == budget_id).values(
        status=BudgetStatus.APPROVED, version=version, approved_by=approved_by, approved_at=approved_at))


async def lines(connection: AsyncConnection, budget_id: str) -> list[StoredLine]:
    """Read a version's lines ordered by line and cost centre, each with its periods in order."""
    table = tables.budget_lines
    rows = await connection.execute(select(table).where(table.c.budget_id == budget_id).order_by(
        table.c.line, table.c.cost_centre, table.c.period))
    by_line: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for row in rows:
        by_line[(row.line, row.cost_centre)].append(row)
    return [_stored_line(line_rows) for line_rows in by_line.values()]


def _stored_line(rows: Sequence[Any]) -> StoredLine:
    first = rows[0]
    return StoredLine(first.line, first.cost_centre, first.annual, first.spread_method, first.spread_driver,
                      tuple(StoredPeriod(row.period, row.amount) for row in rows))


async def replace_lines(connection: AsyncConnection, budget_id: str, new_lines: Sequence[StoredLine]) -> None:
    await connection.execute(delete(tables.budget_lines).where(tables.budget_lines.c.budget_id == budget_id))
    rows = [{"budget_id": budget_id, "line": line.line, "cost_centre": line.cost_centre, "period": point.period,
             "amount": point.amount, "annual": line.annual, "spread_method": line.spread_method,
             "spread_driver": line.driver} for line in new_lines for point in line.periods]
    if rows:
        await connection.execute(insert(tables.budget_lines), rows)


async def history(connection: AsyncConnection, budget_id: str) -> list[HistoryStep]:
    table = tables.budget_history
    rows = await connection.execute(select(table).where(table.c.budget_id == budget_id).order_by(table.c.step))
    return [HistoryStep(row.step, row.action, row.actor, _as_utc(row.at), row.comment) for row in rows]


async def record_step(connection: AsyncConnection, budget_id: str, action: BudgetAction, actor: str,
                      comment: str | None = None, at: datetime | None = None) -> datetime:
    """Append a workflow step to the version's history and return its time."""
    table = tables.budget_history
    last = (await connection.execute(select(func.max(table.c.step)).where(table.c.budget_id == budget_id))).scalar()
    moment = at or utcnow()
    await connection.execute(insert(table).values(budget_id=budget_id, step=int(last or 0) + 1, action=action,
                                                  actor=actor, at=moment, comment=comment))
    return moment


def _header(row: Any) -> BudgetHeader:
    approved_at = None if row.approved_at is None else _as_utc(row.approved_at)
    return BudgetHeader(row.budget_id, row.entity_id, row.fiscal_year, row.version, BudgetStatus(row.status),
                        row.approved_by, approved_at)


def _as_utc(moment: datetime) -> datetime:
    """Mark a time read back without a zone as UTC, because SQLite drops the zone of the stored UTC times."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
