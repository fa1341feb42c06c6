"""Create and re-plan improvement projects and publish their benefits per entity and account."""

import logging
import uuid
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_common.dispatch import publish_event
from ipm_common.errors import Conflict, NotFound
from ipm_common.events import BenefitPoint, BenefitsChanged, BenefitsPlanned
from ipm_common.storage import Database, Transaction, command_transaction
from ipm_projects.adapters import benefits as benefit_store
from ipm_projects.adapters import repository
from ipm_projects.adapters.repository import ProjectHeader
from ipm_projects.domain.charter import Charter, Phase
from ipm_projects.domain.projects import (
    BenefitRequest,
    Line,
    LinkedTarget,
    Project,
    changed_lines,
    define_project,
)
from ipm_projects.service_layer.realisation import remeasure

logger = logging.getLogger(__name__)

SOURCE = "ipm-projects"


@dataclass(frozen=True)
class StoredProject:
    """A stored project. ``changed`` is False when the request repeated the stored content."""

    project: Project
    header: ProjectHeader
    changed: bool


async def create_project(database: Database, *, project_id: str | None, name: str, owner: str, phase: Phase,
                         linked_targets: Sequence[LinkedTarget], benefits: Sequence[BenefitRequest],
                         correlation_id: str, charter: Charter | None = None) -> StoredProject:
    """Store a new project at version 1 and publish ``BenefitsPlanned`` for each entity and account it plans on.

    A project registered part-way through starts in ``phase``; the gates before it have no review.
    Repeating a stored project with identical content changes nothing; other content under a stored
    project id is a ``Conflict``, because changes go through ``update_project``.
    """
    resolved_id = project_id or str(uuid.uuid4())

    async with _writing(database) as transaction:
        connection = transaction.connection
        project = await _define(connection, resolved_id, name, owner, phase, linked_targets, benefits, charter)
        stored = await repository.project(connection, resolved_id)
        if stored is not None:
            return _replayed(project, *stored)

        header = await repository.insert_project(connection, project)
        for line in sorted(project.benefit_lines()):
            await _plan_line(transaction, None, project, line, header.version, correlation_id, reason="")
            # A project registered after actuals of its planned periods arrived is measured at once.
            await remeasure(transaction, resolved_id, line, correlation_id)

    logger.info("project %s created by %s in phase %s with %s benefits on %s lines", resolved_id, owner, phase,
                len(project.benefits), len(project.benefit_lines()))
    return StoredProject(project, header, changed=True)


async def update_project(database: Database, project_id: str, *, name: str | None, owner: str | None,
                         phase: Phase | None, linked_targets: Sequence[LinkedTarget] | None,
                         benefits: Sequence[BenefitRequest], correlation_id: str,
                         charter_changes: Mapping[str, Any] | None = None, reason: str | None = None) -> StoredProject:
    """Replace a project's benefits (and name, owner, linked targets or charter when given) as a new version.

    The phase changes only through gate reviews, so a ``phase`` other than the stored one is a
    ``Conflict``. A line planned for the first time gets ``BenefitsPlanned``. A line whose amounts,
    periods or type changed, or that lost every benefit, gets ``BenefitsChanged`` with ``reason``,
    and goes back to stage expected.
    """
    async with _writing(database) as transaction:
        connection = transaction.connection
        stored = await repository.project(connection, project_id)
        if stored is None:
            raise NotFound(f"project {project_id!r} not found; create it with POST /v1/projects")
        before, previous = stored
        _check_phase_kept(project_id, before.phase, phase)

        project = await _define(connection, project_id, name or before.name, owner or before.owner, before.phase,
                                before.linked_targets if linked_targets is None else linked_targets, benefits,
                                replace(before.charter, **(charter_changes or {})))
        if project == before:
            logger.info("project %s update repeated version %s; nothing changed", project_id, previous.version)
            return StoredProject(before, previous, changed=False)

        header = await repository.update_project(connection, project, previous)
        because = reason or f"re-planned in project version {header.version}"
        for line in changed_lines(before, project):
            await _plan_line(transaction, before, project, line, header.version, correlation_id, reason=because)
        for line in sorted(project.benefit_lines()):
            await remeasure(transaction, project_id, line, correlation_id)

    logger.info("project %s updated to version %s with %s benefits", project_id, header.version,
                len(project.benefits))
    return StoredProject(project, header, changed=True)


def _check_phase_kept(project_id: str, stored: Phase, requested: Phase | None) -> None:
    if requested is not None and requested != stored:
        raise Conflict(
            f"project {project_id} is in phase {stored!r}; a phase changes only through an approved gate review, "
            f"so POST /v1/projects/{project_id}/gates with phase {stored!r} and decision approved",
            reason="phase_needs_gate",
        )


async def _define(connection: AsyncConnection, project_id: str, name: str, owner: str, phase: Phase,
                  linked_targets: Sequence[LinkedTarget], benefits: Sequence[BenefitRequest],
                  charter: Charter | None) -> Project:
    """Build the project against this service's copy of the entities and accounts."""
    entities = await repository.reference.entities(connection)
    accounts = await repository.reference.accounts(connection)
    calendars = {entity_id: entity.calendar for entity_id, entity in entities.items()}
    return define_project(project_id, name, owner, phase, linked_targets, benefits, calendars, set(accounts),
                          charter)


def _replayed(project: Project, stored: Project, header: ProjectHeader) -> StoredProject:
    if stored != project:
        raise Conflict(
            f"project {project.project_id} already exists with other content; change it with "
            f"PUT /v1/projects/{project.project_id}",
            reason="project_exists",
        )
    logger.info("project %s replayed with identical content; nothing changed", project.project_id)
    return StoredProject(stored, header, changed=False)


async def _plan_line(transaction: Transaction, before: Project | None, after: Project, line: Line, version: int,
                     correlation_id: str, *, reason: str) -> None:
    """Store one line's new plan at stage expected and publish it: planned the first time, changed after."""
    # NOTE: the forecast service's benefit layer subscribes to ``ipm.projects.benefits.planned`` only, so it
    # keeps a line's first plan until it also handles ``ipm.projects.benefits.changed``.
    planned = after.benefit_lines().get(line, ())
    had_line = before is not None and line in before.benefit_lines()
    planning = after if planned or before is None else before
    benefit_type = planning.benefit_types().get(line, "revenue_uplift")
    if planned:
        await benefit_store.plan_line(transaction.connection, after.project_id, line, benefit_type)
    else:
        await benefit_store.drop_line(transaction.connection, after.project_id, line)

    points = tuple(BenefitPoint(period=str(benefit.period), amount=benefit.amount) for benefit in planned)
    fields = {"project_id": after.project_id, "name": after.name, "entity_id": line[0], "account_id": line[1],
              "version": version, "benefits": points, "benefit_type": benefit_type, "stage": "expected"}
    event = BenefitsChanged(**fields, reason=reason) if had_line else BenefitsPlanned(**fields)
    await publish_event(transaction, SOURCE, event, correlation_id=correlation_id,
                        subject=f"{after.project_id}/{line[0]}/{line[1]}")


def _writing(database: Database) -> AbstractAsyncContextManager[Transaction]:
    """Open a write transaction that turns a project id taken by a concurrent request into a ``Conflict``."""
    return command_transaction(database, subject="project")
