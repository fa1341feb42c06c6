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
    """The variance lines of one line, and a direction problem to log when it has any."""

    line: str
    variance_lines: tuple[VarianceLine, ...]
    problem: str | None = None


def lines_of_entity(figures: EntityFigures, tree: LineTree) -> set[str]:
    """Return every line worth evaluating: hierarchy nodes and lines with a budget or a target."""
    return tree.nodes | set(figures.budgets) | set(figures.targets)


def evaluate_lines(figures: EntityFigures, tree: LineTree, account_directions: Mapping[str, str],
                   lines: Iterable[str], comparisons: Collection[Comparison] = ALL_COMPARISONS,
                   ) -> list[LineEvaluation]:
    """Evaluate ``lines`` of one entity and fiscal year; lines without anything to compare are left out."""
    evaluations = []
    for line in sorted(set(lines)):
        evaluation = evaluate_line(figures, tree, account_directions, line, comparisons)
        if evaluation.variance_lines:
            evaluations.append(evaluation)
    return evaluations


def evaluate_line(figures: EntityFigures, tree: LineTree, account_directions: Mapping[str, str], line: str,
                  comparisons: Collection[Comparison] = ALL_COMPARISONS) -> LineEvaluation:
    """Compare one line's actuals and outlook with its budget and target, summing its leaves."""
    leaves = tree.leaves_of(line)
    direction = tree.direction_of(line, account_directions)
    evaluator = _LineEvaluator(figures, line, leaves, direction.direction)

    found: list[VarianceLine] = []
    if any(comparison in comparisons for comparison in ACTUAL_COMPARISONS):
        found.extend(evaluator.actual_vs_budget())
    if any(comparison.is_outlook for comparison in comparisons):
        found.extend(evaluator.outlook_comparisons())

    kept = tuple(variance_line for variance_line in found if variance_line.comparison in comparisons)
    return LineEvaluation(line, kept, direction.problem if kept else None)


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

    def outlook_comparisons(self) -> list[VarianceLine]:
        """Compare the full-year outlook with the year's budget and with the line's own target."""
        outlook = self.figures.outlook(self.leaves)
        if outlook is None:
            return []

        label = fiscal_year_label(self.figures.fiscal_year)
        found: list[VarianceLine] = []
        budget = self.figures.full_year_budget(self.line, self.leaves)
        if budget is not None:
            found.append(self._compare(Comparison.OUTLOOK_VS_BUDGET, label, outlook.total, budget,
                                       outlook.forecast_version))
        target = self.figures.target(self.line)
        if target is not None:
            found.append(self._compare(Comparison.OUTLOOK_VS_TARGET, label, outlook.total, target.amount,
                                       outlook.forecast_version))
        return found

    def _compare(self, comparison: Comparison, period: str, value: Decimal, comparator: Decimal,
                 version: int) -> VarianceLine:
        return compare(self.figures.entity_id, self.line, comparison, period, self.figures.fiscal_year,
                       value=value, comparator=comparator, direction=self.direction, figures_version=version)
