"""The projects service's HTTP API: improvement projects, their charters and gate reviews.

The benefit, KPI and portfolio routes live in their own modules and are included here, so that
``router`` carries every route of the service.
"""

from datetime import date
from http import HTTPStatus
from typing import Annotated

from fastapi import APIRouter, Query, Response

from ipm_common.errors import NotFound
from ipm_common.http import ExactJSONRoute
from ipm_common.storage import Database
from ipm_projects.adapters import benefits as benefit_store
from ipm_projects.adapters import repository
from ipm_projects.adapters.repository import ProjectHeader
from ipm_projects.domain.charter import Phase
from ipm_projects.domain.projects import Project
from ipm_projects.entrypoints import benefits_api, kpis_api
from ipm_projects.entrypoints.dependencies import CorrelationDependency, DatabaseDependency, ProjectId, today
from ipm_projects.entrypoints.schemas import (
    GateReviewIn,
    GateReviewOut,
    ProjectIn,
    ProjectOut,
    ProjectSaved,
    ProjectSummary,
    ProjectUpdateIn,
)
from ipm_projects.service_layer import gates, projects

router = APIRouter(prefix="/v1", route_class=ExactJSONRoute, tags=["projects"])

AsOf = Annotated[date | None, Query(description="the day the status is derived for; left out, today (UTC)")]


@router.post("/projects", response_model=ProjectSaved, status_code=HTTPStatus.CREATED,
             responses={200: {"description": "the same project was stored before; nothing changed"},
                        409: {"description": "the project id is taken by a project with other content"}})
async def post_project(body: ProjectIn, response: Response, database: DatabaseDependency,
                       correlation: CorrelationDependency) -> ProjectSaved:
    """Create an improvement project and publish its planned benefits per entity and account."""
    stored = await projects.create_project(
        database, project_id=body.project_id, name=body.name, owner=body.owner, phase=body.phase,
        linked_targets=[target.to_target() for target in body.linked_targets],
        benefits=[benefit.to_request() for benefit in body.benefits], correlation_id=correlation,
        charter=body.to_charter(),
    )
    if not stored.changed:
        response.status_code = HTTPStatus.OK
    return await _saved(database, stored)


@router.put("/projects/{project_id}", response_model=ProjectSaved,
            responses={409: {"description": "the phase differs from the stored one; use a gate review"}})
async def put_project(project_id: ProjectId, body: ProjectUpdateIn, database: DatabaseDependency,
                      correlation: CorrelationDependency) -> ProjectSaved:
    """Replace a project's benefits and charter fields as a new version and publish every line that changed."""
    linked = None if body.linked_targets is None else [target.to_target() for target in body.linked_targets]
    stored = await projects.update_project(
        database, project_id, name=body.name, owner=body.owner, phase=body.phase, linked_targets=linked,
        benefits=[benefit.to_request() for benefit in body.benefits], correlation_id=correlation,
        charter_changes=body.charter_changes(), reason=body.reason,
    )
    return await _saved(database, stored)


@router.post("/projects/{project_id}/gates", response_model=GateReviewOut, status_code=HTTPStatus.CREATED,
             responses={200: {"description": "the request repeats the latest gate review; nothing changed"},
                        409: {"description": "the gate is not the current phase, or the project is completed"}})
async def post_gate_review(project_id: ProjectId, body: GateReviewIn, response: Response,
                           database: DatabaseDependency) -> GateReviewOut:
    """Review the gate at the end of the current phase; an approval moves the project to the next phase."""
    reviewed = await gates.decide_gate(database, project_id, gate=body.phase, decision=body.decision,
                                       decided_by=body.decided_by, comment=body.comment)
    if not reviewed.changed:
        response.status_code = HTTPStatus.OK
    return GateReviewOut.of(reviewed.review)


async def _saved(database: Database, stored: projects.StoredProject) -> ProjectSaved:
    out = await _project_out(database, stored.project, stored.header, None)
    return ProjectSaved(**out.model_dump(), changed=stored.changed)


async def _project_out(database: Database, project: Project, header: ProjectHeader, as_of: date | None) -> ProjectOut:
    async with database.reading() as connection:
        reviews = await repository.gate_reviews(connection, project.project_id)
        lines = await benefit_store.benefit_lines(connection, project.project_id)
    return ProjectOut.of(project, header, reviews, lines, as_of or today())


@router.get("/projects", response_model=list[ProjectSummary])
async def list_projects(database: DatabaseDependency, phase: Phase | None = None) -> list[ProjectSummary]:
    """List projects, most recently changed first, optionally of one DMAIC phase."""
    async with database.reading() as connection:
        rows = await repository.project_headers(connection, phase)
    return [ProjectSummary(project_id=row.project_id, name=row.name, owner=row.owner, phase=row.phase,
                           version=row.version, updated_at=repository.aware(row.updated_at)) for row in rows]


@router.get("/projects/{project_id}", response_model=ProjectOut)
async def get_project(project_id: str, database: DatabaseDependency, as_of: AsOf = None) -> ProjectOut:
    """Return a project with its charter, gate reviews, status, benefits and total planned benefit per line."""
    async with database.reading() as connection:
        stored = await repository.project(connection, project_id)
    if stored is None:
        raise NotFound(f"project {project_id!r} not found; list projects with GET /v1/projects")
    return await _project_out(database, *stored, as_of)


router.include_router(benefits_api.router)
router.include_router(kpis_api.router)
