"""Store plan vintages and publish the strategic targets that adopted and revised plans set."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_common.dispatch import publish_event
from ipm_common.errors import Conflict, InvalidInput
from ipm_common.events import TargetLine, TargetsSet
from ipm_common.storage import Database
from ipm_strategy.adapters import repository
from ipm_strategy.domain.plans import (
    Plan,
    PlanKind,
    PlanLine,
    Target,
    TargetRequest,
    check_target_lines,
    current_targets,
    draft_plan,
)
from ipm_strategy.service_layer.unit_of_work import SOURCE, writing

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredPlan:
    """A stored plan vintage. ``created`` is False when the request replayed an identical plan."""

    plan: Plan
    targets_version: int | None
    created_at: datetime
    created: bool


@dataclass(frozen=True)
class CurrentTarget:
    entity_id: str
    target: Target
    plan_id: str
    plan_name: str
    version: int


async def submit_plan(database: Database, *, plan_id: str, entity_id: str, name: str, kind: PlanKind,
                      adopted_for_fiscal_year: int, lines: Sequence[PlanLine], targets: Sequence[TargetRequest],
                      correlation_id: str) -> StoredPlan:
    """Store a new plan vintage and publish ``TargetsSet`` when it sets targets.

    Replaying a stored plan with identical content changes nothing; other content under a stored
    plan id is a ``Conflict``, because a plan vintage never changes. Every target's line must be a
    defined account or a node of an account hierarchy.
    """
    plan = draft_plan(plan_id, entity_id, name, kind, adopted_for_fiscal_year, lines, targets)

    async with writing(database) as transaction:
        connection = transaction.connection
        stored = await repository.plan(connection, plan_id)
        if stored is not None:
            return _replayed(plan, *stored)
        await _check_entity(connection, entity_id)
        if targets:
            known = await repository.known_lines(connection, [target.line for target in targets])
            check_target_lines(targets, known)

        targets_version = None
        if plan.targets:
            targets_version = await repository.latest_targets_version(connection, entity_id) + 1
        created_at = await repository.insert_plan(connection, plan, targets_version)
        if targets_version is not None:
            await publish_event(transaction, SOURCE, _targets_set(plan, targets_version),
                                correlation_id=correlation_id, subject=f"{entity_id}/{plan_id}")

    logger.info("plan %s (%s) of %s stored with %s lines and %s targets, targets version %s", plan_id, kind,
                entity_id, len(plan.lines), len(plan.targets), targets_version)
    return StoredPlan(plan, targets_version, created_at, created=True)


async def list_current_targets(database: Database, entity_id: str, fiscal_year: int | None) -> list[CurrentTarget]:
    """List the entity's targets in force: per line and fiscal year, the one of the latest plan that set it."""
    async with database.reading() as connection:
        rows = await repository.entity_targets(connection, entity_id, fiscal_year)

    names = {plan_id: plan_name for _, plan_id, plan_name, _ in rows}
    versions = {plan_id: version for version, plan_id, _, _ in rows}
    in_force = current_targets([(version, plan_id, target) for version, plan_id, _, target in rows])
    return [CurrentTarget(entity_id, target, plan_id, names[plan_id], versions[plan_id])
            for plan_id, target in in_force.values()]


def _replayed(plan: Plan, stored: Plan, targets_version: int | None, created_at: datetime) -> StoredPlan:
    if stored != plan:
        raise Conflict(
            f"plan {plan.plan_id} is already stored with other content; a plan vintage never changes, "
            "so submit the revision under a new plan_id with kind 'revised'",
            reason="plan_exists",
        )
    logger.info("plan %s replayed with identical content; nothing changed", plan.plan_id)
    return StoredPlan(stored, targets_version, created_at, created=False)


async def _check_entity(connection: AsyncConnection, entity_id: str) -> None:
    if await repository.entity(connection, entity_id) is None:
        raise InvalidInput(
            f"entity_id: {entity_id!r} is not registered; register it with PUT /v1/entities/{entity_id} first",
            field="entity_id",
        )


def _targets_set(plan: Plan, version: int) -> TargetsSet:
    return TargetsSet(
        entity_id=plan.entity_id,
        plan_id=plan.plan_id,
        plan_name=plan.name,
        version=version,
        targets=tuple(
            TargetLine(line=target.line, fiscal_year=target.fiscal_year, amount=target.amount,
                       band_pct=target.band.pct, band_absolute=target.band.absolute, band_scope=target.band.scope)
            for target in plan.targets
        ),
    )
