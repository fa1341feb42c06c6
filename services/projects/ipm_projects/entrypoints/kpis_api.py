"""Routes of project KPIs and their measurements."""

from typing import Annotated

from fastapi import APIRouter, Path

from ipm_common.http import ExactJSONRoute
from ipm_projects.entrypoints.dependencies import DatabaseDependency, ProjectId
from ipm_projects.entrypoints.kpi_schemas import KpiIn, KpiOut, MeasurementsIn
from ipm_projects.entrypoints.schemas import IDENTIFIER_PATTERN
from ipm_projects.service_layer import kpis

router = APIRouter(route_class=ExactJSONRoute, tags=["kpis"])

KpiId = Annotated[str, Path(min_length=1, max_length=64, pattern=IDENTIFIER_PATTERN)]


@router.put("/projects/{project_id}/kpis/{kpi_id}", response_model=KpiOut)
async def put_kpi(project_id: ProjectId, kpi_id: KpiId, body: KpiIn, database: DatabaseDependency) -> KpiOut:
    """Create or replace a KPI's baseline, target, unit and direction; its measurements are kept."""
    saved = await kpis.save_kpi(database, project_id, kpi_id, name=body.name, unit=body.unit, baseline=body.baseline,
                                target=body.target, direction=body.direction)
    return KpiOut.of(saved)


@router.post("/projects/{project_id}/kpis/{kpi_id}/measurements", response_model=KpiOut)
async def post_measurements(project_id: ProjectId, kpi_id: KpiId, body: MeasurementsIn,
                            database: DatabaseDependency) -> KpiOut:
    """Record measurements of a KPI; a date measured before gets the new value."""
    recorded = await kpis.record(database, project_id, kpi_id,
                                 [(measurement.date, measurement.value) for measurement in body.measurements])
    return KpiOut.of(recorded)


@router.get("/projects/{project_id}/kpis", response_model=list[KpiOut])
async def get_kpis(project_id: str, database: DatabaseDependency) -> list[KpiOut]:
    """List a project's KPIs with their measurements and progress."""
    return [KpiOut.of(item) for item in await kpis.kpi_progress(database, project_id)]
