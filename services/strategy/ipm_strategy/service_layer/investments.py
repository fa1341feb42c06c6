"""Request, approve and reject investment envelopes against an operating plan's budget."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_common.errors import Conflict, NotFound
from ipm_common.storage import Database, utcnow
from ipm_strategy.adapters import investments as store
from ipm_strategy.adapters import operating_plans as plan_store
from ipm_strategy.domain.investments import (
    BUDGET_LINES,
    Envelope,
    EnvelopeKind,
    approved_totals,
    check_budget_covers_approved,
    request_envelope,
)
from ipm_strategy.domain.operating_plans import OperatingPlan
from ipm_strategy.service_layer.unit_of_work import writing

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BudgetUse:
    kind: EnvelopeKind
    fiscal_year: int
    budget: Decimal
    approved: Decimal
    requested: Decimal


async def request(database: Database, *, envelope_id: str, plan_id: str, initiative: str, kind: EnvelopeKind,
                  amounts: Sequence[tuple[int, object]], requested_by: str) -> Envelope:
    """Store a requested envelope of a plan that is not reported history."""
    item = request_envelope(envelope_id, plan_id, initiative, kind, amounts, requested_by, utcnow())
    async with writing(database) as transaction:
        connection = transaction.connection
        plan = await _plan(connection, plan_id)
        if plan.status == "history":
            raise Conflict(f"operating plan {plan_id} contains reported history and takes no envelopes; "
                           "request the envelope on a proposed or adopted plan", reason="plan_is_history")
        if await store.envelope(connection, envelope_id) is not None:
            raise Conflict(f"envelope {envelope_id} already exists; choose another envelope_id",
                           reason="envelope_exists")
        await store.insert_envelope(connection, item)

    logger.info("envelope %s (%s) of %s requested for plan %s by %s", envelope_id, kind, initiative, plan_id,
                requested_by)
    return item


async def approve(database: Database, envelope_id: str, *, by: str) -> Envelope:
    """Approve a requested envelope when the plan's budget of its kind has room in every year."""
    async with writing(database) as transaction:
        connection = transaction.connection
        stored = await _envelope(connection, envelope_id)
        await store.lock_plan(connection, stored.plan_id)
        plan = await _plan(connection, stored.plan_id)
        approved = approved_totals(await store.envelopes(connection, stored.plan_id), stored.kind)
        decided = stored.approve(by, utcnow(), budget_by_year(plan, stored.kind), approved)
        await store.save_decision(connection, decided)

    logger.info("envelope %s approved by %s", envelope_id, by)
    return decided


async def reject(database: Database, envelope_id: str, *, by: str, reason: str) -> Envelope:
    async with writing(database) as transaction:
        stored = await _envelope(transaction.connection, envelope_id)
        decided = stored.reject(by, utcnow(), reason)
        await store.save_decision(transaction.connection, decided)

    logger.info("envelope %s rejected by %s", envelope_id, by)
    return decided


async def plan_envelopes(database: Database, plan_id: str) -> tuple[list[Envelope], list[BudgetUse]]:
    """List a plan's envelopes and, per kind and year, the budget against approved and requested amounts."""
    async with database.reading() as connection:
        plan = await _plan(connection, plan_id)
        items = await store.envelopes(connection, plan_id)

    uses: list[BudgetUse] = []
    for kind in BUDGET_LINES:
        budget = budget_by_year(plan, kind)
        approved = approved_totals(items, kind)
        requested = approved_totals([_as_approved(item) for item in items if item.status == "requested"], kind)
        for year in sorted(set(budget) | set(approved) | set(requested)):
            uses.append(BudgetUse(kind, year, budget.get(year, Decimal(0)), approved.get(year, Decimal(0)),
                                  requested.get(year, Decimal(0))))
    return items, uses


async def check_approved_envelopes(connection: AsyncConnection, plan: OperatingPlan) -> None:
    """Keep the budget lines of a changed plan at or above the envelopes approved against them.

    The plan's row is locked first, so that an approval running at the same time sees either the old
    budget or the new one.
    """
    await store.lock_plan(connection, plan.plan_id)
    items = await store.envelopes(connection, plan.plan_id)
    check_budget_covers_approved(plan.plan_id, items, {kind: budget_by_year(plan, kind) for kind in BUDGET_LINES})


def budget_by_year(plan: OperatingPlan, kind: EnvelopeKind) -> dict[int, Decimal]:
    line = BUDGET_LINES[kind]
    return {item.fiscal_year: item.amount for item in plan.entries if item.definition.line == line}


def _as_approved(item: Envelope) -> Envelope:
    return Envelope(item.envelope_id, item.plan_id, item.initiative, item.kind, item.amounts, "approved",
                    item.requested_by, item.requested_at)


async def _plan(connection: AsyncConnection, plan_id: str) -> OperatingPlan:
    loaded = await plan_store.load(connection, plan_id)
    if loaded is None:
        raise NotFound(f"operating plan {plan_id!r} not found; list plans with GET /v1/operating-plans")
    return loaded[0]


async def _envelope(connection: AsyncConnection, envelope_id: str) -> Envelope:
    found = await store.envelope(connection, envelope_id)
    if found is None:
        raise NotFound(f"envelope {envelope_id!r} not found; list a plan's envelopes with "
                       "GET /v1/operating-plans/{plan_id}/envelopes")
    return found
