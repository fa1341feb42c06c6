"""Driver-based projection of a three-statement plan from one base year.

The drivers apply to every projected year. Each projected line is rounded half-even to the cent
as it is computed, and every total is a sum of rounded lines, so the statements add up exactly.

Cash is the plug that balances the balance sheet. Where the plug would leave cash below
``minimum_cash``, a revolving credit facility (``revolver``) is drawn to bring cash back to the
minimum, and a revolver balance is repaid first from any surplus. Long-term debt and share capital
stay at their base-year balances. No interest is charged on debt, which keeps the plan free of
the circular reference between interest and the revolver.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal

from ipm_common.errors import InvalidInput
from ipm_common.money import MAX_INTEGER_DIGITS, parse_amount, to_cents
from ipm_strategy.domain.statements import LineDefinition, StatementLine, define_line

DAYS_IN_YEAR = Decimal(365)
ZERO = Decimal(0)

# The standard lines of a driver-based plan, each placed on its statement with its cash-flow role.
STANDARD_LINES: dict[str, LineDefinition] = {
    definition.line: definition for definition in (
        define_line("revenue", "income_statement", "revenue"),
        define_line("cost_of_sales", "income_statement", "expense"),
        define_line("operating_expenses", "income_statement", "expense"),
        define_line("depreciation", "income_statement", "expense", "non_cash"),
        define_line("other_income", "income_statement", "revenue"),
        define_line("income_tax", "income_statement", "expense"),
        define_line("cash", "balance_sheet", "asset", "cash"),
        define_line("receivables", "balance_sheet", "asset", "working_capital"),
        define_line("inventory", "balance_sheet", "asset", "working_capital"),
        define_line("ppe", "balance_sheet", "asset", "investing"),
        define_line("payables", "balance_sheet", "liability", "working_capital"),
        define_line("revolver", "balance_sheet", "liability", "financing"),
        define_line("long_term_debt", "balance_sheet", "liability", "financing"),
        define_line("share_capital", "balance_sheet", "equity", "financing"),
        define_line("retained_earnings", "balance_sheet", "equity", "financing"),
        define_line("dividends_paid", "cash_flow", "flow", "memo"),
        define_line("capital_expenditure", "cash_flow", "flow", "memo"),
    )
}

# The base-year lines that a projection needs. The others count as zero when missing.
REQUIRED_BASE_LINES = ("revenue",)

# Lines of a reported history folded into the standard line of the same cash-flow role when a
# projection starts from them. The projection then sets receivables, inventory and payables from
# the drivers, so a folded balance that the drivers do not explain is released in the first year.
FOLDED_BASE_LINES = {
    "vendor_non_trade_receivables": "receivables",
    "other_current_assets": "receivables",
    "other_assets": "ppe",
    "deferred_revenue": "payables",
    "other_current_liabilities": "payables",
    "other_liabilities": "long_term_debt",
    "equity": "share_capital",
}


@dataclass(frozen=True)
class Drivers:
    """Assumptions of a driver-based plan. Rates and margins are fractions: 0.05 is 5 %."""

    revenue_growth: Decimal
    gross_margin: Decimal
    operating_margin: Decimal
    receivable_days: Decimal
    payable_days: Decimal
    inventory_days: Decimal
    capex_to_revenue: Decimal
    depreciation_rate: Decimal
    tax_rate: Decimal
    dividend_payout: Decimal
    minimum_cash: Decimal = ZERO

    def as_dict(self) -> dict[str, Decimal]:
        return {item.name: getattr(self, item.name) for item in fields(self)}


# The drivers that must lie in [0, 1] and those that must be zero or more. Growth and margins may be negative,
# and margins are at most 1.
FRACTION_DRIVERS = ("capex_to_revenue", "depreciation_rate", "tax_rate", "dividend_payout")
NON_NEGATIVE_DRIVERS = ("receivable_days", "payable_days", "inventory_days", "minimum_cash")


def check_drivers(drivers: Drivers) -> None:
    """Raise ``InvalidInput`` naming the first driver outside its range."""
    for name in FRACTION_DRIVERS:
        value = getattr(drivers, name)
        if not ZERO <= value <= 1:
            raise InvalidInput(f"drivers.{name}: {value} is outside 0-1; give a fraction such as 0.25 for 25 %",
                               field=f"drivers.{name}")
    for name in NON_NEGATIVE_DRIVERS:
        value = getattr(drivers, name)
        if value < 0:
            raise InvalidInput(f"drivers.{name}: {value} is negative; give zero or more", field=f"drivers.{name}")
    if drivers.revenue_growth <= -1:
        raise InvalidInput(f"drivers.revenue_growth: {drivers.revenue_growth} would make revenue zero or negative; "
                           "give a fraction above -1", field="drivers.revenue_growth")
    if drivers.gross_margin > 1:
        raise InvalidInput(f"drivers.gross_margin: {drivers.gross_margin} is above 1, which would need a negative "
                           "cost of sales; give a fraction of at most 1, such as 0.40 for 40 %",
                           field="drivers.gross_margin")
    if drivers.operating_margin > drivers.gross_margin:
        raise InvalidInput(
            f"drivers.operating_margin: {drivers.operating_margin} is above gross_margin {drivers.gross_margin}, "
            "which would need negative operating expenses; give an operating margin at most the gross margin",
            field="drivers.operating_margin",
        )


def project(base_lines: Sequence[StatementLine], drivers: Drivers, years: int) -> list[StatementLine]:
    """Project ``years`` fiscal years after the base year from the base year's standard lines."""
    check_drivers(drivers)
    if not 1 <= years <= 30:
        raise InvalidInput(f"years: {years} is outside 1-30", field="years")
    base = _base(base_lines)

    projected: list[StatementLine] = []
    opening = base
    base_year = base_lines[0].fiscal_year
    for offset in range(1, years + 1):
        year = _project_year(opening, drivers)
        _check_range(year, base_year + offset)
        projected.extend(StatementLine(line, base_year + offset, amount) for line, amount in sorted(year.items()))
        opening = year
    return projected


def _check_range(year: Mapping[str, Decimal], fiscal_year: int) -> None:
    """Stop at the first projected line that leaves the amount range, before the next year multiplies it further."""
    for line, amount in year.items():
        try:
            parse_amount(amount, field=line)
        except InvalidInput:
            raise InvalidInput(
                f"drivers: projecting {line} for FY{fiscal_year} gives {amount}, beyond the {MAX_INTEGER_DIGITS} "
                "digits an amount has before the decimal point; lower the drivers or project fewer years",
                field="drivers",
            ) from None


def _base(base_lines: Sequence[StatementLine]) -> dict[str, Decimal]:
    if not base_lines:
        raise InvalidInput("base_year: the plan has no lines in the base year; enter the base year first",
                           field="base_year")
    base = {line: ZERO for line in STANDARD_LINES}
    for line in base_lines:
        standard = FOLDED_BASE_LINES.get(line.line, line.line)
        if standard in base:
            base[standard] += line.amount
    for line_name in REQUIRED_BASE_LINES:
        if not any(line.line == line_name for line in base_lines):
            raise InvalidInput(f"base_year: the base year has no {line_name!r} line; drivers project from it",
                               field="base_year")
    return base


def _project_year(opening: Mapping[str, Decimal], drivers: Drivers) -> dict[str, Decimal]:
    year: dict[str, Decimal] = {}

    revenue = to_cents(opening["revenue"] * (1 + drivers.revenue_growth))
    cost_of_sales = to_cents(revenue * (1 - drivers.gross_margin))
    depreciation = to_cents(opening["ppe"] * drivers.depreciation_rate)
    operating_income = to_cents(revenue * drivers.operating_margin)
    year.update(revenue=revenue, cost_of_sales=cost_of_sales, depreciation=depreciation, other_income=ZERO,
                operating_expenses=revenue - cost_of_sales - depreciation - operating_income)

    income_tax = to_cents(max(operating_income, ZERO) * drivers.tax_rate)
    net_income = operating_income - income_tax
    dividends = to_cents(max(net_income, ZERO) * drivers.dividend_payout)
    capex = to_cents(revenue * drivers.capex_to_revenue)
    year.update(income_tax=income_tax, dividends_paid=dividends, capital_expenditure=capex)

    year.update(
        receivables=to_cents(revenue * drivers.receivable_days / DAYS_IN_YEAR),
        inventory=to_cents(cost_of_sales * drivers.inventory_days / DAYS_IN_YEAR),
        payables=to_cents(cost_of_sales * drivers.payable_days / DAYS_IN_YEAR),
        ppe=opening["ppe"] + capex - depreciation,
        long_term_debt=opening["long_term_debt"],
        share_capital=opening["share_capital"],
        retained_earnings=opening["retained_earnings"] + net_income - dividends,
    )
    year.update(_cash_and_revolver(year, drivers.minimum_cash))
    return year


def _cash_and_revolver(year: Mapping[str, Decimal], minimum_cash: Decimal) -> dict[str, Decimal]:
    """Balance the balance sheet with cash, drawing the revolver when cash would fall below the minimum."""
    funding = year["payables"] + year["long_term_debt"] + year["share_capital"] + year["retained_earnings"]
    other_assets = year["receivables"] + year["inventory"] + year["ppe"]
    cash_without_revolver = funding - other_assets
    if cash_without_revolver >= minimum_cash:
        return {"cash": cash_without_revolver, "revolver": ZERO}
    return {"cash": minimum_cash, "revolver": minimum_cash - cash_without_revolver}
