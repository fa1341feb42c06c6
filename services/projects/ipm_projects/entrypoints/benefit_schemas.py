"""Request and response bodies of the benefit and portfolio routes, with amounts as decimal strings."""

from datetime import datetime
from typing import Self

from pydantic import BaseModel, Field

from ipm_common.money import Money
from ipm_projects.domain.portfolio import Amounts
from ipm_projects.entrypoints.schemas import Body, LinkedTargetIn, NonBlank
from ipm_projects.service_layer.portfolio import LineReport, Portfolio


class ValidationIn(Body):
    validated_by: NonBlank = Field(min_length=1, max_length=128, description="who in finance validated the benefits")
    comment: str = Field("", max_length=4000)


class ValidationOut(BaseModel):
    entity_id: str
    account_id: str
    stage: str
    validated_by: str | None
    validated_at: datetime | None
    changed: bool = Field(description="false when the line was validated before and nothing changed")


class BaselinePointIn(Body):
    period: str = Field(description="period key such as FY2024-P03; YYYY-MM for calendar-month entities")
    amount: Money = Field(description="what the line would be without the project, in natural sign")


class BaselineIn(Body):
    set_by: NonBlank = Field(min_length=1, max_length=128)
    points: list[BaselinePointIn] = Field(description="replace the manual baseline; [] falls back to the forecast")


class AmountsOut(BaseModel):
    """Sums in one currency, in the favourable sign: a saving on a cost line is positive."""

    currency: str
    expected: Money = Field(description="every planned benefit")
    validated: Money = Field(description="planned benefits of lines that finance validated")
    planned_measured: Money = Field(description="planned benefits of the periods already measured")
    realised: Money
    gap: Money = Field(description="realised − planned_measured; negative when the project delivers less")

    @classmethod
    def of(cls, amounts: Amounts) -> Self:
        return cls(currency=amounts.currency, expected=amounts.expected, validated=amounts.validated,
                   planned_measured=amounts.planned_measured, realised=amounts.realised, gap=amounts.gap)


class PeriodFiguresOut(BaseModel):
    period: str
    planned: Money = Field(description="planned benefit in the line's natural sign")
    baseline: Money | None = Field(description="the line without the project, natural sign")
    actual: Money | None
    realised: Money | None = Field(description="(actual − baseline) × s, s = +1 where more is better, −1 where "
                                               "less is better; null until measured")


class LineReportOut(BaseModel):
    entity_id: str
    account_id: str
    currency: str
    direction: str
    benefit_type: str
    stage: str
    validated_by: str | None
    validated_at: datetime | None
    start_period: str | None = Field(description="the baseline is the last forecast made before this period")
    periods: list[PeriodFiguresOut]
    amounts: AmountsOut

    @classmethod
    def of(cls, report: LineReport) -> Self:
        measured = {point.period: point for point in report.points}
        periods = []
        for period, amount in sorted(report.planned.items()):
            point = measured.get(period)
            periods.append(PeriodFiguresOut(
                period=str(period), planned=amount, baseline=report.baseline.get(period),
                actual=None if point is None else point.actual, realised=None if point is None else point.realised))
        line = report.line
        return cls(entity_id=line.entity_id, account_id=line.account_id, currency=report.currency,
                   direction=report.direction, benefit_type=line.benefit_type, stage=line.stage,
                   validated_by=line.validated_by, validated_at=line.validated_at,
                   start_period=None if report.start is None else str(report.start), periods=periods,
                   amounts=AmountsOut.of(report.amounts))


class ProjectBenefitsOut(BaseModel):
    project_id: str
    name: str
    phase: str
    amounts: list[AmountsOut] = Field(description="one entry per currency")


class TargetBenefitsOut(LinkedTargetIn):
    project_ids: list[str]
    amounts: list[AmountsOut] = Field(description="benefits of the linked projects on the line or under it in an "
                                                  "account hierarchy, in the target's fiscal year")


class PortfolioOut(BaseModel):
    projects: list[ProjectBenefitsOut]
    targets: list[TargetBenefitsOut]
    totals: list[AmountsOut] = Field(description="every benefit line once, one entry per currency")

    @classmethod
    def of(cls, portfolio: Portfolio) -> Self:
        return cls(
            projects=[ProjectBenefitsOut(project_id=item.project_id, name=item.name, phase=item.phase,
                                         amounts=[AmountsOut.of(amounts) for amounts in item.amounts])
                      for item in portfolio.projects],
            targets=[TargetBenefitsOut(entity_id=item.target.entity_id, line=item.target.line,
                                       fiscal_year=item.target.fiscal_year, project_ids=item.project_ids,
                                       amounts=[AmountsOut.of(amounts) for amounts in item.amounts])
                     for item in portfolio.targets],
            totals=[AmountsOut.of(amounts) for amounts in portfolio.totals],
        )
