"""Ratio KPIs computed from lines over a span, compared with their own targets.

A line's figure over a span is its leaves' actuals summed over the span's periods, or, for the
full year, the outlook by the forecast version in force at the report period. ``prior(line)``
reads the same span one fiscal year earlier. A KPI value is rounded half-even to 6 decimal places.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from ipm_common.periods import PeriodKey
from ipm_common.variance import PCT_PLACES, Direction, ToleranceBand, variance, variance_pct
from ipm_performance.domain.formulas import Reference, parse_formula
from ipm_performance.domain.leaf_figures import LeafFigures
from ipm_performance.domain.lines import LineTree
from ipm_performance.domain.reports import Span, span_periods

KPI_QUANTUM = Decimal(1).scaleb(-PCT_PLACES)


@dataclass(frozen=True)
class KpiDefinition:
    kpi_id: str
    name: str
    formula: str
    direction: Direction


@dataclass(frozen=True)
class KpiTarget:
    """A KPI's target for one entity and fiscal year, with the band that the scorecard rates against."""

    kpi_id: str
    fiscal_year: int
    target: Decimal
    band: ToleranceBand


@dataclass(frozen=True)
class KpiValue:
    kpi_id: str
    span: Span
    period: str
    value: Decimal | None
    target: Decimal | None
    variance: Decimal | None
    variance_pct: Decimal | None
    direction: Direction


def line_figure(figures: LeafFigures, tree: LineTree, line: str, span: Span, period: PeriodKey) -> Decimal | None:
    """Sum the leaves of ``line`` over the span ending at ``period``: actuals to date, or the full-year outlook."""
    total = Decimal(0)
    for leaf in tree.leaves_of(line):
        for key in span_periods(span, period):
            amount = (figures.estimate(leaf, key, period, 0) if span is Span.FULL_YEAR
                      else figures.actual(leaf, key))
            if amount is None:
                return None
            total += amount
    return total


def kpi_value(definition: KpiDefinition, figures: LeafFigures, tree: LineTree, span: Span,
              period: PeriodKey) -> Decimal | None:
    """Evaluate the KPI's formula over the span; None when a figure is missing or a divisor is zero."""
    formula = parse_formula(definition.formula)

    def lookup(reference: Reference) -> Decimal | None:
        at = period.shift(-12) if reference.prior else period
        return line_figure(figures, tree, reference.line, span, at)

    value = formula.evaluate(lookup)
    return None if value is None else value.quantize(KPI_QUANTUM, rounding=ROUND_HALF_EVEN)


def kpi_values(definitions: Sequence[KpiDefinition], targets: Mapping[str, KpiTarget], figures: LeafFigures,
               tree: LineTree, period: PeriodKey) -> list[KpiValue]:
    """Compute every KPI over every span ending at ``period`` and compare it with its target of that year."""
    found = []
    for definition in definitions:
        target = targets.get(definition.kpi_id)
        for span in Span:
            value = kpi_value(definition, figures, tree, span, period)
            label = f"FY{period.fiscal_year}" if span is Span.FULL_YEAR else str(period)
            signed = None
            if value is not None and target is not None:
                signed = variance(value, target.target, definition.direction)
            found.append(KpiValue(
                kpi_id=definition.kpi_id, span=span, period=label, value=value,
                target=target.target if target else None, variance=signed,
                variance_pct=variance_pct(signed, target.target) if signed is not None and target else None,
                direction=definition.direction))
    return found
