"""Queries of the projects service's tables. Every function runs on a connection that its caller opened."""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_common.errors import Conflict
from ipm_common.periods import PeriodKey
from ipm_common.reference import ReferenceStore
from ipm_common.storage import utcnow
from ipm_projects.adapters import tables
from ipm_projects.domain.projects import Benefit, LinkedTarget, Project

reference = ReferenceStore(tables.reference)


@dataclass(frozen=True)
class ProjectHeader:
    version: int
    created_at: datetime
    updated_at: datetime


def aware(moment: datetime) -> datetime:
    """Return ``moment`` as an aware UTC datetime, because SQLite returns naive datetimes for columns written in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def project(connection: AsyncConnection, project_id: str) -> tuple[Project, ProjectHeader] | None:
    """Load a project with its version and timestamps, or None when it does not exist."""
    header = (await connection.execute(
        select(tables.projects).where(tables.projects.c.project_id == project_id))).first()
    if header is None:
        return None

    target_table, benefit_table = tables.project_targets, tables.project_benefits
    target_rows = await connection.execute(select(target_table).where(target_table.c.project_id == project_id))
    benefit_rows = await connection.execute(select(benefit_table).where(benefit_table.c.project_id == project_id))

    linked = sorted(LinkedTarget(row.entity_id, row.line, row.fiscal_year) for row in target_rows)
    benefits = sorted(Benefit(row.entity_id, row.account_id, PeriodKey.parse(row.period), row.amount)
                      for row in benefit_rows)
    stored = Project(project_id, header.name, header.owner, header.phase, tuple(linked), tuple(benefits))
    return stored, ProjectHeader(header.version, aware(header.created_at), aware(header.updated_at))


async def project_headers(connection: AsyncConnection, phase: str | None) -> list[Any]:
    """List project header rows, most recently changed first, optionally of one phase."""
    table = tables.projects
    query = select(table).order_by(table.c.updated_at.desc(), table.c.project_id)
    if phase is not None:
        query = query.where(table.c.phase == phase)
    return list(await connection.execute(query))


async def insert_project(connection: AsyncConnection, project: Project) -> ProjectHeader:
    """Insert a project at version 1 with its linked targets and benefits."""
    now = utcnow()
    await connection.execute(insert(tables.projects).values(
        project_id=project.project_id, name=project.name, owner=project.owner, phase=project.phase, version=1,
        created_at=now, updated_at=now,
    ))
    await _insert_children(connection, project)
    return ProjectHeader(1, now, now)


async def update_project(connection: AsyncConnection, project: Project, previous: ProjectHeader) -> ProjectHeader:
    """Replace a project's content as the version after ``previous``. A concurrent update is a conflict."""
    table = tables.projects
    header = ProjectHeader(previous.version + 1, previous.created_at, utcnow())
    result = await connection.execute(
        update(table)
        .where(table.c.project_id == project.project_id, table.c.version == previous.version)
        .values(name=project.name, owner=project.owner, phase=project.phase, version=header.version,
                updated_at=header.updated_at)
    )
    if result.rowcount != 1:
        raise Conflict(f"project {project.project_id} changed while this request ran; retry the request",
                       reason="concurrent_update")

    for child in (tables.project_targets, tables.project_benefits):
        await connection.execute(delete(child).where(child.c.project_id == project.project_id))
    await _insert_children(connection, project)
    return header


async def _insert_children(connection: AsyncConnection, project: Project) -> None:
    if project.linked_targets:
        await connection.execute(insert(tables.project_targets), [
            {"project_id": project.project_id, "entity_id": target.entity_id, "line": target.line,
             "fiscal_year": target.fiscal_year}
            for target in project.linked_targets
        ])
    if project.benefits:
        await connection.execute(insert(tables.project_benefits), [
            {"project_id": project.project_id, "entity_id": benefit.entity_id, "account_id": benefit.account_id,
             "period": str(benefit.period), "amount": benefit.amount}
            for benefit in project.benefits
        ])
