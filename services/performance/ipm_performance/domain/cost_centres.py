"""Comparisons of one cost centre's spending: year to date against budget, and its own projection against budget.

A cost centre's line reads ``<account>@<cost centre>``. Year-to-date lines are made for each period
that has actuals, so figures reported quarterly give one line per quarter end.

NOTE: a rule's persistence counts consecutive periods, so on quarterly figures a persistence
above 1 never breaches: the months between quarter ends have no line.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from ipm_common.periods import PeriodKey
from ipm_common.storage import sum_money
from ipm_common.variance import Direction
from ipm_performance.domain.comparisons import Comparison, VarianceLine, compare, fiscal_year_label
from ipm_performance.domain.rules import cost_centre_line


@dataclass(frozen=True)
class CostCentreFigures:
    """One (account, cost centre) series of a fiscal year: period actuals with ledger versions, budget, projection."""

    account: str
    cost_centre: str
    actuals: Mapping[PeriodKey, tuple[Decimal, int]] = field(default_factory=dict)
    budget: Mapping[PeriodKey, Decimal] = field(default_factory=dict)
    projection: Decimal | None = None


def cost_centre_lines(entity_id: str, fiscal_year: int, figures: CostCentreFigures,
                      direction: Direction) -> list[VarianceLine]:
    """Compare a series with a budget: year to date at each period with actuals, and the projection in full."""
    if not figures.budget:
        return []

    line = cost_centre_line(figures.account, figures.cost_centre)
    version = max((ledger_version for _, ledger_version in figures.actuals.values()), default=0)
    found = []
    for period in sorted(figures.actuals):
        actual = sum_money(amount for key, (amount, _) in figures.actuals.items() if key <= period)
        budget = sum_money(amount for key, amount in figures.budget.items() if key <= period)
        ledger_version = max(stored for key, (_, stored) in figures.actuals.items() if key <= period)
        found.append(compare(entity_id, line, Comparison.ACTUAL_VS_BUDGET_YTD, str(period), fiscal_year,
                             value=actual, comparator=budget, direction=direction, figures_version=ledger_version))

    if figures.projection is not None:
        found.append(compare(entity_id, line, Comparison.PROJECTION_VS_BUDGET, fiscal_year_label(fiscal_year),
                             fiscal_year, value=figures.projection, comparator=sum_money(figures.budget.values()),
                             direction=direction, figures_version=version))
    return found
