"""The performance service's HTTP API: variances, outlooks, inputs and a summary; alerts are in ``alerts_api``."""

from dataclasses import asdict
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from ipm_common.http import ExactJSONRoute
from ipm_common.money import Money
from ipm_common.runtime import get_database
from ipm_common.storage import Database
from ipm_performance.adapters import queries
from ipm_performance.domain.comparisons import Comparison, VarianceLine
from ipm_performance.service_layer import queries as read_models

router = APIRouter(prefix="/v1", route_class=ExactJSONRoute, tags=["performance"])

DatabaseDependency = Annotated[Database, Depends(get_database)]
EntityQuery = Annotated[str, Query(min_length=1, max_length=64, description="entity id, such as PHL")]


# --- response and request models ---------------------------------------------------------------


class VarianceOut(BaseModel):
    entity_id: str
    line: str
    comparison: Comparison
    period: str = Field(description="period key such as FY2024-P03, or FY2024 for a full-year comparison")
    fiscal_year: int
    value: Money
    comparator: Money
    variance: Money = Field(description="(value - comparator), negated when lower is better; positive is favourable")
    variance_pct: Money | None = Field(description="variance / |comparator| as a fraction; null when it is zero")
    favourable: bool
    direction: str
    phasing: str
    figures_version: int
    evaluations: int | None = None
    evaluated_at: datetime | None = None


OUTLOOK_COMPARED = ("null unless the fiscal year is the one of the entity's latest forecast origin and every leaf's "
                    "actuals and forecast cover the whole year")


class OutlookOut(BaseModel):
    line: str
    leaves: list[str]
    direction: str
    actuals_to_date: Money
    remaining_forecast: Money
    outlook: Money
    last_origin: str = Field(description="latest forecast origin, the last period with actuals, among the leaves")
    forecast_version: int
    budget: Money | None
    target: Money | None
    target_plan_id: str | None
    versus_budget: VarianceOut | None = Field(description=OUTLOOK_COMPARED)
    versus_target: VarianceOut | None = Field(description=OUTLOOK_COMPARED)


class OutlooksOut(BaseModel):
    entity_id: str
    fiscal_year: int
    lines: list[OutlookOut]


class BudgetInputOut(BaseModel):
    fiscal_year: int
    budget_id: str
    version: int
    lines: int


class InputsOut(BaseModel):
    entity_id: str
    targets: dict[int, int] = Field(description="number of target lines per fiscal year")
    budgets: list[BudgetInputOut]
    latest_ledger_period: str | None
    latest_ledger_version: int | None
    postings: int
    series_with_actuals: int
    series_with_forecasts: int
    entity_registered: bool = Field(description="whether the entity's reference data has arrived")
    accounts: int = Field(description="accounts of the chart of accounts held locally")


class SummaryOut(BaseModel):
    entity_id: str
    variance_lines: int
    evaluations: int
    variance_lines_by_comparison: dict[str, int]
    alerts_by_status: dict[str, int]
    alerts_by_rule: dict[str, dict[str, int]]
    reviews_requested: int
    batches_evaluated: int


# --- routes ------------------------------------------------------------------------------------


@router.get("/variances", response_model=list[VarianceOut])
async def list_variances(database: DatabaseDependency, entity_id: str | None = None, line: str | None = None,
                         comparison: Comparison | None = None, period: str | None = None) -> list[VarianceOut]:
    """List the latest variance lines, filtered by entity, line, comparison and period."""
    async with database.reading() as connection:
        rows = await queries.list_variance_lines(connection, entity_id=entity_id, line=line,
                                                 comparison=comparison.value if comparison else None, period=period)
    return [VarianceOut.model_validate(row._asdict()) for row in rows]


@router.get("/outlooks", response_model=OutlooksOut)
async def list_outlooks(database: DatabaseDependency, entity_id: EntityQuery,
                        fiscal_year: Annotated[int, Query(ge=1900, le=2999)]) -> OutlooksOut:
    """Show each line's full-year outlook (actuals to date plus remaining forecast) against budget and target."""
    lines = await read_models.outlooks(database, entity_id, fiscal_year)
    return OutlooksOut(entity_id=entity_id, fiscal_year=fiscal_year, lines=[_outlook_out(line) for line in lines])


@router.get("/inputs", response_model=InputsOut)
async def get_inputs(database: DatabaseDependency, entity_id: EntityQuery) -> InputsOut:
    """Count the inputs that arrived for an entity: targets, budget lines, ledger periods and forecasts."""
    async with database.reading() as connection:
        counts = await queries.input_counts(connection, entity_id)
    return InputsOut(
        entity_id=entity_id,
        targets=counts.targets,
        budgets=[BudgetInputOut(fiscal_year=item.fiscal_year, budget_id=item.budget_id, version=item.version,
                                lines=item.lines) for item in counts.budgets],
        latest_ledger_period=counts.latest_ledger_period,
        latest_ledger_version=counts.latest_ledger_version,
        postings=counts.postings,
        series_with_actuals=counts.series_with_actuals,
        series_with_forecasts=counts.series_with_forecasts,
        entity_registered=counts.entity_registered,
        accounts=counts.accounts,
    )


@router.get("/summary", response_model=SummaryOut)
async def get_summary(database: DatabaseDependency, entity_id: EntityQuery) -> SummaryOut:
    """Summarise an entity's evaluations: variance lines, alerts by status and rule, reviews requested."""
    async with database.reading() as connection:
        counts = await queries.summary_counts(connection, entity_id)
    return SummaryOut(entity_id=entity_id, **asdict(counts))


# --- mapping -----------------------------------------------------------------------------------


def _variance_out(line: VarianceLine | None) -> VarianceOut | None:
    if line is None:
        return None
    return VarianceOut(entity_id=line.entity_id, line=line.line, comparison=line.comparison, period=line.period,
                       fiscal_year=line.fiscal_year, value=line.value, comparator=line.comparator,
                       variance=line.variance, variance_pct=line.variance_pct, favourable=line.favourable,
                       direction=line.direction.value, phasing=line.phasing.value,
                       figures_version=line.figures_version)


def _outlook_out(line: read_models.OutlookLine) -> OutlookOut:
    return OutlookOut(
        line=line.line,
        leaves=list(line.leaves),
        direction=line.direction.value,
        actuals_to_date=line.outlook.actuals_to_date,
        remaining_forecast=line.outlook.remaining_forecast,
        outlook=line.outlook.total,
        last_origin=str(line.outlook.last_origin),
        forecast_version=line.outlook.forecast_version,
        budget=line.budget,
        target=line.target.amount if line.target else None,
        target_plan_id=line.target.plan_id if line.target else None,
        versus_budget=_variance_out(line.versus_budget),
        versus_target=_variance_out(line.versus_target),
    )
