"""Routes of benefit validation, manual baselines, realisation reports and the benefits portfolio."""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from ipm_common.http import ExactJSONRoute
from ipm_projects.entrypoints.benefit_schemas import (
    BaselineIn,
    LineReportOut,
    PortfolioOut,
    ValidationIn,
    ValidationOut,
)
from ipm_projects.entrypoints.dependencies import CorrelationDependency, DatabaseDependency, ProjectId
from ipm_projects.entrypoints.schemas import IDENTIFIER_PATTERN
from ipm_projects.service_layer import benefits, portfolio

router = APIRouter(route_class=ExactJSONRoute, tags=["benefits"])

LineId = Annotated[str, Path(min_length=1, max_length=64, pattern=IDENTIFIER_PATTERN)]


@router.post("/projects/{project_id}/benefits/{entity_id}/{account_id}/validation", response_model=ValidationOut)
async def post_validation(project_id: ProjectId, entity_id: LineId, account_id: LineId, body: ValidationIn,
                          database: DatabaseDependency, correlation: CorrelationDependency) -> ValidationOut:
    """Record finance's validation of a line's planned benefits and publish the new stage."""
    validated = await benefits.validate_line(database, project_id, (entity_id, account_id),
                                             validated_by=body.validated_by, comment=body.comment,
                                             correlation_id=correlation)
    line = validated.line
    return ValidationOut(entity_id=line.entity_id, account_id=line.account_id, stage=line.stage,
                         validated_by=line.validated_by, validated_at=line.validated_at, changed=validated.changed)


@router.put("/projects/{project_id}/benefits/{entity_id}/{account_id}/baseline", response_model=LineReportOut)
async def put_baseline(project_id: ProjectId, entity_id: LineId, account_id: LineId, body: BaselineIn,
                       database: DatabaseDependency, correlation: CorrelationDependency) -> LineReportOut:
    """Set a line's baseline without the project by hand; it replaces the frozen forecast period by period."""
    await benefits.set_baseline(database, project_id, (entity_id, account_id),
                                points=[(point.period, point.amount) for point in body.points],
                                set_by=body.set_by, correlation_id=correlation)
    reports = await portfolio.project_benefits(database, project_id)
    return LineReportOut.of(next(report for report in reports if report.line.line == (entity_id, account_id)))


@router.get("/projects/{project_id}/benefits", response_model=list[LineReportOut])
async def get_project_benefits(project_id: str, database: DatabaseDependency) -> list[LineReportOut]:
    """Report each benefit line: stage, and per period the plan, baseline, actual and realised benefit."""
    return [LineReportOut.of(report) for report in await portfolio.project_benefits(database, project_id)]


@router.get("/portfolio", response_model=PortfolioOut)
async def get_portfolio(database: DatabaseDependency,
                        entity_id: Annotated[str | None, Query(max_length=64)] = None) -> PortfolioOut:
    """Sum expected, validated and realised benefits per project, per strategic target and in total."""
    return PortfolioOut.of(await portfolio.portfolio(database, entity_id))
