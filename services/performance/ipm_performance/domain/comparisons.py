"""Variance lines: one figure compared with its budget or target, signed so that positive is favourable."""

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from ipm_common.spreading import Phasing
from ipm_common.variance import Direction, variance, variance_pct


class Comparison(StrEnum):
    """The kind of a variance line: which figure against which comparator, over which span."""

    ACTUAL_VS_BUDGET_PERIOD = "actual_vs_budget_period"
    ACTUAL_VS_BUDGET_YTD = "actual_vs_budget_ytd"
    OUTLOOK_VS_BUDGET = "outlook_vs_budget"
    OUTLOOK_VS_TARGET = "outlook_vs_target"
    # A cost centre's own full-year projection against its budget, such as a department's spending.
    PROJECTION_VS_BUDGET = "projection_vs_budget"

    @property
    def is_outlook(self) -> bool:
        return self in (Comparison.OUTLOOK_VS_BUDGET, Comparison.OUTLOOK_VS_TARGET)


ACTUAL_COMPARISONS = (Comparison.ACTUAL_VS_BUDGET_PERIOD, Comparison.ACTUAL_VS_BUDGET_YTD)
OUTLOOK_COMPARISONS = (Comparison.OUTLOOK_VS_BUDGET, Comparison.OUTLOOK_VS_TARGET)


@dataclass(frozen=True)
class VarianceLine:
    """The latest comparison of one line of one entity for one period key or fiscal year.

    ``period`` is a period key such as ``FY2024-P03`` or a fiscal year such as ``FY2024``.
    ``figures_version`` is the newest ledger version of the actuals compared, or the newest
    forecast version for an outlook.
    """

    entity_id: str
    line: str
    comparison: Comparison
    period: str
    fiscal_year: int
    value: Decimal
    comparator: Decimal
    variance: Decimal
    variance_pct: Decimal | None
    direction: Direction
    phasing: Phasing
    figures_version: int

    @property
    def favourable(self) -> bool:
        return self.variance > 0

    @property
    def key(self) -> tuple[str, str, str, str]:
        return self.entity_id, self.line, self.comparison.value, self.period


def compare(entity_id: str, line: str, comparison: Comparison, period: str, fiscal_year: int, *,
            value: Decimal, comparator: Decimal, direction: Direction, figures_version: int) -> VarianceLine:
    """Compare ``value`` with ``comparator``: (value − comparator) × s, with s = −1 when lower is better."""
    signed = variance(value, comparator, direction)
    return VarianceLine(
        entity_id=entity_id,
        line=line,
        comparison=comparison,
        period=period,
        fiscal_year=fiscal_year,
        value=value,
        comparator=comparator,
        variance=signed,
        variance_pct=variance_pct(signed, comparator),
        direction=direction,
        # Actuals are compared only for periods that have ended, and an outlook with the whole
        # year's budget or target, so every comparison uses the full period's comparator.
        phasing=Phasing.FULL_PERIOD,
        figures_version=figures_version,
    )


def fiscal_year_label(fiscal_year: int) -> str:
    """Return the period text of a full-year comparison, such as ``FY2024``."""
    return f"FY{fiscal_year}"
