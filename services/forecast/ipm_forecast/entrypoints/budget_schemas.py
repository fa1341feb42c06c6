"""Request and response bodies of the budget workflow and the period balance API."""

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ipm_common.money import Money
from ipm_forecast.adapters.budget_store import BudgetHeader
from ipm_forecast.domain.balances import BalanceLine
from ipm_forecast.entrypoints.schemas import MAX_BATCH_POSTINGS, CostCentre, Identifier, Text64, Text128
from ipm_forecast.service_layer.budget_lines import BudgetLineRequest
from ipm_forecast.service_layer.budget_versions import BudgetVersion, LinesInput

DriverName = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:\-]+$")
Drivers = dict[str, dict[str, Money]]
DRIVERS_DESCRIPTION = ("driver series by name, each with one value per period of the fiscal year, e.g. "
                       "{\"working_days\": {\"FY2024-P01\": \"21\", ...}}; a line with spread \"driver\" names one")


class DraftLineIn(BaseModel):
    """A budget line: an annual amount with its spread, or amounts per period."""

    model_config = ConfigDict(extra="forbid")

    line: str = Identifier
    cost_centre: str | None = CostCentre
    annual: Money | None = Field(None, description="the year's amount, spread to periods; or give periods instead")
    periods: dict[str, Money] | None = Field(None, description="amount per period key, e.g. {\"FY2024-P01\": \"10\"}")
    spread: Literal["even", "profile", "days", "driver"] = Field(
        "even", description="how an annual amount is spread: evenly, by the prior year's actuals, by the days of "
                            "each period, or by a driver series")
    driver: str | None = Field(None, min_length=1, max_length=64, description="the driver that spread \"driver\" "
                                                                              "follows")

    def to_request(self) -> BudgetLineRequest:
        return BudgetLineRequest(self.line, self.cost_centre or "", self.annual, self.periods, self.spread,
                                 self.driver)


class LinesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by: Text128 = Field(description="who replaces the lines")
    lines: list[DraftLineIn] = Field(max_length=10_000)
    drivers: Drivers = Field(default_factory=dict, description=DRIVERS_DESCRIPTION)

    def to_input(self) -> LinesInput:
        return LinesInput([line.to_request() for line in self.lines], self.drivers)


class DraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    budget_id: Text64 | None = Field(None, description="your id of this version; a new id is made when left out")
    entity_id: str = Identifier
    fiscal_year: int = Field(ge=1900, le=2999)
    by: Text128 = Field(description="who creates the draft")
    lines: list[DraftLineIn] = Field(default_factory=list, max_length=10_000)
    drivers: Drivers = Field(default_factory=dict, description=DRIVERS_DESCRIPTION)

    def to_input(self) -> LinesInput:
        return LinesInput([line.to_request() for line in self.lines], self.drivers)


class StepIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    by: Text128


class RejectionIn(StepIn):
    reason: str = Field(min_length=1, max_length=1000, description="why the version goes back to draft")


class PeriodAmountOut(BaseModel):
    period: str
    amount: Money


class BudgetLineOut(BaseModel):
    line: str
    cost_centre: str | None
    annual: Money
    spread_method: str = Field(description="monthly, even, profile, days or driver")
    driver: str | None
    periods: list[PeriodAmountOut]


class StepOut(BaseModel):
    step: int
    action: str
    by: str
    at: datetime
    comment: str | None


class BudgetSummaryOut(BaseModel):
    budget_id: str
    entity_id: str
    fiscal_year: int
    version: int | None = Field(description="the approval number; null until the version is approved")
    status: str = Field(description="draft, submitted, approved or superseded")
    approved_by: str | None
    approved_at: datetime | None

    @classmethod
    def of(cls, header: BudgetHeader) -> "BudgetSummaryOut":
        return cls(budget_id=header.budget_id, entity_id=header.entity_id, fiscal_year=header.fiscal_year,
                   version=header.version, status=header.status, approved_by=header.approved_by,
                   approved_at=header.approved_at)


class BudgetVersionOut(BudgetSummaryOut):
    lines: list[BudgetLineOut]
    history: list[StepOut]

    @classmethod
    def of_version(cls, version: BudgetVersion) -> "BudgetVersionOut":
        summary = BudgetSummaryOut.of(version.header)
        lines = [BudgetLineOut(line=line.line, cost_centre=line.cost_centre or None, annual=line.annual,
                               spread_method=line.spread_method, driver=line.driver,
                               periods=[PeriodAmountOut(period=point.period, amount=point.amount)
                                        for point in line.periods])
                 for line in version.lines]
        history = [StepOut(step=step.step, action=step.action, by=step.actor, at=step.at, comment=step.comment)
                   for step in version.history]
        return cls(**summary.model_dump(), lines=lines, history=history)


class BalanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account_id: str = Identifier
    cost_centre: str | None = CostCentre
    period: str = Field(min_length=1, max_length=16, description="FY2024-P01, or YYYY-MM in month calendars that "
                                                                  "start on day 1")
    basis: Literal["period", "ytd"] = Field(description="\"period\" for the period's own flow, \"ytd\" for the "
                                                        "fiscal year to date")
    amount: Money = Field(description="debit-positive ledger amount in the entity's functional currency")
    version: int = Field(ge=1, le=2**31 - 1, description="the ERP's version of this balance; the newest wins")
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$", description="optional; must be the entity's "
                                                                          "functional currency")

    def to_line(self) -> BalanceLine:
        return BalanceLine(self.account_id, self.cost_centre or "", self.period, self.basis, self.amount,
                           self.version, self.currency)


class BalanceBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batch_id: Text64 = Field(description="the ERP's batch id; becomes the correlation id of every event")
    entity_id: str = Identifier
    lines: list[BalanceIn] = Field(min_length=1, max_length=MAX_BATCH_POSTINGS)

    def to_lines(self) -> list[BalanceLine]:
        return [line.to_line() for line in self.lines]


class BalanceIngestOut(BaseModel):
    batch_id: str
    accepted: int = Field(description="balances newer than the held version, now applied")
    replayed: int = Field(description="repeats of the held version; nothing changed")
    stale: int = Field(description="versions older than the held one; logged and ignored")
    series: int = Field(description="series whose period figures changed")
    periods: int = Field(description="period figures that changed")



class StoredBalanceOut(BaseModel):
    """One stored version of a period balance, as the ERP sent it."""

    period: str
    version: int
    basis: str
    amount: Money = Field(description="debit-positive ledger amount as sent")
    batch_id: str
    channel: str
    received_at: datetime
