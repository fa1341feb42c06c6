"""Evaluation of lines: actuals against budget per period and year to date, outlook against budget and target."""

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from ipm_common.periods import PeriodKey, period_range
from ipm_common.variance import Direction
from ipm_performance.domain.comparisons import (
    ACTUAL_COMPARISONS,
    Comparison,
    VarianceLine,
    compare,
    fiscal_year_label,
)
from ipm_performance.domain.figures import EntityFigures
from ipm_performance.domain.lines import LineTree

ALL_COMPARISONS: frozenset[Comparison] = frozenset(Comparison)


@dataclass(frozen=True)
class LineEvaluation:
    """The variance lines of one line, a direction problem to log, and the reason its outlook was not compared."""

    line: str
    variance_lines: tuple[VarianceLine, ...]
    problem: str | None = None
    skipped_outlook: str | None = None


def lines_of_entity(figures: EntityFigures, tree: LineTree) -> set[str]:
    """Return every line worth evaluating: hierarchy nodes and lines with a budget or a target."""
    return tree.nodes | set(figures.budgets) | set(figures.targets)


def evaluate_lines(figures: EntityFigures, tree: LineTree, account_directions: Mapping[str, str],
                   lines: Iterable[str], comparisons: Collection[Comparison] = ALL_COMPARISONS,
                   ) -> list[LineEvaluation]:
    """Evaluate ``lines`` of one entity and fiscal year, leaving out lines with nothing to compare or report."""
    evaluations = []
    for line in sorted(set(lines)):
        evaluation = evaluate_line(figures, tree, account_directions, line, comparisons)
        if evaluation.variance_lines or evaluation.skipped_outlook:
            evaluations.append(evaluation)
    return evaluations


def evaluate_line(figures: EntityFigures, tree: LineTree, account_directions: Mapping[str, str], line: str,
                  comparisons: Collection[Comparison] = ALL_COMPARISONS) -> LineEvaluation:
    """Compare one line's actuals and outlook with its budget and target, summing its leaves."""
    leaves = tree.leaves_of(line)
    direction = tree.direction_of(line, account_directions)
    evaluator = _LineEvaluator(figures, line, leaves, direction.direction)

    found: list[VarianceLine] = []
    skipped_outlook = None
    if any(comparison in comparisons for comparison in ACTUAL_COMPARISONS):
        found.extend(evaluator.actual_vs_budget())
    if any(comparison.is_outlook for comparison in comparisons):
        outlook_lines, skipped_outlook = evaluator.outlook_comparisons()
        found.extend(outlook_lines)

    kept = tuple(variance_line for variance_line in found if variance_line.comparison in comparisons)
    return LineEvaluation(line, kept, direction.problem if kept else None, skipped_outlook)


@dataclass(frozen=True)
class _LineEvaluator:
    figures: EntityFigures
    line: str
    leaves: tuple[str, ...]
    direction: Direction

    def actual_vs_budget(self) -> list[VarianceLine]:
        """Compare every period from P01 to the line's last period with actuals, alone and year to date."""
        last = self.figures.last_actual_period(self.leaves)
        if last is None:
            return []

        found: list[VarianceLine] = []
        first = self.figures.first_period
        for period in period_range(first, last):
            found.extend(self._period_and_ytd(first, period))
        return found

    def _period_and_ytd(self, first: PeriodKey, period: PeriodKey) -> list[VarianceLine]:
        budget = self.figures.budget(self.line, self.leaves, period, period)
        if budget is None:
            return []

        version = self.figures.ledger_version_through(self.leaves, period)
        actual = self.figures.actual(self.leaves, period, period).amount
        ytd_actual = self.figures.actual(self.leaves, first, period).amount
        ytd_budget = self.figures.budget(self.line, self.leaves, first, period)
        assert ytd_budget is not None
        return [
            self._compare(Comparison.ACTUAL_VS_BUDGET_PERIOD, str(period), actual, budget, version),
            self._compare(Comparison.ACTUAL_VS_BUDGET_YTD, str(period), ytd_actual, ytd_budget, version),
        ]

    def outlook_comparisons(self) -> tuple[list[VarianceLine], str | None]:
        """Compare the full-year outlook with the year's budget and the line's own target, or return why not.

        Only the year of the entity's latest forecast origin has an outlook, and only when every
        leaf's actuals to date and forecast cover the whole year, because a partial outlook would
        breach falsely. A line with a comparator that is not covered returns the reason to log.
        """
        budget = self.figures.full_year_budget(self.line, self.leaves)
        target = self.figures.target(self.line)
        if not self.figures.is_outlook_year or (budget is None and target is None):
            return [], None

        uncovered = self.figures.uncovered_leaves(self.leaves)
        if uncovered:
            return [], (f"outlook of {self.figures.entity_id} {self.line} FY{self.figures.fiscal_year} not "
                        f"evaluated: no forecast covers the rest of the year for {', '.join(uncovered)}")

        outlook = self.figures.outlook(self.leaves)
        # Covered leaves all have a forecast, so there is an outlook.
        assert outlook is not None
        label = fiscal_year_label(self.figures.fiscal_year)
        found: list[VarianceLine] = []
        if budget is not None:
            found.append(self._compare(Comparison.OUTLOOK_VS_BUDGET, label, outlook.total, budget,
                                       outlook.forecast_version))
        if target is not None:
            found.append(self._compare(Comparison.OUTLOOK_VS_TARGET, label, outlook.total, target.amount,
                                       outlook.forecast_version))
        return found, None

    def _compare(self, comparison: Comparison, period: str, value: Decimal, comparator: Decimal,
                 version: int) -> VarianceLine:
        return compare(self.figures.entity_id, self.line, comparison, period, self.figures.fiscal_year,
                       value=value, comparator=comparator, direction=self.direction, figures_version=version)
