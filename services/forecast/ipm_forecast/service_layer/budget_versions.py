"""Budget versions through their workflow: create a draft, replace its lines, submit, approve or reject.

Every step is recorded with who took it and when. Approval gives the version the next approval
number of its entity and fiscal year, supersedes the version approved before, and publishes
``budget approved`` with the approved lines.
"""

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_common.dispatch import publish_event
from ipm_common.errors import Conflict, NotFound
from ipm_common.events import BudgetApproved, BudgetLine, BudgetPeriod
from ipm_common.periods import fiscal_year_periods
from ipm_common.storage import Database, command_transaction
from ipm_forecast.adapters import budget_store, repository
from ipm_forecast.adapters.budget_store import BudgetHeader, HistoryStep, StoredLine, StoredPeriod
from ipm_forecast.domain.budget_workflow import BudgetAction, next_status
from ipm_forecast.service_layer.budget_lines import (
    BudgetLineRequest,
    check_drivers,
    check_known_lines,
    check_lines,
    spread_line,
)
from ipm_forecast.service_layer.budgets import SOURCE, supersede_approved

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LinesInput:
    """Lines as entered, the driver series they may follow, and how errors name each line."""

    lines: Sequence[BudgetLineRequest]
    drivers: Mapping[str, Mapping[str, Decimal]]
    prefixes: Sequence[str] | None = None  # e.g. "rows[3]" for lines read from a file


@dataclass(frozen=True)
class BudgetVersion:
    header: BudgetHeader
    lines: list[StoredLine]
    history: list[HistoryStep]


async def create_draft(database: Database, *, budget_id: str | None, entity_id: str, fiscal_year: int, by: str,
                       entered: LinesInput) -> BudgetVersion:
    """Create a draft version, with or without lines; a taken budget id gets 409."""
    budget_id = budget_id or str(uuid.uuid4())
    async with command_transaction(database, subject="budget") as transaction:
        connection = transaction.connection
        entity = await repository.reference.entity(connection, entity_id)
        if await budget_store.header(connection, budget_id) is not None:
            raise Conflict(f"budget_id {budget_id!r} is taken; send another id, or GET /v1/budgets/{budget_id}",
                           reason="budget_id_reused")
        await budget_store.insert_header(connection, budget_id, entity_id, fiscal_year)
        await budget_store.record_step(connection, budget_id, BudgetAction.CREATED, by)
        count = await _store_lines(connection, budget_id, entity_id, fiscal_year, entered)
        version = await _read(connection, budget_id)

    logger.info("budget %s of %s FY%s created as draft by %s with %s lines (%s)", budget_id, entity_id,
                fiscal_year, by, count, entity.currency)
    return version


async def replace_lines(database: Database, budget_id: str, *, by: str, entered: LinesInput) -> BudgetVersion:
    """Replace every line of a draft; 409 once the version left draft."""
    async with command_transaction(database, subject="budget") as transaction:
        connection = transaction.connection
        header = await _locked_header(connection, budget_id)
        next_status(budget_id, header.status, BudgetAction.LINES_REPLACED)
        count = await _store_lines(connection, budget_id, header.entity_id, header.fiscal_year, entered)
        await budget_store.record_step(connection, budget_id, BudgetAction.LINES_REPLACED, by, f"{count} lines")
        version = await _read(connection, budget_id)

    logger.info("budget %s lines replaced by %s: %s lines", budget_id, by, count)
    return version


async def submit(database: Database, budget_id: str, *, by: str) -> BudgetVersion:
    """Submit a draft for approval; a draft without lines cannot be submitted."""
    async with command_transaction(database, subject="budget") as transaction:
        connection = transaction.connection
        header = await _locked_header(connection, budget_id)
        status = next_status(budget_id, header.status, BudgetAction.SUBMITTED)
        if not await budget_store.lines(connection, budget_id):
            raise Conflict(f"budget {budget_id} has no lines; replace its lines before submitting it",
                           reason="no_lines")
        await budget_store.set_status(connection, budget_id, status)
        await budget_store.record_step(connection, budget_id, BudgetAction.SUBMITTED, by)
        version = await _read(connection, budget_id)

    logger.info("budget %s submitted by %s", budget_id, by)
    return version


async def reject(database: Database, budget_id: str, *, by: str, reason: str) -> BudgetVersion:
    """Send a submitted version back to draft, recording the reason."""
    async with command_transaction(database, subject="budget") as transaction:
        connection = transaction.connection
        header = await _locked_header(connection, budget_id)
        status = next_status(budget_id, header.status, BudgetAction.REJECTED)
        await budget_store.set_status(connection, budget_id, status)
        await budget_store.record_step(connection, budget_id, BudgetAction.REJECTED, by, reason)
        version = await _read(connection, budget_id)

    logger.info("budget %s rejected by %s back to draft: %s", budget_id, by, reason)
    return version


async def approve(database: Database, budget_id: str, *, by: str) -> BudgetVersion:
    """Approve a submitted version: number it, supersede the approved one and publish ``budget approved``."""
    async with command_transaction(database, subject="budget") as transaction:
        connection = transaction.connection
        header = await _locked_header(connection, budget_id)
        next_status(budget_id, header.status, BudgetAction.APPROVED)

        number = await budget_store.next_version(connection, header.entity_id, header.fiscal_year)
        await supersede_approved(connection, header.entity_id, header.fiscal_year, by, number)
        approved_at = await budget_store.record_step(connection, budget_id, BudgetAction.APPROVED, by,
                                                     f"version {number}")
        await budget_store.set_approved(connection, budget_id, number, by, approved_at)
        version = await _read(connection, budget_id)
        await publish_event(transaction, SOURCE, approved_event(version), correlation_id=budget_id,
                            subject=f"{header.entity_id}/FY{header.fiscal_year}")

    logger.info("budget %s of %s FY%s approved by %s as version %s with %s lines", budget_id, header.entity_id,
                header.fiscal_year, by, number, len(version.lines))
    return version


async def get_version(database: Database, budget_id: str) -> BudgetVersion:
    async with database.reading() as connection:
        return await _read(connection, budget_id)


async def list_versions(database: Database, entity_id: str, fiscal_year: int | None) -> list[BudgetHeader]:
    async with database.reading() as connection:
        return await budget_store.headers(connection, entity_id, fiscal_year)


def approved_event(version: BudgetVersion) -> BudgetApproved:
    header = version.header
    assert header.version is not None and header.approved_by is not None
    lines = tuple(BudgetLine(line=line.line, cost_centre=line.cost_centre or None, annual=line.annual,
                             spread_method=line.spread_method,
                             periods=tuple(BudgetPeriod(period=point.period, amount=point.amount)
                                           for point in line.periods))
                  for line in version.lines)
    return BudgetApproved(entity_id=header.entity_id, budget_id=header.budget_id, fiscal_year=header.fiscal_year,
                          version=header.version, approved_by=header.approved_by, lines=lines)


async def _store_lines(connection: AsyncConnection, budget_id: str, entity_id: str, fiscal_year: int,
                       entered: LinesInput) -> int:
    """Check and spread the entered lines and store them in place of the version's lines."""
    periods = fiscal_year_periods(fiscal_year)
    drivers = check_drivers(entered.drivers, periods)
    check_lines(entered.lines, periods, drivers, entered.prefixes)
    await check_known_lines(connection, entered.lines, entered.prefixes)

    entity = await repository.reference.entity(connection, entity_id)
    stored = []
    for line in entered.lines:
        spread = await spread_line(connection, entity, fiscal_year, periods, line, drivers)
        driver = line.driver if spread.spread_method == "driver" else None
        stored.append(StoredLine(spread.line, spread.cost_centre or "", spread.annual, spread.spread_method, driver,
                                 tuple(StoredPeriod(point.period, point.amount) for point in spread.periods)))
    await budget_store.replace_lines(connection, budget_id, stored)
    return len(stored)


async def _header(connection: AsyncConnection, budget_id: str) -> BudgetHeader:
    header = await budget_store.header(connection, budget_id)
    if header is None:
        raise NotFound(f"budget {budget_id!r} not found; GET /v1/budgets?entity_id=... lists an entity's versions")
    return header


async def _locked_header(connection: AsyncConnection, budget_id: str) -> BudgetHeader:
    """Read the header again under the entity's lock, so that concurrent steps of one version run in turn."""
    header = await _header(connection, budget_id)
    await repository.lock_entity(connection, header.entity_id)
    return await _header(connection, budget_id)


async def _read(connection: AsyncConnection, budget_id: str) -> BudgetVersion:
    header = await _header(connection, budget_id)
    return BudgetVersion(header, await budget_store.lines(connection, budget_id),
                         await budget_store.history(connection, budget_id))
