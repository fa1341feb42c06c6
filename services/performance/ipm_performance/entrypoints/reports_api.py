"""HTTP API of the variance engine: reports, bridge, KPIs, scorecard, and the rates, KPIs and drivers they use."""

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ipm_common.fx import Rate, RateType
from ipm_common.http import ExactJSONRoute
from ipm_common.money import Money
from ipm_common.periods import PeriodKey
from ipm_common.runtime import get_database
from ipm_common.spreading import Phasing
from ipm_common.storage import Database
from ipm_common.variance import Direction, ToleranceBand
from ipm_performance.domain.formulas import KPI_KINDS, formula_of_kind
from ipm_performance.domain.kpis import KpiDefinition, KpiTarget
from ipm_performance.domain.report_inputs import ReportRequest
from ipm_performance.service_layer import reports
from ipm_performance.service_layer.reports import Currency
from ipm_performance.service_layer.scorecards import scorecard

router = APIRouter(prefix="/v1", route_class=ExactJSONRoute, tags=["reports"])

DatabaseDependency = Annotated[Database, Depends(get_database)]
EntityQuery = Annotated[str, Query(min_length=1, max_length=64, description="entity id, such as PHL")]
PeriodQuery = Annotated[str, Query(pattern=r"^FY[0-9]{4}-P[0-9]{2}$", description="report period, such as FY2024-P05")]
CurrencyQuery = Annotated[str | None, Query(
    pattern="^[A-Z]{3}$", description="report currency; the entity's functional currency if left out")]
ConstantQuery = Annotated[bool, Query(description="translate actuals at the plan rates, leaving out currency effects")]
ActualRateQuery = Annotated[RateType, Query(description="rate type for actuals")]
PlanRateQuery = Annotated[RateType, Query(description="rate type for budgets, forecasts and targets")]
Identifier = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$")]


def get_base_currency(request: Request) -> str:
    """FastAPI dependency: the currency through which report rates are triangulated, from the settings."""
    return str(request.app.state.runtime.settings.fx_base_currency)


BaseCurrency = Annotated[str, Depends(get_base_currency)]


# --- models ------------------------------------------------------------------------------------


class ReportLineOut(BaseModel):
    line: str
    comparison: str = Field(description="actual_vs_budget, actual_vs_forecast_lag_<1|3|6|12>, outlook_vs_budget, "
                                        "outlook_vs_target or forecast_drift")
    span: str = Field(description="period, qtd, ytd or full_year")
    period: str
    value: Money | None
    comparator: Money | None
    variance: Money | None = Field(description="(value - comparator) × s, s = -1 where less is better")
    variance_pct: Money | None = Field(description="variance / |comparator|; null when the comparator is zero")
    favourable: bool | None
    breach: bool | None = Field(description="whether the variance reaches both limits of the band")
    direction: str
    phasing: str = Field(description="full_period, or pro_rata_days for an unfinished report period")


class BridgeStepOut(BaseModel):
    name: str
    amount: Money
    detail: dict[str, Money]


class BridgeOut(BaseModel):
    entity_id: str
    line: str
    period: str
    currency: str | None
    budget: Money
    outlook: Money
    steps: list[BridgeStepOut] = Field(description="they sum to outlook - budget exactly")


class KpiValueOut(BaseModel):
    kpi_id: str
    span: str
    period: str
    value: Money | None
    target: Money | None
    variance: Money | None
    variance_pct: Money | None
    direction: str


class ScorecardRowOut(BaseModel):
    kind: Literal["line", "kpi"]
    name: str
    measure: str
    value: Money | None
    target: Money | None
    variance: Money | None
    variance_pct: Money | None
    status: str | None = Field(description="on_track, at_risk or off_track")
    trend: str | None = Field(description="improving, worsening, flat or mixed over the last 3 periods")
    band_pct: Money
    band_absolute: Money


class ScorecardOut(BaseModel):
    entity_id: str
    period: str
    rows: list[ScorecardRowOut]


class RateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    from_currency: str = Field(pattern="^[A-Z]{3}$")
    to_currency: str = Field(pattern="^[A-Z]{3}$")
    rate_type: RateType
    period: str = Field(pattern=r"^FY[0-9]{4}-P[0-9]{2}$")
    rate: Money = Field(description="units of to_currency per one from_currency")


class RateOut(RateIn):
    pass


class KpiIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=255)
    direction: Direction = Direction.HIGHER_IS_BETTER
    formula: str | None = Field(None, max_length=1000, description="such as \"(SALES - COGS) / SALES\"")
    kind: str | None = Field(None, description=f"a built-in KPI instead of a formula: {', '.join(KPI_KINDS)}")
    lines: dict[str, str] = Field(default_factory=dict, description="the line of each role of a built-in KPI")

    @model_validator(mode="after")
    def _formula_or_kind(self) -> "KpiIn":
        if (self.formula is None) == (self.kind is None):
            raise ValueError("send either formula or kind with lines, not both or neither")
        return self


class KpiOut(BaseModel):
    kpi_id: str
    name: str
    formula: str
    direction: str


class KpiTargetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target: Money
    band_pct: Money = Field(Decimal("0.05"), description="band as a fraction of the target: 0.05 is 5 %")
    band_absolute: Money = Field(Decimal(0), description="band in the KPI's own unit")


class KpiTargetOut(KpiTargetIn):
    entity_id: str
    kpi_id: str
    fiscal_year: int


class VolumeDriverIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    volume_account: str = Field(min_length=1, max_length=64, description="statistical account counting the units")


# --- reports -----------------------------------------------------------------------------------


@router.get("/reports/variances", response_model=list[ReportLineOut])
async def get_variance_report(
        database: DatabaseDependency, base_currency: BaseCurrency, entity_id: EntityQuery, period: PeriodQuery,
        as_of: Annotated[date | None, Query(description="report date; within the period it is unfinished")] = None,
        phasing: Annotated[Phasing, Query(description="budget of an unfinished period")] = Phasing.FULL_PERIOD,
        currency: CurrencyQuery = None, constant_currency: ConstantQuery = False,
        actual_rate_type: ActualRateQuery = "average", plan_rate_type: PlanRateQuery = "budget",
        hierarchy: Annotated[str | None, Query(max_length=64, description="account hierarchy to roll up")] = None,
        band_pct: Annotated[Decimal, Query(ge=0, le=1)] = Decimal("0.10"),
        band_absolute: Annotated[Decimal, Query(ge=0)] = Decimal(0)) -> list[ReportLineOut]:
    """Compare every line for the period, quarter to date, year to date and full year."""
    request = ReportRequest(PeriodKey.parse(period), as_of, phasing, ToleranceBand(band_pct, band_absolute),
                            hierarchy)
    lines = await reports.variance_report(database, entity_id, request, Currency(
        currency, base_currency, actual_rate_type, plan_rate_type, constant_currency))
    return [ReportLineOut(line=line.line, comparison=line.comparison, span=line.span.value, period=line.period,
                          value=line.value, comparator=line.comparator, variance=line.variance,
                          variance_pct=line.variance_pct, favourable=line.favourable, breach=line.breach,
                          direction=line.direction.value, phasing=line.phasing.value) for line in lines]


@router.get("/reports/bridge", response_model=BridgeOut)
async def get_bridge(database: DatabaseDependency, base_currency: BaseCurrency, entity_id: EntityQuery,
                     line: Annotated[str, Query(min_length=1, max_length=64)], period: PeriodQuery,
                     currency: CurrencyQuery = None, actual_rate_type: ActualRateQuery = "average",
                     plan_rate_type: PlanRateQuery = "budget") -> BridgeOut:
    """Bridge a line from its full-year budget to its full-year outlook in steps that sum exactly."""
    bridge = await reports.variance_bridge(database, entity_id, line, PeriodKey.parse(period), Currency(
        currency, base_currency, actual_rate_type, plan_rate_type))
    return BridgeOut(entity_id=entity_id, line=bridge.line, period=bridge.period, currency=currency,
                     budget=bridge.budget, outlook=bridge.outlook,
                     steps=[BridgeStepOut(name=step.name, amount=step.amount, detail=step.detail)
                            for step in bridge.steps])


@router.get("/reports/kpis", response_model=list[KpiValueOut])
async def get_kpi_report(database: DatabaseDependency, base_currency: BaseCurrency, entity_id: EntityQuery,
                         period: PeriodQuery, currency: CurrencyQuery = None) -> list[KpiValueOut]:
    """Compute every defined KPI over each span and compare it with its target."""
    values = await reports.kpi_report(database, entity_id, PeriodKey.parse(period),
                                      Currency(currency, base_currency))
    return [KpiValueOut(kpi_id=value.kpi_id, span=value.span.value, period=value.period, value=value.value,
                        target=value.target, variance=value.variance, variance_pct=value.variance_pct,
                        direction=value.direction.value) for value in values]


@router.get("/reports/scorecard", response_model=ScorecardOut)
async def get_scorecard(database: DatabaseDependency, base_currency: BaseCurrency, entity_id: EntityQuery,
                        period: PeriodQuery, currency: CurrencyQuery = None,
                        band_pct: Annotated[Decimal, Query(ge=0, le=1)] = Decimal("0.05"),
                        band_absolute: Annotated[Decimal, Query(ge=0)] = Decimal(0)) -> ScorecardOut:
    """Score every KPI and line: value, target, variance, status against the band, and trend."""
    rows = await scorecard(database, entity_id, PeriodKey.parse(period), ToleranceBand(band_pct, band_absolute),
                           Currency(currency, base_currency))
    return ScorecardOut(entity_id=entity_id, period=period, rows=[ScorecardRowOut(
        kind="kpi" if row.kind == "kpi" else "line", name=row.name, measure=row.measure, value=row.value,
        target=row.target, variance=row.variance, variance_pct=row.variance_pct,
        status=row.status.value if row.status else None, trend=row.trend.value if row.trend else None,
        band_pct=row.band.pct, band_absolute=row.band.absolute) for row in rows])


# --- inputs ------------------------------------------------------------------------------------


@router.put("/fx-rates")
async def put_rates(body: list[RateIn], database: DatabaseDependency, base_currency: BaseCurrency) -> dict[str, int]:
    """Store report exchange rates by rate type and period, replacing the rate of the same key; all or none."""
    rates = [Rate(item.from_currency, item.to_currency, item.rate_type, item.period, item.rate) for item in body]
    return {"stored": await reports.store_rates(database, rates, base_currency)}


@router.get("/fx-rates", response_model=list[RateOut])
async def get_rates(database: DatabaseDependency) -> list[RateOut]:
    """List the stored report exchange rates."""
    return [RateOut(from_currency=rate.from_currency, to_currency=rate.to_currency, rate_type=rate.rate_type,
                    period=rate.period, rate=rate.rate) for rate in await reports.list_rates(database)]


@router.put("/kpis/{kpi_id}", response_model=KpiOut)
async def put_kpi(kpi_id: Identifier, body: KpiIn, database: DatabaseDependency) -> KpiOut:
    """Define a KPI by a formula over lines or by a built-in kind; it replaces the KPI of the same id."""
    formula = body.formula if body.formula is not None else formula_of_kind(str(body.kind), body.lines)
    definition = await reports.define_kpi(database, KpiDefinition(kpi_id, body.name, formula, body.direction))
    return _kpi_out(definition)


@router.get("/kpis", response_model=list[KpiOut])
async def get_kpis(database: DatabaseDependency) -> list[KpiOut]:
    """List the defined KPIs."""
    return [_kpi_out(definition) for definition in await reports.list_kpis(database)]


@router.put("/kpi-targets/{entity_id}/{kpi_id}/{fiscal_year}", response_model=KpiTargetOut)
async def put_kpi_target(entity_id: Identifier, kpi_id: Identifier,
                         fiscal_year: Annotated[int, Path(ge=1900, le=2999)], body: KpiTargetIn,
                         database: DatabaseDependency) -> KpiTargetOut:
    """Set a KPI's target of an entity and fiscal year with its tolerance band."""
    target = KpiTarget(kpi_id, fiscal_year, body.target, ToleranceBand(body.band_pct, body.band_absolute))
    await reports.set_kpi_target(database, entity_id, target)
    return KpiTargetOut(entity_id=entity_id, kpi_id=kpi_id, fiscal_year=fiscal_year, target=body.target,
                        band_pct=body.band_pct, band_absolute=body.band_absolute)


@router.put("/volume-drivers/{line}")
async def put_volume_driver(line: Identifier, body: VolumeDriverIn, database: DatabaseDependency) -> dict[str, str]:
    """Name the statistical account that counts a line's units, for price, volume and mix in the bridge."""
    await reports.set_volume_driver(database, line, body.volume_account)
    return {"line": line, "volume_account": body.volume_account}


def _kpi_out(definition: KpiDefinition) -> KpiOut:
    return KpiOut(kpi_id=definition.kpi_id, name=definition.name, formula=definition.formula,
                  direction=definition.direction.value)

