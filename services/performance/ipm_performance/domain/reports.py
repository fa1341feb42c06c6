"""Variance reports: the period, quarter to date, year to date and full year of an entity, through the engine.

For a report period P of the entity's fiscal calendar, each leaf gets its actuals, budget and
lagged forecasts summed over P, over the fiscal quarter up to P and over the year up to P. It
also gets its full-year outlook by the forecast version in force at P and by the version before
it. The variance engine rolls the leaves up through the hierarchy, signs, rates and flags each line.

Comparisons over P, QTD and YTD: actuals against budget and against the forecast made 1, 3, 6
and 12 periods before each period. Over the full year: the outlook (actuals to each series'
origin plus the forecast after it) against budget and strategic target, and the outlook
against the previous version's outlook (drift).
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

import polars as pl

from ipm_common.periods import PeriodKey, period_range
from ipm_common.spreading import Phasing, pro_rata
from ipm_common.variance import PCT_PLACES, Direction, variance_pct
from ipm_performance.domain import engine
from ipm_performance.domain.comparisons import Comparison, VarianceLine
from ipm_performance.domain.leaf_figures import LeafFigures
from ipm_performance.domain.lines import LineTree
from ipm_performance.domain.report_inputs import LAGS, ReportInputs, ReportRequest, Translation


class Span(StrEnum):
    PERIOD = "period"
    QTD = "qtd"
    YTD = "ytd"
    FULL_YEAR = "full_year"


SPAN_CODES = {span: code for code, span in enumerate(Span)}
LAG_COLUMNS = {f"lag_{lag}": lag for lag in LAGS}
TO_DATE_FIGURES = ("actual", "budget", *LAG_COLUMNS)
YEAR_FIGURES = ("outlook", "previous", "target")
ALL_FIGURES = (*TO_DATE_FIGURES, *YEAR_FIGURES)

# The comparison that each comparator column makes, by whether it is to date or for the full year.
TO_DATE_COMPARISONS = {"budget": "actual_vs_budget",
                       **{column: f"actual_vs_forecast_lag_{lag}" for column, lag in LAG_COLUMNS.items()}}
YEAR_COMPARISONS = {"budget": "outlook_vs_budget", "target": "outlook_vs_target", "previous": "forecast_drift"}


@dataclass(frozen=True)
class ReportLine:
    """One line compared over one span: ``variance`` = (value − comparator) × s, positive is favourable."""

    line: str
    comparison: str
    span: Span
    period: str
    value: Decimal | None
    comparator: Decimal | None
    variance: Decimal | None
    variance_pct: Decimal | None
    breach: bool | None
    direction: Direction
    phasing: Phasing

    @property
    def favourable(self) -> bool | None:
        return None if self.variance is None else self.variance > 0


def span_periods(span: Span, period: PeriodKey) -> list[PeriodKey]:
    """List the periods of a span ending at ``period``: the fiscal quarter and year start at their first period."""
    if span is Span.PERIOD:
        return [period]
    if span is Span.QTD:
        first = PeriodKey(period.fiscal_year, (period.quarter - 1) * 3 + 1)
        return list(period_range(first, period))
    if span is Span.YTD:
        return list(period_range(PeriodKey(period.fiscal_year, 1), period))
    return list(period_range(PeriodKey(period.fiscal_year, 1), PeriodKey(period.fiscal_year, 12)))


def phasing_fraction(inputs: ReportInputs, request: ReportRequest) -> tuple[Phasing, int, int] | None:
    """Return the phasing with days elapsed and days of the report period, or None when the period has ended."""
    if request.as_of is None or request.phasing is Phasing.FULL_PERIOD:
        return None
    first_day, last_day = inputs.calendar.period_bounds(request.period)
    if request.as_of >= last_day:
        return None
    elapsed = max(0, (request.as_of - first_day).days + 1)
    return Phasing.PRO_RATA_DAYS, elapsed, (last_day - first_day).days + 1


def build_report(inputs: ReportInputs, request: ReportRequest, tree: LineTree, directions: Mapping[str, str],
                 translation: Translation) -> list[ReportLine]:
    """Compare every line of the tree and every leaf with figures over the four spans."""
    figures = LeafFigures(inputs, translation)
    # A node's figures come from its leaves only; its own budget replaces their sum afterwards.
    leaves = sorted((inputs.leaves | {leaf for node in tree.nodes for leaf in tree.leaves_of(node)})
                    - set(tree.children))
    rows = [_leaf_row(figures, inputs, request, leaf, span) for leaf in leaves for span in Span]
    rows = [row for row in rows if any(row[name] is not None for name in ALL_FIGURES)]

    lines = sorted(set(leaves) | tree.nodes | set(inputs.budgets) | set(inputs.targets))
    codes = {line: code for code, line in enumerate(lines)}
    scale = _scale(row[name] for row in rows for name in ALL_FIGURES)
    # Few rows are summed here, so each amount may be larger than the engine's default limit.
    limit = 2**62 // max(1, len(rows) + len(inputs.budgets) + len(inputs.targets))
    frame = _frame(rows, codes, scale, limit)
    edges = pl.DataFrame({"child": [codes[child] for parent in tree.children for child in tree.children[parent]],
                          "parent": [codes[parent] for parent in tree.children for _ in tree.children[parent]]},
                         schema={"child": pl.Int64, "parent": pl.Int64})
    rolled = engine.roll_up(frame, edges, ALL_FIGURES)
    rolled = _own_figures(rolled, figures, inputs, request, set(tree.children), codes, (scale, limit), translation)

    signs = {line: tree.direction_of(line, directions).direction for line in lines}
    sign_frame = pl.DataFrame({"line": [codes[line] for line in lines],
                               "sign": [-1 if signs[line] is Direction.LOWER_IS_BETTER else 1 for line in lines]},
                              schema={"line": pl.Int64, "sign": pl.Int64})
    band = engine.Band.of(request.band, scale) if request.band is not None else None
    phasing = Phasing.PRO_RATA_DAYS if phasing_fraction(inputs, request) else Phasing.FULL_PERIOD
    return _report_lines(rolled, sign_frame, band, lines, signs, scale, request.period, phasing)


def _leaf_row(figures: LeafFigures, inputs: ReportInputs, request: ReportRequest, leaf: str,
              span: Span) -> dict[str, object]:
    periods = span_periods(span, request.period)
    row: dict[str, object] = dict.fromkeys(ALL_FIGURES)
    row.update(line=leaf, period=SPAN_CODES[span])
    if span is Span.FULL_YEAR:
        row["outlook"] = _sum(figures.estimate(leaf, period, request.period, 0) for period in periods)
        row["previous"] = _sum(figures.estimate(leaf, period, request.period, 1) for period in periods)
        row["budget"] = _sum(figures.budget(leaf, period) for period in periods)
        return row

    phasing = phasing_fraction(inputs, request)
    row["actual"] = _sum(figures.actual(leaf, period) for period in periods)
    row["budget"] = _sum(_phased(figures.budget(leaf, period), period, request.period, phasing) for period in periods)
    for column, lag in LAG_COLUMNS.items():
        row[column] = _sum(_phased(figures.lagged_forecast(leaf, period, lag), period, request.period, phasing)
                           for period in periods)
    return row


def _phased(amount: Decimal | None, period: PeriodKey, report_period: PeriodKey,
            phasing: tuple[Phasing, int, int] | None) -> Decimal | None:
    """Scale the report period's comparator by the days elapsed when it is phased pro rata."""
    if amount is None or phasing is None or period != report_period:
        return amount
    _, elapsed, days = phasing
    return pro_rata(amount, elapsed, days)


def _own_figures(rolled: pl.DataFrame, figures: LeafFigures, inputs: ReportInputs, request: ReportRequest,
                 nodes: set[str], codes: Mapping[str, int], units: tuple[int, int],
                 translation: Translation) -> pl.DataFrame:
    """Put each node's own budget in place of its leaves' sum, and each line's own target on its full-year row.

    A target is never summed from other lines. It is translated at the plan rate of the year's last period.
    """
    phasing = phasing_fraction(inputs, request)
    scale, limit = units
    last = PeriodKey(request.period.fiscal_year, 12)
    overrides: list[dict[str, object]] = []
    for line in sorted(set(inputs.budgets) & nodes):
        for span in Span:
            periods = span_periods(span, request.period)
            budget = _sum(_phased(figures.budget(line, period), period, request.period,
                                  None if span is Span.FULL_YEAR else phasing) for period in periods)
            overrides.append({"line": codes[line], "period": SPAN_CODES[span],
                              "own_budget": _units(budget, scale, limit)})
    target_rows = [{"line": codes[line], "period": SPAN_CODES[Span.FULL_YEAR],
                    "own_target": engine.to_minor_units(translation.plan(amount, last), scale, limit)}
                   for line, amount in sorted(inputs.targets.items()) if line in codes]

    rolled = rolled.with_columns(pl.lit(None, pl.Int64).alias("target"))
    if overrides:
        own = pl.DataFrame(overrides, schema={"line": pl.Int64, "period": pl.Int64, "own_budget": pl.Int64})
        rolled = (rolled.join(own, on=["line", "period"], how="full", coalesce=True)
                  .with_columns(pl.coalesce("own_budget", "budget").alias("budget")).drop("own_budget"))
    if target_rows:
        own = pl.DataFrame(target_rows, schema={"line": pl.Int64, "period": pl.Int64, "own_target": pl.Int64})
        rolled = (rolled.join(own, on=["line", "period"], how="full", coalesce=True)
                  .with_columns(pl.col("own_target").alias("target")).drop("own_target"))
    return rolled


def _report_lines(rolled: pl.DataFrame, signs: pl.DataFrame, band: engine.Band | None, lines: Sequence[str],
                  directions: Mapping[str, Direction], scale: int, period: PeriodKey,
                  phasing: Phasing) -> list[ReportLine]:
    full_year = SPAN_CODES[Span.FULL_YEAR]
    to_date = engine.compare_figures(rolled.filter(pl.col("period") != full_year).select("line", "period",
                                     *TO_DATE_FIGURES), signs, list(TO_DATE_COMPARISONS), band)
    year = engine.compare_figures(rolled.filter(pl.col("period") == full_year).select(
        "line", "period", pl.col("outlook").alias("actual"), "budget", "target", "previous"),
        signs, list(YEAR_COMPARISONS), band)

    spans = list(Span)
    found: list[ReportLine] = []
    for frame, comparisons, line_phasing in ((to_date, TO_DATE_COMPARISONS, phasing),
                                             (year, YEAR_COMPARISONS, Phasing.FULL_PERIOD)):
        for row in frame.sort("line", "period").iter_rows(named=True):
            span = spans[row["period"]]
            label = f"FY{period.fiscal_year}" if span is Span.FULL_YEAR else str(period)
            line = lines[row["line"]]
            for column, comparison in comparisons.items():
                if row[column] is None and row["actual"] is None:
                    continue
                found.append(_line(row, column, comparison, line, span, label, directions[line], scale,
                                   line_phasing))
    return found


def _line(row: Mapping[str, object], column: str, comparison: str, line: str, span: Span, label: str,
          direction: Direction, scale: int, phasing: Phasing) -> ReportLine:
    value = engine.from_minor_units(_int(row["actual"]), scale)
    comparator = engine.from_minor_units(_int(row[column]), scale)
    variance = engine.from_minor_units(_int(row[f"variance_{column}"]), scale)
    pct = engine.from_minor_units(_int(row[f"pct_{column}"]), PCT_PLACES)
    if pct is None and variance is not None and comparator:
        # The engine leaves the percentage of a variance too large for Int64 millionths to exact Decimal.
        pct = variance_pct(variance, comparator)
    breach = row.get(f"breach_{column}")
    return ReportLine(line=line, comparison=comparison, span=span, period=label, value=value, comparator=comparator,
                      variance=variance, variance_pct=pct, breach=breach if isinstance(breach, bool) else None,
                      direction=direction, phasing=phasing)


def _frame(rows: Sequence[Mapping[str, object]], codes: Mapping[str, int], scale: int, limit: int) -> pl.DataFrame:
    schema = {"line": pl.Int64, "period": pl.Int64, **dict.fromkeys(ALL_FIGURES, pl.Int64)}
    data = {name: [_units(_decimal(row[name]), scale, limit) for row in rows] for name in ALL_FIGURES}
    return pl.DataFrame({"line": [codes[str(row["line"])] for row in rows],
                         "period": [row["period"] for row in rows], **data}, schema=schema)


def _scale(amounts: Iterable[object]) -> int:
    """Return the decimal places that represent every amount exactly, at least 2 (cents)."""
    places = 2
    for amount in amounts:
        if isinstance(amount, Decimal):
            exponent = amount.normalize().as_tuple().exponent
            if isinstance(exponent, int):
                places = max(places, -exponent)
    return places


def _sum(amounts: Iterable[Decimal | None]) -> Decimal | None:
    total = Decimal(0)
    for amount in amounts:
        if amount is None:
            return None
        total += amount
    return total


def _units(amount: Decimal | None, scale: int, limit: int) -> int | None:
    return None if amount is None else engine.to_minor_units(amount, scale, limit)


def _decimal(value: object) -> Decimal | None:
    return value if isinstance(value, Decimal) else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# The report comparisons that alert rules watch, by comparison and span.
RULE_COMPARISONS = {
    ("actual_vs_budget", Span.PERIOD): Comparison.ACTUAL_VS_BUDGET_PERIOD,
    ("actual_vs_budget", Span.YTD): Comparison.ACTUAL_VS_BUDGET_YTD,
    ("outlook_vs_budget", Span.FULL_YEAR): Comparison.OUTLOOK_VS_BUDGET,
    ("outlook_vs_target", Span.FULL_YEAR): Comparison.OUTLOOK_VS_TARGET,
}


def to_variance_line(line: ReportLine, entity_id: str, fiscal_year: int, figures_version: int) -> VarianceLine | None:
    """Convert a report line into the ``VarianceLine`` that alert rules assess, or None for one they do not watch.

    A line without a value or comparator has nothing to assess and also gives None.
    """
    comparison = RULE_COMPARISONS.get((line.comparison, line.span))
    if comparison is None or line.value is None or line.comparator is None or line.variance is None:
        return None
    return VarianceLine(entity_id=entity_id, line=line.line, comparison=comparison, period=line.period,
                        fiscal_year=fiscal_year, value=line.value, comparator=line.comparator,
                        variance=line.variance, variance_pct=line.variance_pct, direction=line.direction,
                        phasing=line.phasing, figures_version=figures_version)
