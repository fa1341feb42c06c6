"""Ratio KPIs of a plan's statements, by fiscal year, from the standard lines of a driver-based plan.

Margins and ratios are fractions (0.25 is 25 %), days are days of a 365-day year, and each KPI
is rounded half-even to six decimal places. A KPI is None when a line it needs is missing or
its denominator is zero.
"""

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal

from ipm_strategy.domain.statements import StatementLine

KPI_PLACES = Decimal("0.000001")
DAYS_IN_YEAR = Decimal(365)

Amounts = Mapping[str, Decimal]


def _ratio(numerator: Decimal | None, denominator: Decimal | None) -> Decimal | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return (numerator / denominator).quantize(KPI_PLACES)


def _gross_profit(year: Amounts) -> Decimal | None:
    if "revenue" not in year or "cost_of_sales" not in year:
        return None
    return year["revenue"] - year["cost_of_sales"]


def _operating_income(year: Amounts) -> Decimal | None:
    gross = _gross_profit(year)
    if gross is None or "operating_expenses" not in year:
        return None
    return gross - year["operating_expenses"] - year.get("depreciation", Decimal(0))


def _days(balance: str, flow: str) -> Callable[[Amounts, Amounts | None], Decimal | None]:
    def days(year: Amounts, _: Amounts | None) -> Decimal | None:
        ratio = _ratio(year.get(balance), year.get(flow))
        return None if ratio is None else (ratio * DAYS_IN_YEAR).quantize(KPI_PLACES)
    return days


def _revenue_growth(year: Amounts, previous: Amounts | None) -> Decimal | None:
    if previous is None or "revenue" not in year or "revenue" not in previous:
        return None
    return _ratio(year["revenue"] - previous["revenue"], previous["revenue"])


KPIS: dict[str, Callable[[Amounts, Amounts | None], Decimal | None]] = {
    "gross_margin": lambda year, _: _ratio(_gross_profit(year), year.get("revenue")),
    "operating_margin": lambda year, _: _ratio(_operating_income(year), year.get("revenue")),
    "revenue_growth": _revenue_growth,
    "receivable_days": _days("receivables", "revenue"),
    "payable_days": _days("payables", "cost_of_sales"),
    "inventory_days": _days("inventory", "cost_of_sales"),
    "capex_to_revenue": lambda year, _: _ratio(year.get("capital_expenditure"), year.get("revenue")),
}


def kpis_by_year(lines: Sequence[StatementLine]) -> dict[int, dict[str, Decimal | None]]:
    """Compute every KPI of every fiscal year that has lines."""
    amounts: dict[int, dict[str, Decimal]] = {}
    for line in lines:
        year = amounts.setdefault(line.fiscal_year, {})
        year[line.line] = year.get(line.line, Decimal(0)) + line.amount

    return {fiscal_year: {name: compute(year, amounts.get(fiscal_year - 1)) for name, compute in KPIS.items()}
            for fiscal_year, year in sorted(amounts.items())}
