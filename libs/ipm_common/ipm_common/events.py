"""The event catalogue: every integration event type, its topic, schema version and payload.

Event types are past-tense facts named ``ipm.<owner>.<noun>.<verb>``. Each payload is a frozen
pydantic model; unknown fields are ignored so that a newer producer's optional additions do
not break an older consumer. ``CATALOGUE`` is the single registry that publishers, consumers
and the README's event table read.
"""

import builtins
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ipm_common.money import Money

PeriodText = str  # a period key such as "FY2024-P01"


class EventData(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


# --- reference data, owned by strategy ---------------------------------------------------------


class EntityRegistered(EventData):
    entity_id: str
    name: str
    currency: str
    calendar: dict[str, str | int | None]
    version: int


AccountType = Literal["revenue", "expense", "asset", "liability", "equity", "statistical"]


class AccountDefined(EventData):
    account_id: str
    name: str
    account_type: AccountType
    statement: Literal["income_statement", "balance_sheet", "cash_flow", "statistical"]
    normal_balance: Literal["debit", "credit"]
    direction: Literal["higher_is_better", "lower_is_better"]
    non_negative: bool = False
    version: int


class HierarchyEdge(EventData):
    child: str
    parent: str


class HierarchyChanged(EventData):
    hierarchy: str
    dimension: Literal["account", "cost_centre", "entity"]
    edges: tuple[HierarchyEdge, ...]
    version: int


class TargetLine(EventData):
    line: str
    fiscal_year: int
    amount: Money
    band_pct: Money
    band_absolute: Money
    band_scope: Literal["both", "unfavourable"] = "both"
    # "kpi" targets name a ratio of the plan's statements in ``line``, such as gross_margin, as a fraction.
    kind: Literal["line", "kpi"] = "line"


class TargetsSet(EventData):
    entity_id: str
    plan_id: str
    plan_name: str
    targets: tuple[TargetLine, ...]
    version: int


class ReviewOpened(EventData):
    review_id: str
    alert_id: str
    entity_id: str
    line: str
    fiscal_year: int


class ReviewDecided(EventData):
    review_id: str
    alert_id: str
    entity_id: str
    decision: Literal["keep_plan", "revise_plan", "launch_project"]
    decided_by: str
    reason: str
    # The operating plan vintage that a revise_plan decision adopted, when it names one.
    revised_plan_id: str | None = None


class PlanStatementLine(EventData):
    line: str
    statement: Literal["income_statement", "balance_sheet", "cash_flow"]
    fiscal_year: int
    amount: Money  # natural sign, the entity's currency


class PlanAdopted(EventData):
    entity_id: str
    plan_id: str
    plan_name: str
    status: Literal["adopted", "revised"]
    revises: str | None = None  # the plan vintage that this one replaces
    targets_version: int | None = None  # the TargetsSet version published with it, None without targets
    lines: tuple[PlanStatementLine, ...]


# --- forecast: ledger, budgets, forecasts ------------------------------------------------------


class PostedLine(EventData):
    source_id: str
    period: PeriodText
    posting_date: date
    amount: Money  # natural sign, functional currency
    ledger_amount: Money  # as the ERP sent it, debit-positive, in the posting currency
    currency: str
    reverses: str | None = None
    late: bool = False


class PeriodBalance(EventData):
    period: PeriodText
    amount: Money  # natural sign, functional currency
    ledger_version: int


class ActualsPosted(EventData):
    entity_id: str
    account_id: str
    cost_centre: str | None = None
    currency: str
    batch_id: str
    # The number of actuals-posted events the ERP batch produced: one per series, or more when a
    # series had too many postings for one event. Each leads to one re-rolled forecast.
    batch_series_count: int
    postings: tuple[PostedLine, ...]
    balances: tuple[PeriodBalance, ...]


class BudgetPeriod(EventData):
    period: PeriodText
    amount: Money


class BudgetLine(EventData):
    line: str
    cost_centre: str | None = None
    annual: Money
    spread_method: str
    periods: tuple[BudgetPeriod, ...]


class BudgetApproved(EventData):
    entity_id: str
    budget_id: str
    fiscal_year: int
    version: int
    approved_by: str
    lines: tuple[BudgetLine, ...]


class ForecastPoint(EventData):
    period: PeriodText
    baseline: Money
    benefits: Money = Decimal(0)
    value: Money
    p10: Money
    p90: Money
    # The driver-based line's regression prediction minus the baseline; zero without a driver.
    driver: Money = Decimal(0)
    # What a manual override added to the computed value; None when the period has no override.
    override: Money | None = None


class ForecastRerolled(EventData):
    entity_id: str
    account_id: str
    cost_centre: str | None = None
    forecast_id: str
    version: int
    origin: PeriodText  # last period with actuals; the forecast starts the period after
    method: str
    clamped: bool
    ledger_version: int
    batch_id: str
    batch_series_count: int
    points: tuple[ForecastPoint, ...]
    driver_id: str | None = None  # the market driver of a driver-based line
    driver_method: str | None = None  # "ols" when the driver effect layer came from a regression
    trigger_type: str | None = None  # the event or command type that caused this version


class AccuracyMeasure(EventData):
    lag: int | None  # periods from a version's origin to the scored period; None for every lag together
    points: int
    wape: Decimal | None  # sum |actual - forecast| / sum |actual|; None when every actual is zero
    bias: Decimal | None  # sum (forecast - actual) / sum |actual|; positive when the forecast was too high
    absolute_actual: Money
    absolute_error: Money


class AccuracyScored(EventData):
    entity_id: str
    account_id: str
    cost_centre: str | None = None
    periods: tuple[PeriodText, ...]  # the periods whose new actuals were scored
    versions_scored: int  # earlier forecast versions that covered those periods
    measures: tuple[AccuracyMeasure, ...]  # over every scored version and period of the series


# --- performance -------------------------------------------------------------------------------


class AlertChanged(EventData):
    alert_id: str
    status: Literal["raised", "updated", "resolved"]
    entity_id: str
    line: str
    period: str  # a period key, or "FY2024" for a full-year comparison
    comparison: str  # e.g. "outlook_vs_target", "actual_vs_budget_ytd"
    rule: str
    severity: Literal["info", "warning", "critical"]
    value: Money
    comparator: Money
    variance: Money
    variance_pct: Decimal | None
    threshold: str
    phasing: str
    figures_version: int
    opens_review: bool
    # True when the change came from new figures for a period before the entity's latest one,
    # such as a posting into a reopened period.
    restated: bool = False


class StrategyReviewRequested(EventData):
    alert_id: str
    entity_id: str
    line: str
    fiscal_year: int
    outlook: Money
    target: Money
    variance: Money
    variance_pct: Decimal | None
    threshold: str


class BatchEvaluated(EventData):
    entity_id: str
    batch_id: str
    series: int
    variance_lines: int
    alerts_changed: int


# --- projects ----------------------------------------------------------------------------------


class BenefitPoint(EventData):
    period: PeriodText
    amount: Money


BenefitType = Literal["hard_savings", "revenue_uplift", "cost_avoidance"]


class BenefitsPlanned(EventData):
    project_id: str
    name: str
    entity_id: str
    account_id: str
    version: int
    benefits: tuple[BenefitPoint, ...] = Field(default=())
    benefit_type: BenefitType = "revenue_uplift"
    stage: Literal["expected", "validated"] = "expected"


class BenefitsChanged(BenefitsPlanned):
    """A new version of a project's benefits on a line; it replaces every earlier version."""

    reason: str


class RealisedBenefitPoint(EventData):
    period: PeriodText
    planned: Money
    baseline: Money  # what the line would have been without the project
    actual: Money
    realised: Money  # positive when the project improved the line: above baseline for revenue, below for cost


class BenefitsRealised(EventData):
    project_id: str
    entity_id: str
    account_id: str
    version: int
    benefit_type: BenefitType = "revenue_uplift"
    points: tuple[RealisedBenefitPoint, ...]


# --- the catalogue -----------------------------------------------------------------------------


@dataclass(frozen=True)
class EventSpec:
    type: str
    topic: str
    # The field ``type`` above shadows the builtin inside this class body.
    model: builtins.type[EventData]
    schema_version: str
    key: str
    description: str
    # Kafka headers copied from payload fields, as (header name, field name), so that consumers
    # can filter without decoding the value.
    headers: tuple[tuple[str, str], ...] = ()


class Topics:
    ERP_POSTINGS = "ipm.erp.postings"
    REFERENCE = "ipm.strategy.reference"
    TARGETS = "ipm.strategy.targets"
    REVIEWS = "ipm.strategy.reviews"
    ACTUALS = "ipm.forecast.actuals"
    BUDGETS = "ipm.forecast.budgets"
    FORECASTS = "ipm.forecast.forecasts"
    ALERTS = "ipm.performance.alerts"
    REVIEW_REQUESTS = "ipm.performance.review-requests"
    EVALUATIONS = "ipm.performance.evaluations"
    BENEFITS = "ipm.projects.benefits"

    @staticmethod
    def dead_letter(service: str) -> str:
        return f"ipm.{service}.dead-letter"


_SPECS = (
    EventSpec("ipm.strategy.entity.registered", Topics.REFERENCE, EntityRegistered, "1.0", "entity_id",
              "An entity with its functional currency and fiscal calendar was registered or changed."),
    EventSpec("ipm.strategy.account.defined", Topics.REFERENCE, AccountDefined, "1.0", "account_id",
              "An account of the chart of accounts was defined or changed."),
    EventSpec("ipm.strategy.hierarchy.changed", Topics.REFERENCE, HierarchyChanged, "1.0", "hierarchy",
              "A hierarchy of accounts, cost centres or entities was replaced by a new version."),
    EventSpec("ipm.strategy.targets.set", Topics.TARGETS, TargetsSet, "1.0", "entity_id",
              "A plan vintage set strategic targets with tolerance bands."),
    EventSpec("ipm.strategy.review.opened", Topics.REVIEWS, ReviewOpened, "1.0", "entity_id",
              "A strategy review was opened for an alert."),
    EventSpec("ipm.strategy.review.decided", Topics.REVIEWS, ReviewDecided, "1.0", "entity_id",
              "A strategy review was decided: keep or revise the plan."),
    EventSpec("ipm.strategy.plan.adopted", Topics.TARGETS, PlanAdopted, "1.0", "entity_id",
              "An operating plan vintage was adopted or revised, with its income statement, balance sheet and "
              "cash flow lines."),
    EventSpec("ipm.forecast.actuals.posted", Topics.ACTUALS, ActualsPosted, "1.0", "entity_id|account_id",
              "New postings of one series were stored in the ledger; carries the new period balances."),
    EventSpec("ipm.forecast.budget.approved", Topics.BUDGETS, BudgetApproved, "1.0", "entity_id",
              "A budget version for an entity and fiscal year was approved, spread to periods."),
    EventSpec("ipm.forecast.forecast.rerolled", Topics.FORECASTS, ForecastRerolled, "1.0", "entity_id|account_id",
              "The rolling forecast of one series was re-rolled into a new version."),
    EventSpec("ipm.forecast.accuracy.scored", Topics.FORECASTS, AccuracyScored, "1.0", "entity_id|account_id",
              "New actuals were compared with the earlier forecast versions that covered them: WAPE and bias by lag."),
    # The key stays the entity alone, so that an alert whose severity changes keeps its events in
    # order on one partition. Consumers filter on the headers instead.
    EventSpec("ipm.performance.alert.changed", Topics.ALERTS, AlertChanged, "1.0", "entity_id",
              "An alert was raised, updated with new figures, or resolved.",
              headers=(("ipm-entity", "entity_id"), ("ipm-severity", "severity"), ("ipm-status", "status"))),
    EventSpec("ipm.performance.strategy_review.requested", Topics.REVIEW_REQUESTS, StrategyReviewRequested, "1.0",
              "entity_id", "A full-year outlook breached a strategic target's tolerance band."),
    EventSpec("ipm.performance.batch.evaluated", Topics.EVALUATIONS, BatchEvaluated, "1.0", "entity_id",
              "Every series of one ERP batch was evaluated against budget, target and outlook."),
    EventSpec("ipm.projects.benefits.planned", Topics.BENEFITS, BenefitsPlanned, "1.0", "entity_id|account_id",
              "An improvement project planned (or re-planned) its monthly benefits on a line."),
    EventSpec("ipm.projects.benefits.changed", Topics.BENEFITS, BenefitsChanged, "1.0", "entity_id|account_id",
              "A project's benefits on a line changed in amount or stage; the new version replaces the old."),
    EventSpec("ipm.projects.benefits.realised", Topics.BENEFITS, BenefitsRealised, "1.0", "entity_id|account_id",
              "Benefits were measured against the line's baseline without the project."),
)

CATALOGUE: dict[str, EventSpec] = {spec.type: spec for spec in _SPECS}
SPEC_BY_MODEL: dict[type[EventData], EventSpec] = {spec.model: spec for spec in _SPECS}

ALL_TOPICS = (
    Topics.ERP_POSTINGS, Topics.REFERENCE, Topics.TARGETS, Topics.REVIEWS, Topics.ACTUALS, Topics.BUDGETS,
    Topics.FORECASTS, Topics.ALERTS, Topics.REVIEW_REQUESTS, Topics.EVALUATIONS, Topics.BENEFITS,
)

SERVICES = ("strategy", "projects", "forecast", "performance")


def partition_key(spec: EventSpec, data: EventData) -> str:
    """Build the partition key from the payload fields that ``spec.key`` names, joined by ``|``."""
    return "|".join(str(getattr(data, field) or "") for field in spec.key.split("|"))


def message_headers(event_type: str, data: Mapping[str, object]) -> list[tuple[str, bytes]]:
    """Build the Kafka headers that the event type's spec names from its payload fields; none for most types."""
    spec = CATALOGUE.get(event_type)
    if spec is None:
        return []
    return [(header, str(data.get(field) or "").encode("utf-8")) for header, field in spec.headers]
