"""The projects service's HTTP API: improvement projects and their planned benefits."""

import uuid
from http import HTTPStatus
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Response

from ipm_common.errors import NotFound
from ipm_common.http import ExactJSONRoute
from ipm_common.runtime import get_database
from ipm_common.storage import Database
from ipm_projects.adapters import repository
from ipm_projects.domain.projects import Phase
from ipm_projects.entrypoints.schemas import (
    IDENTIFIER_PATTERN,
    ProjectIn,
    ProjectOut,
    ProjectSaved,
    ProjectSummary,
    ProjectUpdateIn,
)
from ipm_projects.service_layer import projects

router = APIRouter(prefix="/v1", route_class=ExactJSONRoute, tags=["projects"])

DatabaseDependency = Annotated[Database, Depends(get_database)]


def correlation_id(x_correlation_id: Annotated[str | None, Header(max_length=128)] = None) -> str:
    """Take the caller's X-Correlation-ID, or start a new correlation for this request."""
    return x_correlation_id or str(uuid.uuid4())


CorrelationDependency = Annotated[str, Depends(correlation_id)]


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
    )
    if not stored.changed:
        response.status_code = HTTPStatus.OK
    return ProjectSaved.of(stored.project, stored.header, changed=stored.changed)


@router.put("/projects/{project_id}", response_model=ProjectSaved)
async def put_project(project_id: Annotated[str, Path(min_length=1, max_length=64, pattern=IDENTIFIER_PATTERN)],
                      body: ProjectUpdateIn, database: DatabaseDependency,
                      correlation: CorrelationDependency) -> ProjectSaved:
    """Replace a project's phase and benefits as a new version and re-publish every line it touches."""
    linked = None if body.linked_targets is None else [target.to_target() for target in body.linked_targets]
    stored = await projects.update_project(
        database, project_id, name=body.name, owner=body.owner, phase=body.phase, linked_targets=linked,
        benefits=[benefit.to_request() for benefit in body.benefits], correlation_id=correlation,
    )
    return ProjectSaved.of(stored.project, stored.header, changed=stored.changed)


@router.get("/projects", response_model=list[ProjectSummary])
async def list_projects(database: DatabaseDependency, phase: Phase | None = None) -> list[ProjectSummary]:
    """List projects, most recently changed first, optionally of one DMAIC phase."""
    async with database.reading() as connection:
        rows = await repository.project_headers(connection, phase)
    return [ProjectSummary(project_id=row.project_id, name=row.name, owner=row.owner, phase=row.phase,
                           version=row.version, updated_at=repository.aware(row.updated_at)) for row in rows]


@router.get("/projects/{project_id}", response_model=ProjectOut)
async def get_project(project_id: str, database: DatabaseDependency) -> ProjectOut:
    """Return a project with its benefits and the total planned benefit per entity and account."""
    async with database.reading() as connection:
        stored = await repository.project(connection, project_id)
    if stored is None:
        raise NotFound(f"project {project_id!r} not found; list projects with GET /v1/projects")
    return ProjectOut.of(*stored)
