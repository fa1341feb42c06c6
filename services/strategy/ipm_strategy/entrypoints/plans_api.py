"""The operating plan API: three-statement plans, drivers, targets, adoption, revision, reported history,
investment envelopes, and the steps of the strategy review workflow between acknowledgement and decision."""

from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from typing import Annotated, cast

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParameter

from ipm_common.errors import InvalidInput, NotFound
from ipm_common.http import ExactJSONRoute
from ipm_common.runtime import get_database, get_runtime
from ipm_common.storage import Database
from ipm_strategy.adapters import operating_plans as store
from ipm_strategy.adapters import repository
from ipm_strategy.entrypoints.api import CorrelationDependency
from ipm_strategy.entrypoints.plan_schemas import (
    AdoptIn,
    BudgetUseOut,
    ComparisonOut,
    ComparisonYearOut,
    DriversIn,
    EnvelopeDecisionIn,
    EnvelopeIn,
    EnvelopeOut,
    EnvelopesOut,
    ImportedOut,
    LinesIn,
    OperatingPlanIn,
    OperatingPlanOut,
    OperatingPlanSummary,
    ReviseIn,
    SecImportIn,
    StatementsOut,
    TargetCheckOut,
    TargetsIn,
    YearStatementsOut,
)
from ipm_strategy.entrypoints.schemas import (
    IDENTIFIER_PATTERN,
    AnalysisIn,
    AssignmentIn,
    AuditEntryOut,
    CommentIn,
    ReviewOut,
)
from ipm_strategy.service_layer import history, investments, operating_plans, reviews
from ipm_strategy.settings import StrategySettings

router = APIRouter(prefix="/v1", route_class=ExactJSONRoute, tags=["operating plans"])

DatabaseDependency = Annotated[Database, Depends(get_database)]
PlanPath = Annotated[str, PathParameter(min_length=1, max_length=64, pattern=IDENTIFIER_PATTERN)]


def data_dir(request: Request) -> Callable[[], Path]:
    """Return a reader of the folder from which reported statements are imported by relative path (IPM_DATA_DIR).

    The folder is read only when a request names a path, so an import of an uploaded document
    needs no settings.
    """
    return lambda: cast(StrategySettings, get_runtime(request).settings).data_dir


DataDirDependency = Annotated[Callable[[], Path], Depends(data_dir)]


@router.post("/operating-plans", response_model=OperatingPlanOut, status_code=HTTPStatus.CREATED,
             responses={409: {"description": "the plan id is taken"}})
async def post_operating_plan(body: OperatingPlanIn, database: DatabaseDependency) -> OperatingPlanOut:
    """Create a proposed operating plan, optionally with lines entered line by line."""
    plan = await operating_plans.create_plan(database, plan_id=body.plan_id, entity_id=body.entity_id,
                                             name=body.name, lines=[line.to_request() for line in body.lines])
    return OperatingPlanOut.of(plan)


@router.get("/operating-plans", response_model=list[OperatingPlanSummary])
async def list_operating_plans(database: DatabaseDependency,
                               entity_id: str | None = None) -> list[OperatingPlanSummary]:
    """List operating plan vintages, newest first, optionally of one entity."""
    async with database.reading() as connection:
        rows = await store.headers(connection, entity_id)
    return [OperatingPlanSummary(plan_id=row.plan_id, entity_id=row.entity_id, name=row.name, status=row.status,
                                 version=row.version, revises=row.revises, adopted_by=row.adopted_by,
                                 adopted_at=None if row.adopted_at is None else repository.aware(row.adopted_at))
            for row in rows]


@router.get("/operating-plans/{plan_id}", response_model=OperatingPlanOut)
async def get_operating_plan(plan_id: str, database: DatabaseDependency) -> OperatingPlanOut:
    """Return a plan vintage with its lines, drivers and targets."""
    return OperatingPlanOut.of(await operating_plans.load_plan(database, plan_id))


@router.put("/operating-plans/{plan_id}/lines", response_model=OperatingPlanOut,
            responses={409: {"description": "the plan is adopted, revised or history, or its budget would fall "
                                            "below the approved envelopes"}})
async def put_lines(plan_id: str, body: LinesIn, database: DatabaseDependency) -> OperatingPlanOut:
    """Replace the lines entered in a proposed plan. With drivers set, only years up to the base year are entered."""
    plan = await operating_plans.replace_lines(database, plan_id, [line.to_request() for line in body.lines])
    return OperatingPlanOut.of(plan)


@router.put("/operating-plans/{plan_id}/drivers", response_model=OperatingPlanOut,
            responses={409: {"description": "the plan is adopted, revised or history, or its budget would fall "
                                            "below the approved envelopes"}})
async def put_drivers(plan_id: str, body: DriversIn, database: DatabaseDependency) -> OperatingPlanOut:
    """Set the drivers of a proposed plan and project the years after the base year from them."""
    return OperatingPlanOut.of(await operating_plans.set_drivers(database, plan_id, body.to_settings()))


@router.put("/operating-plans/{plan_id}/targets", response_model=OperatingPlanOut,
            responses={409: {"description": "the plan is adopted, revised or history"}})
async def put_targets(plan_id: str, body: TargetsIn, database: DatabaseDependency) -> OperatingPlanOut:
    """Replace the strategic targets of a proposed plan, on lines and on ratio KPIs."""
    targets = [target.to_request() for target in body.targets]
    return OperatingPlanOut.of(await operating_plans.set_targets(database, plan_id, targets))


@router.get("/operating-plans/{plan_id}/statements", response_model=StatementsOut)
async def get_statements(plan_id: str, database: DatabaseDependency) -> StatementsOut:
    """Return the income statement, balance sheet and cash flow of every year, with checks and KPIs."""
    built = await operating_plans.plan_statements(database, plan_id)
    years = [YearStatementsOut.of(year, built.kpis.get(year.fiscal_year, {})) for year in built.years]
    return StatementsOut(plan_id=built.plan.plan_id, entity_id=built.plan.entity_id, status=built.plan.status,
                         currency=await _currency(database, built.plan.entity_id),
                         checks_passed=all(check.passed for year in built.years for check in year.checks),
                         years=years, targets=[TargetCheckOut.of_check(check) for check in built.targets])


@router.post("/operating-plans/{plan_id}/adopt", response_model=OperatingPlanOut,
             responses={409: {"description": "the plan is not proposed, or has no lines"}})
async def adopt(plan_id: str, body: AdoptIn, database: DatabaseDependency,
                correlation: CorrelationDependency) -> OperatingPlanOut:
    """Adopt a proposed plan and publish it with its targets. A plan that revises another becomes 'revised'."""
    plan = await operating_plans.adopt_plan(database, plan_id, by=body.by, correlation_id=correlation)
    return OperatingPlanOut.of(plan)


@router.post("/operating-plans/{plan_id}/revise", response_model=OperatingPlanOut, status_code=HTTPStatus.CREATED,
             responses={409: {"description": "the new plan id is taken"}})
async def revise(plan_id: PlanPath, body: ReviseIn, database: DatabaseDependency) -> OperatingPlanOut:
    """Start a proposed vintage that copies this plan's lines, drivers and targets, to be adopted as its revision."""
    return OperatingPlanOut.of(await operating_plans.revise_plan(database, plan_id, new_plan_id=body.plan_id,
                                                                 name=body.name))


@router.post("/operating-plans/imports/sec", response_model=ImportedOut, status_code=HTTPStatus.CREATED,
             responses={409: {"description": "the plan id is taken"}})
async def import_sec(body: SecImportIn, database: DatabaseDependency, folder: DataDirDependency) -> ImportedOut:
    """Import the annual statements of SEC EDGAR company facts as a history plan, from a file or the body."""
    if (body.path is None) == (body.companyfacts is None):
        raise InvalidInput("path: give exactly one of path (relative to IPM_DATA_DIR) and companyfacts",
                           field="path")
    if body.path is not None:
        document, source = history.read_company_facts(folder(), body.path), body.path
    else:
        document, source = body.companyfacts or {}, "uploaded companyfacts"
    plan, compared = await history.import_company_facts(database, plan_id=body.plan_id, entity_id=body.entity_id,
                                                        name=body.name, document=document, source=source)
    years = sorted({item.fiscal_year for item in plan.entries})
    return ImportedOut(plan_id=plan.plan_id, name=plan.name, status=plan.status, fiscal_years=years,
                       periods_compared=compared)


@router.get("/operating-plans/{plan_id}/cash-flow-comparison", response_model=ComparisonOut)
async def get_cash_flow_comparison(plan_id: str, database: DatabaseDependency) -> ComparisonOut:
    """Compare per year the operating cash flow derived by the indirect method with the reported one."""
    plan, compared = await history.cash_flow_comparison(database, plan_id)
    largest = max(compared, key=lambda item: abs(item.gap), default=None)
    return ComparisonOut(plan_id=plan.plan_id, name=plan.name, currency=await _currency(database, plan.entity_id),
                         periods_compared=len(compared), largest_gap=None if largest is None else largest.gap,
                         largest_gap_fiscal_year=None if largest is None else largest.fiscal_year,
                         years=[ComparisonYearOut.of(item) for item in compared])


async def _currency(database: Database, entity_id: str) -> str:
    async with database.reading() as connection:
        stored = await repository.entity(connection, entity_id)
    if stored is None:
        raise NotFound(f"entity {entity_id!r} not found")
    return stored[0].currency


# --- review workflow ---------------------------------------------------------------------------


@router.post("/reviews/{review_id}/analysis", response_model=ReviewOut,
             responses={409: {"description": "the review is analysed or decided already"}})
async def analyse_review(review_id: str, body: AnalysisIn, database: DatabaseDependency) -> ReviewOut:
    """Record the analysis of an opened or acknowledged review."""
    return ReviewOut.of(await reviews.analyse_review(database, review_id, by=body.by, analysis=body.analysis))


@router.put("/reviews/{review_id}/assignment", response_model=ReviewOut,
            responses={409: {"description": "the review is decided"}})
async def assign_review(review_id: str, body: AssignmentIn, database: DatabaseDependency) -> ReviewOut:
    """Give an undecided review an owner and a due date."""
    review = await reviews.assign_review(database, review_id, by=body.by, owner=body.owner, due_date=body.due_date)
    return ReviewOut.of(review)


@router.post("/reviews/{review_id}/comments", response_model=AuditEntryOut, status_code=HTTPStatus.CREATED)
async def comment_on_review(review_id: str, body: CommentIn, database: DatabaseDependency) -> AuditEntryOut:
    """Add a comment to a review's audit trail."""
    return AuditEntryOut.of(await reviews.comment_on_review(database, review_id, by=body.by, text=body.text))


# --- investment envelopes ----------------------------------------------------------------------


@router.post("/operating-plans/{plan_id}/envelopes", response_model=EnvelopeOut, status_code=HTTPStatus.CREATED,
             responses={409: {"description": "the envelope id is taken, or the plan is reported history"}})
async def request_envelope(plan_id: str, body: EnvelopeIn, database: DatabaseDependency) -> EnvelopeOut:
    """Request a capital or operating envelope for an initiative, with amounts per fiscal year."""
    item = await investments.request(database, envelope_id=body.envelope_id, plan_id=plan_id,
                                     initiative=body.initiative, kind=body.kind,
                                     amounts=[(amount.fiscal_year, amount.amount) for amount in body.amounts],
                                     requested_by=body.requested_by)
    return EnvelopeOut.of(item)


@router.get("/operating-plans/{plan_id}/envelopes", response_model=EnvelopesOut)
async def list_envelopes(plan_id: str, database: DatabaseDependency) -> EnvelopesOut:
    """List a plan's envelopes with the budget, approved and requested amounts per kind and fiscal year."""
    items, uses = await investments.plan_envelopes(database, plan_id)
    budget = [BudgetUseOut(kind=use.kind, fiscal_year=use.fiscal_year, budget=use.budget, approved=use.approved,
                           requested=use.requested, available=use.budget - use.approved) for use in uses]
    return EnvelopesOut(plan_id=plan_id, envelopes=[EnvelopeOut.of(item) for item in items], budget=budget)


@router.post("/envelopes/{envelope_id}/approve", response_model=EnvelopeOut,
             responses={409: {"description": "the envelope is decided, or exceeds the plan's budget"}})
async def approve_envelope(envelope_id: str, body: EnvelopeDecisionIn, database: DatabaseDependency) -> EnvelopeOut:
    """Approve a requested envelope if the approved envelopes of its kind stay within the plan's budget."""
    return EnvelopeOut.of(await investments.approve(database, envelope_id, by=body.by))


@router.post("/envelopes/{envelope_id}/reject", response_model=EnvelopeOut,
             responses={409: {"description": "the envelope is decided"}})
async def reject_envelope(envelope_id: str, body: EnvelopeDecisionIn, database: DatabaseDependency) -> EnvelopeOut:
    """Reject a requested envelope, giving the reason."""
    return EnvelopeOut.of(await investments.reject(database, envelope_id, by=body.by, reason=body.reason or ""))
