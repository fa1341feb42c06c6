"""Approve budgets: spread annual figures to periods to the cent and publish ``budget approved``."""

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_common.dispatch import publish_event
from ipm_common.errors import Conflict
from ipm_common.events import BudgetApproved, BudgetLine
from ipm_common.periods import fiscal_year_periods
from ipm_common.reference import Entity
from ipm_common.storage import Database, utcnow
from ipm_forecast.adapters import budget_store, repository, tables
from ipm_forecast.domain.budget_workflow import BudgetAction, BudgetStatus
from ipm_forecast.service_layer.budget_lines import BudgetLineRequest, check_known_lines, check_lines, spread_line

logger = logging.getLogger(__name__)

__all__ = ["BudgetLineRequest", "approve_budget"]

SOURCE = "ipm-forecast"

# Two requests that race for the same budget id or version collide on a unique key. The loser's
# next attempt finds the winner's budget or takes the next free version.
MAX_ATTEMPTS = 3

# The stored spread methods that a requested spread can produce: a profile spread falls back to
# an even one when the prior year has no usable actuals.
PRODUCED_METHODS = {"even": {"even"}, "profile": {"profile", "even"}}


@dataclass(frozen=True)
class BudgetRequest:
    budget_id: str
    entity_id: str
    fiscal_year: int
    approved_by: str
    lines: tuple[BudgetLineRequest, ...]


async def approve_budget(database: Database, *, entity_id: str, fiscal_year: int, approved_by: str,
                         lines: Sequence[BudgetLineRequest], budget_id: str | None = None) -> BudgetApproved:
    """Store a new approved budget version and publish it.

    A ``budget_id`` that is already stored returns the stored budget when the content is the same
    and raises ``Conflict`` when it differs. Neither case stores or publishes anything.
    """
    check_lines(lines, fiscal_year_periods(fiscal_year))
    request = BudgetRequest(budget_id or str(uuid.uuid4()), entity_id, fiscal_year, approved_by, tuple(lines))

    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return await _approve_once(database, request)
        except IntegrityError:
            logger.info("budget %s of %s FY%s collided with a concurrent approval (attempt %s)",
                        request.budget_id, entity_id, fiscal_year, attempt)
    raise Conflict(f"budget {request.budget_id} of {entity_id} FY{fiscal_year}: concurrent approvals of the same "
                   "entity and year kept colliding; send the budget again", reason="concurrent_approval")


async def _approve_once(database: Database, request: BudgetRequest) -> BudgetApproved:
    async with database.transaction() as transaction:
        connection = transaction.connection
        entity = await repository.reference.entity(connection, request.entity_id)
        await repository.lock_entity(connection, request.entity_id)
        await _check_not_in_workflow(connection, request.budget_id)
        stored = await repository.stored_budget(connection, request.budget_id)
        if stored is not None:
            return _replayed(stored, request)

        await check_known_lines(connection, request.lines)
        budget = await _new_version(connection, entity, request)
        await _store(connection, budget)
        await publish_event(transaction, SOURCE, budget, correlation_id=budget.budget_id,
                            subject=f"{budget.entity_id}/FY{budget.fiscal_year}")

    logger.info("budget %s of %s FY%s version %s approved by %s with %s lines (%s)", budget.budget_id,
                budget.entity_id, budget.fiscal_year, budget.version, budget.approved_by, len(budget.lines),
                entity.currency)
    return budget


async def _new_version(connection: AsyncConnection, entity: Entity, request: BudgetRequest) -> BudgetApproved:
    periods = fiscal_year_periods(request.fiscal_year)
    spread_lines = [await spread_line(connection, entity, request.fiscal_year, periods, line)
                    for line in request.lines]
    version = await _next_version(connection, request.entity_id, request.fiscal_year)
    return BudgetApproved(entity_id=request.entity_id, budget_id=request.budget_id,
                          fiscal_year=request.fiscal_year, version=version, approved_by=request.approved_by,
                          lines=tuple(spread_lines))


# --- replays of a stored budget id -------------------------------------------------------------


def _replayed(stored: BudgetApproved, request: BudgetRequest) -> BudgetApproved:
    """Return the stored budget, lines in the request's order, when the request repeats it."""
    if not _same_content(stored, request):
        raise Conflict(f"budget_id {request.budget_id!r} is already version {stored.version} of {stored.entity_id} "
                       f"FY{stored.fiscal_year} with other content; send a new budget_id for a new version",
                       reason="budget_id_reused")

    logger.info("budget %s of %s FY%s replayed; version %s unchanged", stored.budget_id, stored.entity_id,
                stored.fiscal_year, stored.version)
    position = {(line.line, line.cost_centre): index for index, line in enumerate(request.lines)}
    lines = sorted(stored.lines, key=lambda line: position[(line.line, line.cost_centre or "")])
    return stored.model_copy(update={"lines": tuple(lines)})


def _same_content(stored: BudgetApproved, request: BudgetRequest) -> bool:
    if (stored.entity_id, stored.fiscal_year, stored.approved_by) != (
            request.entity_id, request.fiscal_year, request.approved_by):
        return False
    stored_lines = {(line.line, line.cost_centre or ""): line for line in stored.lines}
    if len(stored_lines) != len(request.lines):
        return False
    return all(_same_line(stored_lines.get((line.line, line.cost_centre)), line) for line in request.lines)


def _same_line(stored: BudgetLine | None, line: BudgetLineRequest) -> bool:
    if stored is None:
        return False
    if line.periods is not None:
        requested = line.periods
        return stored.spread_method == "monthly" and all(
            requested.get(point.period, Decimal(0)) == point.amount for point in stored.periods)
    return stored.annual == line.annual and stored.spread_method in PRODUCED_METHODS.get(line.spread, set())


async def _next_version(connection: AsyncConnection, entity_id: str, fiscal_year: int) -> int:
    table = tables.budgets
    current = (await connection.execute(select(func.max(table.c.version)).where(
        table.c.entity_id == entity_id, table.c.fiscal_year == fiscal_year))).scalar()
    return int(current or 0) + 1


async def _store(connection: AsyncConnection, budget: BudgetApproved) -> None:
    """Store an approved version directly, superseding the version approved before it."""
    await supersede_approved(connection, budget.entity_id, budget.fiscal_year, budget.approved_by, budget.version)
    approved_at = utcnow()
    await connection.execute(insert(tables.budgets).values(
        budget_id=budget.budget_id, entity_id=budget.entity_id, fiscal_year=budget.fiscal_year,
        version=budget.version, status=BudgetStatus.APPROVED, approved_by=budget.approved_by, approved_at=approved_at,
    ))
    await connection.execute(insert(tables.budget_lines), [
        {"budget_id": budget.budget_id, "line": line.line, "cost_centre": line.cost_centre or "",
         "period": point.period, "amount": point.amount, "annual": line.annual, "spread_method": line.spread_method}
        for line in budget.lines for point in line.periods
    ])
    await budget_store.record_step(connection, budget.budget_id, BudgetAction.APPROVED, budget.approved_by,
                                   "approved directly", at=approved_at)


async def supersede_approved(connection: AsyncConnection, entity_id: str, fiscal_year: int, actor: str,
                             version: int) -> None:
    """Mark the entity's approved version of the fiscal year, if any, as superseded by ``version``."""
    current = await budget_store.approved(connection, entity_id, fiscal_year)
    if current is None:
        return
    await budget_store.set_status(connection, current.budget_id, BudgetStatus.SUPERSEDED)
    await budget_store.record_step(connection, current.budget_id, BudgetAction.SUPERSEDED, actor,
                                   f"superseded by version {version}")


async def _check_not_in_workflow(connection: AsyncConnection, budget_id: str) -> None:
    """Reject a direct approval that reuses the id of a version still in draft or submitted."""
    header = await budget_store.header(connection, budget_id)
    if header is not None and header.status in (BudgetStatus.DRAFT, BudgetStatus.SUBMITTED):
        raise Conflict(f"budget_id {budget_id!r} is a {header.status} version of {header.entity_id} "
                       f"FY{header.fiscal_year}; approve it through its workflow, or send a new budget_id",
                       reason="budget_id_reused")
