"""Create and re-plan improvement projects and publish their benefits per entity and account."""

import logging
import uuid
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_common.dispatch import publish_event
from ipm_common.errors import Conflict, NotFound
from ipm_common.events import BenefitPoint, BenefitsPlanned
from ipm_common.storage import Database, Transaction, command_transaction
from ipm_projects.adapters import repository
from ipm_projects.adapters.repository import ProjectHeader
from ipm_projects.domain.projects import (
    BenefitRequest,
    LinkedTarget,
    Phase,
    Project,
    define_project,
    lines_to_publish,
)

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
                         correlation_id: str) -> StoredProject:
    """Store a new project at version 1 and publish ``BenefitsPlanned`` for each entity and account it plans on.

    Repeating a stored project with identical content changes nothing; other content under a stored
    project id is a ``Conflict``, because changes go through ``update_project``.
    """
    resolved_id = project_id or str(uuid.uuid4())

    async with _writing(database) as transaction:
        connection = transaction.connection
        project = await _define(connection, resolved_id, name, owner, phase, linked_targets, benefits)
        stored = await repository.project(connection, resolved_id)
        if stored is not None:
            return _replayed(project, *stored)

        header = await repository.insert_project(connection, project)
        await _publish_benefits(transaction, None, project, header.version, correlation_id)

    logger.info("project %s created by %s in phase %s with %s benefits on %s lines", resolved_id, owner, phase,
                len(project.benefits), len(project.benefit_lines()))
    return StoredProject(project, header, changed=True)


async def update_project(database: Database, project_id: str, *, name: str | None, owner: str | None, phase: Phase,
                         linked_targets: Sequence[LinkedTarget] | None, benefits: Sequence[BenefitRequest],
                         correlation_id: str) -> StoredProject:
    """Replace a project's phase and benefits (and name, owner or linked targets when given) as a new version.

    Publishes ``BenefitsPlanned`` for every entity and account the project had or has now, so that
    a pair without benefits any more is published with an empty list.
    """
    async with _writing(database) as transaction:
        connection = transaction.connection
        stored = await repository.project(connection, project_id)
        if stored is None:
            raise NotFound(f"project {project_id!r} not found; create it with POST /v1/projects")
        before, previous = stored

        project = await _define(connection, project_id, name or before.name, owner or before.owner, phase,
                                before.linked_targets if linked_targets is None else linked_targets, benefits)
        if project == before:
            logger.info("project %s update repeated version %s; nothing changed", project_id, previous.version)
            return StoredProject(before, previous, changed=False)

        header = await repository.update_project(connection, project, previous)
        await _publish_benefits(transaction, before, project, header.version, correlation_id)

    logger.info("project %s updated to version %s in phase %s with %s benefits", project_id, header.version, phase,
                len(project.benefits))
    return StoredProject(project, header, changed=True)


async def _define(connection: AsyncConnection, project_id: str, name: str, owner: str, phase: Phase,
                  linked_targets: Sequence[LinkedTarget], benefits: Sequence[BenefitRequest]) -> Project:
    """Build the project against this service's copy of the entities and accounts."""
    entities = await repository.reference.entities(connection)
    accounts = await repository.reference.accounts(connection)
    calendars = {entity_id: entity.calendar for entity_id, entity in entities.items()}
    return define_project(project_id, name, owner, phase, linked_targets, benefits, calendars, set(accounts))


def _replayed(project: Project, stored: Project, header: ProjectHeader) -> StoredProject:
    if stored != project:
        raise Conflict(
            f"project {project.project_id} already exists with other content; change it with "
            f"PUT /v1/projects/{project.project_id}",
            reason="project_exists",
        )
    logger.info("project %s replayed with identical content; nothing changed", project.project_id)
    return StoredProject(stored, header, changed=False)


async def _publish_benefits(transaction: Transaction, before: Project | None, after: Project, version: int,
                            correlation_id: str) -> None:
    benefit_lines = after.benefit_lines()
    for entity_id, account_id in lines_to_publish(before, after):
        points = tuple(BenefitPoint(period=str(benefit.period), amount=benefit.amount)
                       for benefit in benefit_lines.get((entity_id, account_id), ()))
        event = BenefitsPlanned(project_id=after.project_id, name=after.name, entity_id=entity_id,
                                account_id=account_id, version=version, benefits=points)
        await publish_event(transaction, SOURCE, event, correlation_id=correlation_id,
                            subject=f"{after.project_id}/{entity_id}/{account_id}")


def _writing(database: Database) -> AbstractAsyncContextManager[Transaction]:
    """Open a write transaction that turns a project id taken by a concurrent request into a ``Conflict``."""
    return command_transaction(database, subject="project")
