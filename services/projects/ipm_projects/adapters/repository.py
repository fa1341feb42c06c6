"""Queries of the projects service's tables. Every function runs on a connection that its caller opened."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_common.errors import Conflict
from ipm_common.periods import PeriodKey
from ipm_common.reference import ReferenceStore
from ipm_common.storage import utcnow
from ipm_projects.adapters import tables
from ipm_projects.domain.charter import Charter, GateReview, Milestone
from ipm_projects.domain.projects import Benefit, LinkedTarget, Project

reference = ReferenceStore(tables.reference)


@dataclass(frozen=True)
class ProjectHeader:
    version: int
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None


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
    types = await benefit_types(connection, project_id)

    linked = sorted(LinkedTarget(row.entity_id, row.line, row.fiscal_year) for row in target_rows)
    benefits = sorted(Benefit(row.entity_id, row.account_id, PeriodKey.parse(row.period), row.amount,
                              types.get((row.entity_id, row.account_id), "revenue_uplift"))
                      for row in benefit_rows)
    charter = Charter(header.sponsor, header.problem, header.goal, header.scope, header.start_date,
                      tuple(await milestones(connection, project_id)), header.status_set)
    stored = Project(project_id, header.name, header.owner, header.phase, tuple(linked), tuple(benefits), charter)
    completed_at = None if header.completed_at is None else aware(header.completed_at)
    return stored, ProjectHeader(header.version, aware(header.created_at), aware(header.updated_at), completed_at)


async def benefit_types(connection: AsyncConnection, project_id: str) -> dict[tuple[str, str], Any]:
    table = tables.project_benefit_lines
    rows = await connection.execute(select(table).where(table.c.project_id == project_id))
    return {(row.entity_id, row.account_id): row.benefit_type for row in rows}


async def milestones(connection: AsyncConnection, project_id: str) -> list[Milestone]:
    table = tables.milestones
    rows = await connection.execute(select(table).where(table.c.project_id == project_id))
    return sorted(Milestone(row.name, row.due_date, row.done_date) for row in rows)


async def gate_reviews(connection: AsyncConnection, project_id: str) -> list[GateReview]:
    table = tables.gate_reviews
    rows = await connection.execute(
        select(table).where(table.c.project_id == project_id).order_by(table.c.sequence))
    return [GateReview(row.sequence, row.phase, row.decision, row.decided_by, row.comment, aware(row.decided_at))
            for row in rows]


async def insert_gate_review(connection: AsyncConnection, project_id: str, review: GateReview) -> None:
    await connection.execute(insert(tables.gate_reviews).values(
        project_id=project_id, sequence=review.sequence, phase=review.phase, decision=review.decision,
        decided_by=review.decided_by, comment=review.comment, decided_at=review.decided_at))


async def advance_project(connection: AsyncConnection, project_id: str, previous: ProjectHeader, phase: str,
                          completed: bool) -> ProjectHeader:
    """Store a project's phase after a gate review as the version after ``previous``."""
    now = utcnow()
    header = ProjectHeader(previous.version + 1, previous.created_at, now, now if completed else None)
    await _bump(connection, project_id, previous, header, phase=phase, completed_at=header.completed_at)
    return header


async def touch_project(connection: AsyncConnection, project_id: str, previous: ProjectHeader) -> ProjectHeader:
    """Count a change outside the project's own row (such as a benefit validation) as a new version."""
    header = ProjectHeader(previous.version + 1, previous.created_at, utcnow(), previous.completed_at)
    await _bump(connection, project_id, previous, header)
    return header


async def _bump(connection: AsyncConnection, project_id: str, previous: ProjectHeader, header: ProjectHeader,
                **values: Any) -> None:
    table = tables.projects
    result = await connection.execute(
        update(table).where(table.c.project_id == project_id, table.c.version == previous.version)
        .values(version=header.version, updated_at=header.updated_at, **values))
    if result.rowcount != 1:
        raise Conflict(f"project {project_id} changed while this request ran; retry the request",
                       reason="concurrent_update")


async def start_date(connection: AsyncConnection, project_id: str) -> date | None:
    table = tables.projects
    started: date | None = (await connection.execute(
        select(table.c.start_date).where(table.c.project_id == project_id))).scalar()
    return started


async def project_header(connection: AsyncConnection, project_id: str) -> Any:
    """Return a project's header row, or None when it does not exist."""
    return (await connection.execute(
        select(tables.projects).where(tables.projects.c.project_id == project_id))).first()


async def linked_targets(connection: AsyncConnection) -> dict[str, list[LinkedTarget]]:
    """Map every project to the strategic targets it is linked to."""
    table = tables.project_targets
    links: dict[str, list[LinkedTarget]] = {}
    for row in await connection.execute(select(table)):
        links.setdefault(row.project_id, []).append(LinkedTarget(row.entity_id, row.line, row.fiscal_year))
    return {project_id: sorted(targets) for project_id, targets in links.items()}


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
        created_at=now, updated_at=now, **_charter_values(project.charter),
    ))
    await _insert_children(connection, project)
    return ProjectHeader(1, now, now)


async def update_project(connection: AsyncConnection, project: Project, previous: ProjectHeader) -> ProjectHeader:
    """Replace a project's content as the version after ``previous``. A concurrent update is a conflict."""
    table = tables.projects
    header = ProjectHeader(previous.version + 1, previous.created_at, utcnow(), previous.completed_at)
    result = await connection.execute(
        update(table)
        .where(table.c.project_id == project.project_id, table.c.version == previous.version)
        .values(name=project.name, owner=project.owner, phase=project.phase, version=header.version,
                updated_at=header.updated_at, **_charter_values(project.charter))
    )
    if result.rowcount != 1:
        raise Conflict(f"project {project.project_id} changed while this request ran; retry the request",
                       reason="concurrent_update")

    for child in (tables.project_targets, tables.project_benefits, tables.milestones):
        await connection.execute(delete(child).where(child.c.project_id == project.project_id))
    await _insert_children(connection, project)
    return header


def _charter_values(charter: Charter) -> dict[str, Any]:
    return {"sponsor": charter.sponsor, "problem": charter.problem, "goal": charter.goal, "scope": charter.scope,
            "start_date": charter.start_date, "status_set": charter.status_set}


async def _insert_children(connection: AsyncConnection, project: Project) -> None:
    if project.charter.milestones:
        await connection.execute(insert(tables.milestones), [
            {"project_id": project.project_id, "name": milestone.name, "due_date": milestone.due,
             "done_date": milestone.done}
            for milestone in project.charter.milestones
        ])
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
