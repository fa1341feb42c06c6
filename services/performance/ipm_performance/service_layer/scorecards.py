"""The scorecard of an entity and period: every KPI and line with value, target, variance, status and trend.

A line with a strategic target is scored by its full-year outlook against the target and the
target's band. A line without a target is scored by its actuals year to date against the budget
year to date and the request's band. A KPI is scored by its value year to date against its
target of the year and that target's band. The trend looks at the same variance in the report
period and the two periods before it.
"""

from dataclasses import dataclass
from decimal import Decimal

from ipm_common.periods import PeriodKey
from ipm_common.storage import Database
from ipm_common.variance import ToleranceBand
from ipm_performance.adapters import report_store
from ipm_performance.domain.kpis import KpiValue, kpi_values
from ipm_performance.domain.leaf_figures import LeafFigures
from ipm_performance.domain.report_inputs import ReportRequest
from ipm_performance.domain.reports import ReportLine, Span, build_report
from ipm_performance.domain.scorecard import Status, Trend, status_of, trend_of
from ipm_performance.service_layer.reports import Currency, ReportContext, load_context

TREND_PERIODS = 3


@dataclass(frozen=True)
class ScorecardRow:
    kind: str
    name: str
    measure: str
    value: Decimal | None
    target: Decimal | None
    variance: Decimal | None
    variance_pct: Decimal | None
    status: Status | None
    trend: Trend | None
    band: ToleranceBand


async def scorecard(database: Database, entity_id: str, period: PeriodKey, budget_band: ToleranceBand,
                    currency: Currency) -> list[ScorecardRow]:
    """Score every line with a target or budget and every KPI of the entity at ``period``."""
    periods = [period.shift(offset) for offset in range(1 - TREND_PERIODS, 1)]
    async with database.reading() as connection:
        contexts = [await load_context(connection, entity_id, key, None, currency) for key in periods]
        definitions = await report_store.kpi_definitions(connection)
        targets = await report_store.kpi_targets(connection, entity_id, period.fiscal_year)

    reports = [_line_scores(context, key) for context, key in zip(contexts, periods, strict=True)]
    rows = [_line_row(line, reports, contexts[-1], budget_band) for line in sorted(reports[-1])]

    kpis = [{(value.kpi_id, value.span): value for value in kpi_values(
        definitions, targets, LeafFigures(context.inputs, context.translation), context.tree, key)}
        for context, key in zip(contexts, periods, strict=True)]
    for definition in definitions:
        history = [found.get((definition.kpi_id, Span.YTD)) for found in kpis]
        target = targets.get(definition.kpi_id)
        rows.append(_kpi_row(definition.kpi_id, history, target.band if target else budget_band))
    return rows


def _line_scores(context: ReportContext, period: PeriodKey) -> dict[str, ReportLine]:
    """Pick each line's scored comparison: outlook against target, else actuals against budget year to date."""
    lines = build_report(context.inputs, ReportRequest(period), context.tree, context.directions,
                         context.translation)
    chosen: dict[str, ReportLine] = {}
    for line in lines:
        if line.comparison == "outlook_vs_target" and line.comparator is not None:
            chosen[line.line] = line
        elif (line.comparison == "actual_vs_budget" and line.span is Span.YTD and line.comparator is not None
              and chosen.get(line.line, line).comparison != "outlook_vs_target"):
            chosen[line.line] = line
    return chosen


def _line_row(line: str, reports: list[dict[str, ReportLine]], context: ReportContext,
              budget_band: ToleranceBand) -> ScorecardRow:
    current = reports[-1][line]
    band = context.target_bands.get(line, budget_band) if current.comparison == "outlook_vs_target" else budget_band
    history = [report.get(line) for report in reports]
    return ScorecardRow(
        kind="line", name=line, measure=current.comparison if current.span is Span.FULL_YEAR
        else f"{current.comparison}_ytd", value=current.value, target=current.comparator,
        variance=current.variance, variance_pct=current.variance_pct,
        status=status_of(current.variance, current.comparator, band),
        trend=trend_of([item.variance if item and item.comparison == current.comparison else None
                        for item in history]),
        band=band)


def _kpi_row(kpi_id: str, history: list[KpiValue | None], band: ToleranceBand) -> ScorecardRow:
    current = history[-1]
    value = current.value if current else None
    target = current.target if current else None
    variance = current.variance if current else None
    return ScorecardRow(
        kind="kpi", name=kpi_id, measure="kpi_ytd", value=value, target=target, variance=variance,
        variance_pct=current.variance_pct if current else None, status=status_of(variance, target, band),
        trend=trend_of([item.variance if item else None for item in history]), band=band)
