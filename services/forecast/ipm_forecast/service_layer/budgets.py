"""Approve budgets: spread annual figures to periods to the cent and publish ``budget approved``."""

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_common.dispatch import publish_event
from ipm_common.errors import Conflict, InvalidInput
from ipm_common.events import BudgetApproved, BudgetLine, BudgetPeriod
from ipm_common.money import parse_amount
from ipm_common.periods import PeriodKey, fiscal_year_periods
from ipm_common.spreading import spread_by_profile, spread_even
from ipm_common.storage import Database, utcnow
from ipm_forecast.adapters import repository, tables

logger = logging.getLogger(__name__)

SOURCE = "ipm-forecast"

# Two requests that race for the same budget id or version collide on a unique key. The loser's
# next attempt finds the winner's budget or takes the next free version.
MAX_ATTEMPTS = 3

# The stored spread methods that a requested spread can produce: a profile spread falls back to
# an even one when the prior year has no usable actuals.
PRODUCED_METHODS = {"even": {"even"}, "profile": {"profile", "even"}}


@dataclass(frozen=True)
class BudgetLineRequest:
    line: str
    cost_centre: str
    annual: Decimal | None
    periods: dict[str, Decimal] | None
    spread: str  # "even" or "profile"


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
    _check_lines(lines, fiscal_year_periods(fiscal_year))
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
        stored = await repository.stored_budget(connection, request.budget_id)
        if stored is not None:
            return _replayed(stored, request)

        await _check_known_lines(connection, request.lines)
        budget = await _new_version(connection, request)
        await _store(connection, budget)
        await publish_event(transaction, SOURCE, budget, correlation_id=budget.budget_id,
                            subject=f"{budget.entity_id}/FY{budget.fiscal_year}")

    logger.info("budget %s of %s FY%s version %s approved by %s with %s lines (%s)", budget.budget_id,
                budget.entity_id, budget.fiscal_year, budget.version, budget.approved_by, len(budget.lines),
                entity.currency)
    return budget


async def _new_version(connection: AsyncConnection, request: BudgetRequest) -> BudgetApproved:
    periods = fiscal_year_periods(request.fiscal_year)
    spread_lines = [await _spread_line(connection, request.entity_id, request.fiscal_year, periods, line)
                    for line in request.lines]
    version = await _next_version(connection, request.entity_id, request.fiscal_year)
    return BudgetApproved(entity_id=request.entity_id, budget_id=request.budget_id,
                          fiscal_year=request.fiscal_year, version=version, approved_by=request.approved_by,
                          lines=tuple(spread_lines))


# --- checks of the request ---------------------------------------------------------------------


def _check_lines(lines: Sequence[BudgetLineRequest], periods: list[PeriodKey]) -> None:
    """Reject repeated lines and amounts that cannot be spread to the cent."""
    first_index: dict[tuple[str, str], int] = {}
    for index, line in enumerate(lines):
        earlier = first_index.setdefault((line.line, line.cost_centre), index)
        if earlier != index:
            where = f" with cost centre {line.cost_centre!r}" if line.cost_centre else ""
            raise InvalidInput(f"lines[{index}].line: {line.line!r}{where} repeats lines[{earlier}]; send one entry "
                               "per line and cost centre", field=f"lines[{index}].line")
        _check_amounts(index, line, periods)


def _check_amounts(index: int, line: BudgetLineRequest, periods: list[PeriodKey]) -> None:
    if line.periods is None and line.annual is None:
        raise InvalidInput(f"lines[{index}].annual: missing, and so are periods; give annual or periods",
                           field=f"lines[{index}].annual")
    if line.annual is not None:
        _check_cents(line.annual, f"lines[{index}].annual")
    if line.periods is None:
        _check_spread(index, line.spread)
        return

    total = _monthly_total(index, line, periods)
    if line.annual is not None and line.annual != total:
        raise InvalidInput(f"lines[{index}].annual: {line.annual} differs from the sum of periods, {total}; give "
                           "either annual or periods, not both", field=f"lines[{index}].annual")


def _monthly_total(index: int, line: BudgetLineRequest, periods: list[PeriodKey]) -> Decimal:
    """Check the amounts per period and return their sum."""
    assert line.periods is not None
    for period, amount in line.periods.items():
        _check_cents(amount, f"lines[{index}].periods.{period}")
    total = sum(_monthly_amounts(index, line, periods), Decimal(0))
    try:
        parse_amount(total, field=f"lines[{index}].periods")
    except InvalidInput as error:
        limit = str(error).rpartition("; ")[2]
        raise InvalidInput(f"lines[{index}].periods: their sum {total} becomes the annual amount and is out of "
                           f"range ({limit}); lower the amounts", field=f"lines[{index}].periods") from None
    return total


def _check_spread(index: int, spread: str) -> None:
    if spread not in PRODUCED_METHODS:
        raise InvalidInput(f"lines[{index}].spread: {spread!r} is unknown; use \"even\" or \"profile\"",
                           field=f"lines[{index}].spread")


def _check_cents(amount: Decimal, field: str) -> None:
    if (Fraction(amount) * 100).denominator != 1:
        raise InvalidInput(f"{field}: {amount} has fractions of a cent; budgets are set to the cent, so round it "
                           "to two decimal places", field=field)


async def _check_known_lines(connection: AsyncConnection, lines: Sequence[BudgetLineRequest]) -> None:
    """Reject lines that are neither an account nor a node of an account hierarchy."""
    accounts = await repository.reference.accounts(connection)
    nodes: set[str] = set()
    for hierarchy in await repository.reference.hierarchies(connection, "account"):
        nodes |= hierarchy.nodes

    for index, line in enumerate(lines):
        if line.line not in accounts and line.line not in nodes:
            raise InvalidInput(f"lines[{index}].line: {line.line!r} is neither a defined account nor a node of an "
                               "account hierarchy; define it in the strategy service first, or correct the id",
                               field=f"lines[{index}].line")


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


# --- spreading ---------------------------------------------------------------------------------


async def _spread_line(connection: AsyncConnection, entity_id: str, fiscal_year: int, periods: list[PeriodKey],
                       line: BudgetLineRequest) -> BudgetLine:
    if line.periods is not None:
        amounts = [line.periods.get(str(period), Decimal(0)) for period in periods]
        return BudgetLine(line=line.line, cost_centre=line.cost_centre or None, annual=sum(amounts, Decimal(0)),
                          spread_method="monthly", periods=_budget_periods(periods, amounts))

    assert line.annual is not None
    if line.spread == "profile":
        profile = await _prior_year_profile(connection, entity_id, line.line, fiscal_year - 1)
        amounts, method = spread_by_profile(line.annual, profile)
    else:
        amounts, method = spread_even(line.annual, len(periods)), "even"
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
