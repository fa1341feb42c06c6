"""Request and response bodies of the operating plan API, with amounts as decimal strings."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field, StrictInt

from ipm_common.money import Money
from ipm_common.variance import BandScope
from ipm_strategy.domain.drivers import Drivers
from ipm_strategy.domain.investments import Envelope, EnvelopeKind, EnvelopeStatus
from ipm_strategy.domain.operating_plans import (
    DriverSettings,
    LineOrigin,
    OperatingPlan,
    OperatingTarget,
    PlanStatus,
    TargetCheck,
    TargetKind,
)
from ipm_strategy.domain.sec import CashFlowComparison
from ipm_strategy.domain.statements import CashFlow, CashFlowRole, Check, StatementName, YearStatements
from ipm_strategy.entrypoints.schemas import Body, FiscalYear, Identifier
from ipm_strategy.service_layer.operating_plans import LineRequest, TargetRequest

# --- requests ----------------------------------------------------------------------------------


class OperatingLineIn(Body):
    line: str = Identifier
    fiscal_year: int = FiscalYear
    amount: Money
    role: CashFlowRole | None = Field(None, description="cash-flow role of an account line; standard lines have "
                                                        "theirs, and accounts default by type")

    def to_request(self) -> LineRequest:
        return LineRequest(self.line, self.fiscal_year, self.amount, self.role)


class OperatingPlanIn(Body):
    plan_id: str = Identifier
    entity_id: str = Identifier
    name: str = Field(min_length=1, max_length=255)
    lines: list[OperatingLineIn] = Field(default_factory=list)


class LinesIn(Body):
    lines: list[OperatingLineIn]


class DriversValuesIn(Body):
    """Driver values. Rates, margins and shares are fractions: 0.05 is 5 %."""

    revenue_growth: Money
    gross_margin: Money
    operating_margin: Money = Field(description="operating income over revenue, after depreciation")
    receivable_days: Money = Field(description="days sales outstanding, on a 365-day year")
    payable_days: Money = Field(description="days payable outstanding, on cost of sales")
    inventory_days: Money = Field(description="days of inventory, on cost of sales")
    capex_to_revenue: Money
    depreciation_rate: Money = Field(description="share of the opening property, plant and equipment")
    tax_rate: Money = Field(description="share of positive operating income")
    dividend_payout: Money = Field(description="share of positive net income")
    minimum_cash: Money = Field(Decimal(0), description="cash below which the revolver is drawn")


class DriversIn(Body):
    base_year: int = FiscalYear
    years: StrictInt = Field(ge=1, le=30, description="fiscal years projected after the base year")
    drivers: DriversValuesIn

    def to_settings(self) -> DriverSettings:
        return DriverSettings(self.base_year, self.years, Drivers(**self.drivers.model_dump()))


class OperatingTargetIn(Body):
    kind: TargetKind = "line"
    line: str = Field(min_length=1, max_length=64, description="a plan line, or the KPI's name for kind 'kpi'")
    fiscal_year: int = FiscalYear
    amount: Money = Field(description="the target; a fraction or days for a KPI")
    band_pct: Money | None = None
    band_absolute: Money | None = Field(None, description="default 1000000 for lines and 0 for KPIs")
    band_scope: BandScope | None = None

    def to_request(self) -> TargetRequest:
        return TargetRequest(self.kind, self.line, self.fiscal_year, self.amount, self.band_pct, self.band_absolute,
                             self.band_scope)


class TargetsIn(Body):
    targets: list[OperatingTargetIn]


class AdoptIn(Body):
    by: str = Field(min_length=1, max_length=128)


class ReviseIn(Body):
    plan_id: str = Identifier
    name: str = Field(min_length=1, max_length=255)


class SecImportIn(Body):
    """Reported statements to import: a path under IPM_DATA_DIR, or the company-facts document itself."""

    plan_id: str = Identifier
    entity_id: str = Identifier
    name: str | None = Field(None, max_length=255)
    path: str | None = Field(None, max_length=1000, examples=["sec/companyfacts-CIK0000320193.json"])
    companyfacts: dict[str, Any] | None = None


# --- responses ---------------------------------------------------------------------------------


class OperatingLineOut(BaseModel):
    line: str
    fiscal_year: int
    amount: Money
    statement: StatementName
    role: CashFlowRole
    origin: LineOrigin


class OperatingTargetOut(BaseModel):
    kind: TargetKind
    line: str
    fiscal_year: int
    amount: Money
    band_pct: Money
    band_absolute: Money
    band_scope: BandScope

    @classmethod
    def of(cls, target: OperatingTarget) -> "OperatingTargetOut":
        return cls(kind=target.kind, line=target.line, fiscal_year=target.fiscal_year, amount=target.amount,
                   band_pct=target.band.pct, band_absolute=target.band.absolute, band_scope=target.band.scope)


class DriversOut(BaseModel):
    base_year: int
    years: int
    drivers: dict[str, Money]


class OperatingPlanSummary(BaseModel):
    plan_id: str
    entity_id: str
    name: str
    status: PlanStatus
    version: int
    revises: str | None
    adopted_by: str | None
    adopted_at: datetime | None


class OperatingPlanOut(OperatingPlanSummary):
    drivers: DriversOut | None
    lines: list[OperatingLineOut]
    targets: list[OperatingTargetOut]

    @classmethod
    def of(cls, plan: OperatingPlan) -> "OperatingPlanOut":
        drivers = None
        if plan.drivers is not None:
            drivers = DriversOut(base_year=plan.drivers.base_year, years=plan.drivers.years,
                                 drivers=plan.drivers.drivers.as_dict())
        lines = [OperatingLineOut(line=item.definition.line, fiscal_year=item.fiscal_year, amount=item.amount,
                                  statement=item.definition.statement, role=item.definition.role, origin=item.origin)
                 for item in plan.entries]
        return cls(plan_id=plan.plan_id, entity_id=plan.entity_id, name=plan.name, status=plan.status,
                   version=plan.version, revises=plan.revises, adopted_by=plan.adopted_by, adopted_at=plan.adopted_at,
                   drivers=drivers, lines=lines, targets=[OperatingTargetOut.of(target) for target in plan.targets])


class StatementLineOut(BaseModel):
    line: str
    amount: Money


class CheckOut(BaseModel):
    name: str
    expected: Money
    actual: Money
    difference: Money = Field(description="actual minus expected")
    passed: bool

    @classmethod
    def of(cls, check: Check) -> "CheckOut":
        return cls(name=check.name, expected=check.expected, actual=check.actual, difference=check.difference,
                   passed=check.passed)


class CashFlowOut(BaseModel):
    net_income: Money
    non_cash_items: Money
    increase_in_working_capital_assets: Money
    increase_in_working_capital_liabilities: Money
    derived: dict[str, Money] = Field(description="operating, investing and financing by the indirect method")
    entered: dict[str, Money] = Field(description="sections entered directly, which replace the derived ones")
    operating: Money
    investing: Money
    financing: Money
    net_change: Money
    opening_cash: Money
    closing_cash: Money

    @classmethod
    def of(cls, flow: CashFlow) -> "CashFlowOut":
        sections = flow.sections
        return cls(net_income=flow.net_income, non_cash_items=flow.non_cash_items,
                   increase_in_working_capital_assets=flow.increase_in_working_capital_assets,
                   increase_in_working_capital_liabilities=flow.increase_in_working_capital_liabilities,
                   derived=dict(flow.derived), entered=dict(flow.entered), operating=sections["operating"],
                   investing=sections["investing"], financing=sections["financing"], net_change=flow.net_change,
                   opening_cash=flow.opening_cash, closing_cash=flow.closing_cash)


class YearStatementsOut(BaseModel):
    fiscal_year: int
    income_statement: list[StatementLineOut]
    balance_sheet: list[StatementLineOut]
    cash_flow_lines: list[StatementLineOut] = Field(description="non-cash add-backs, entered flows and memo lines")
    revenue: Money
    expenses: Money
    net_income: Money
    assets: Money
    liabilities: Money
    equity: Money
    cash: Money
    cash_flow: CashFlowOut | None = Field(description="null in the first year, which has no opening balance sheet")
    checks: list[CheckOut]
    kpis: dict[str, Money | None]

    @classmethod
    def of(cls, year: YearStatements, kpis: dict[str, Decimal | None]) -> "YearStatementsOut":
        def lines(statement: StatementName) -> list[StatementLineOut]:
            return [StatementLineOut(line=line.line, amount=line.amount) for line in year.lines[statement]]

        return cls(fiscal_year=year.fiscal_year, income_statement=lines("income_statement"),
                   balance_sheet=lines("balance_sheet"), cash_flow_lines=lines("cash_flow"), revenue=year.revenue,
                   expenses=year.expenses, net_income=year.net_income, assets=year.assets,
                   liabilities=year.liabilities, equity=year.equity, cash=year.cash,
                   cash_flow=None if year.cash_flow is None else CashFlowOut.of(year.cash_flow),
                   checks=[CheckOut.of(check) for check in year.checks], kpis=kpis)


class TargetCheckOut(OperatingTargetOut):
    planned: Money | None = Field(description="the plan's line amount or KPI value; null when the plan has none")
    variance: Money | None = Field(description="planned minus target, negated where less is better")
    within_band: bool | None

    @classmethod
    def of_check(cls, check: TargetCheck) -> "TargetCheckOut":
        return cls(**OperatingTargetOut.of(check.target).model_dump(), planned=check.planned,
                   variance=check.variance, within_band=check.within_band)


class StatementsOut(BaseModel):
    plan_id: str
    entity_id: str
    status: PlanStatus
    currency: str
    checks_passed: bool = Field(description="true when every check of every year has no difference")
    years: list[YearStatementsOut]
    targets: list[TargetCheckOut] = Field(description="each target against the plan's own figure")


class ComparisonYearOut(BaseModel):
    fiscal_year: int
    net_income: Money
    non_cash_items: Money
    increase_in_working_capital_assets: Money
    increase_in_working_capital_liabilities: Money
    derived: Money
    reported: Money
    gap: Money = Field(description="derived minus reported")
    missing_lines: list[str]

    @classmethod
    def of(cls, item: CashFlowComparison) -> "ComparisonYearOut":
        return cls(fiscal_year=item.fiscal_year, net_income=item.net_income, non_cash_items=item.non_cash_items,
                   increase_in_working_capital_assets=item.increase_in_working_capital_assets,
                   increase_in_working_capital_liabilities=item.increase_in_working_capital_liabilities,
                   derived=item.derived, reported=item.reported, gap=item.gap, missing_lines=list(item.missing_lines))


class ComparisonOut(BaseModel):
    plan_id: str
    name: str
    currency: str
    periods_compared: int
    largest_gap: Money | None = Field(description="the gap of largest magnitude, with its sign")
    largest_gap_fiscal_year: int | None
    years: list[ComparisonYearOut]


class ImportedOut(BaseModel):
    plan_id: str
    name: str
    status: PlanStatus
    fiscal_years: list[int]
    periods_compared: int



# --- investment envelopes ----------------------------------------------------------------------


class EnvelopeAmountIn(Body):
    fiscal_year: int = FiscalYear
    amount: Money


class EnvelopeIn(Body):
    envelope_id: str = Identifier
    initiative: str = Field(min_length=1, max_length=255, description="a project id or an initiative's name")
    kind: EnvelopeKind = Field(description="capital counts against capital_expenditure, operating against "
                                           "operating_expenses")
    amounts: list[EnvelopeAmountIn] = Field(min_length=1)
    requested_by: str = Field(min_length=1, max_length=128)


class EnvelopeDecisionIn(Body):
    by: str = Field(min_length=1, max_length=128)
    reason: str | None = Field(None, max_length=4000, description="required to reject")


class EnvelopeOut(BaseModel):
    envelope_id: str
    plan_id: str
    initiative: str
    kind: EnvelopeKind
    amounts: list[EnvelopeAmountIn]
    status: EnvelopeStatus
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    reason: str | None

    @classmethod
    def of(cls, item: Envelope) -> "EnvelopeOut":
        amounts = [EnvelopeAmountIn(fiscal_year=year, amount=amount) for year, amount in sorted(item.amounts.items())]
        return cls(envelope_id=item.envelope_id, plan_id=item.plan_id, initiative=item.initiative, kind=item.kind,
                   amounts=amounts, status=item.status, requested_by=item.requested_by,
                   requested_at=item.requested_at, decided_by=item.decided_by, decided_at=item.decided_at,
                   reason=item.reason)


class BudgetUseOut(BaseModel):
    kind: EnvelopeKind
    fiscal_year: int
    budget: Money
    approved: Money
    requested: Money = Field(description="envelopes still awaiting a decision")
    available: Money = Field(description="budget minus approved")


class EnvelopesOut(BaseModel):
    plan_id: str
    envelopes: list[EnvelopeOut]
    budget: list[BudgetUseOut]
