"""A driver-based projection computed by hand.

Base FY2024: revenue 1000; balance sheet cash 100, receivables 50, inventory 30, ppe 200,
payables 40, long_term_debt 100, share_capital 150, retained_earnings 90 (380 = 380).

Drivers: growth 10 %, gross margin 40 %, operating margin 15 %, 36.5 receivable days, 73 payable
days, 36.5 inventory days, capex 5 % of revenue, depreciation 10 % of opening ppe, tax 25 %,
payout 50 %.

FY2025:
    revenue 1100, cost_of_sales 660, depreciation 20, operating income 165,
    operating_expenses 1100 - 660 - 20 - 165 = 255, income_tax 41.25, net income 123.75,
    dividends 61.875 -> 61.88 (half-even to the cent), capex 55
    receivables 1100 * 36.5 / 365 = 110, inventory 660 * 36.5 / 365 = 66, payables 660 * 73 / 365 = 132,
    ppe 200 + 55 - 20 = 235, retained_earnings 90 + 123.75 - 61.88 = 151.87
    cash = (132 + 100 + 150 + 151.87) - (110 + 66 + 235) = 122.87, revolver 0
    operating = 123.75 + 20 - 96 + 92 = 139.75, investing = -(35 + 20) = -55,
    financing = 151.87 - 90 - 123.75 = -61.88, net change 22.87 = 122.87 - 100
"""

from decimal import Decimal

import pytest

from ipm_common.errors import InvalidInput
from ipm_strategy.domain.drivers import STANDARD_LINES, Drivers, project
from ipm_strategy.domain.statements import StatementLine, build_statements

BASE = [StatementLine(line, 2024, Decimal(amount)) for line, amount in {
    "revenue": "1000", "cash": "100", "receivables": "50", "inventory": "30", "ppe": "200", "payables": "40",
    "long_term_debt": "100", "share_capital": "150", "retained_earnings": "90"}.items()]

DRIVERS = Drivers(revenue_growth=Decimal("0.10"), gross_margin=Decimal("0.40"), operating_margin=Decimal("0.15"),
                  receivable_days=Decimal("36.5"), payable_days=Decimal("73"), inventory_days=Decimal("36.5"),
                  capex_to_revenue=Decimal("0.05"), depreciation_rate=Decimal("0.10"), tax_rate=Decimal("0.25"),
                  dividend_payout=Decimal("0.5"))


def amounts(lines: list[StatementLine], year: int) -> dict[str, Decimal]:
    return {line.line: line.amount for line in lines if line.fiscal_year == year}


def test_projection_of_first_year() -> None:
    year = amounts(project(BASE, DRIVERS, 1), 2025)

    assert year["revenue"] == Decimal("1100.00")
    assert year["cost_of_sales"] == Decimal("660.00")
    assert year["operating_expenses"] == Decimal("255.00")
    assert year["income_tax"] == Decimal("41.25")
    assert year["dividends_paid"] == Decimal("61.88")
    assert year["receivables"] == Decimal("110.00")
    assert year["inventory"] == Decimal("66.00")
    assert year["payables"] == Decimal("132.00")
    assert year["ppe"] == Decimal("235.00")
    assert year["retained_earnings"] == Decimal("151.87")
    assert year["cash"] == Decimal("122.87")
    assert year["revolver"] == Decimal(0)


def test_projection_statements_balance_and_tie() -> None:
    years = build_statements(STANDARD_LINES, [*BASE, *project(BASE, DRIVERS, 3)])
    flow = years[1].cash_flow

    assert [year.fiscal_year for year in years] == [2024, 2025, 2026, 2027]
    assert flow is not None
    assert flow.sections == {"operating": Decimal("139.75"), "investing": Decimal("-55.00"),
                             "financing": Decimal("-61.88")}
    assert all(check.passed for year in years for check in year.checks)


def test_revolver_keeps_minimum_cash() -> None:
    # Cash would be 122.87; a minimum of 200 draws 200 - 122.87 = 77.13 on the revolver.
    drivers = Drivers(**{**DRIVERS.as_dict(), "minimum_cash": Decimal(200)})
    lines = project(BASE, drivers, 1)
    year = amounts(lines, 2025)

    assert year["cash"] == Decimal(200)
    assert year["revolver"] == Decimal("77.13")
    assert all(check.passed for item in build_statements(STANDARD_LINES, [*BASE, *lines]) for check in item.checks)


def test_changed_driver_recomputes_consistently() -> None:
    # Growth of 20 %: revenue 1200, so receivables 120 and the balance sheet still balances.
    drivers = Drivers(**{**DRIVERS.as_dict(), "revenue_growth": Decimal("0.20")})
    lines = project(BASE, drivers, 2)

    assert amounts(lines, 2025)["receivables"] == Decimal("120.00")
    assert all(check.passed for item in build_statements(STANDARD_LINES, [*BASE, *lines]) for check in item.checks)


@pytest.mark.parametrize(("name", "value"), [
    ("tax_rate", "1.5"), ("dividend_payout", "-0.1"), ("receivable_days", "-1"), ("revenue_growth", "-1"),
    ("operating_margin", "0.5"),
    # A gross margin above 1 would need a negative cost of sales, and so negative payables and inventory.
    ("gross_margin", "1.5"),
])
def test_driver_out_of_range_is_rejected(name: str, value: str) -> None:
    drivers = Drivers(**{**DRIVERS.as_dict(), name: Decimal(value)})

    with pytest.raises(InvalidInput) as raised:
        project(BASE, drivers, 1)

    assert raised.value.field == f"drivers.{name}"


@pytest.mark.parametrize(("name", "value", "years", "fiscal_year"), [
    # Revenue grows 101-fold a year from 1000 (1000 × 101^n): 1.07E+17 in FY2031 and 1.08E+19 in FY2032.
    ("revenue_growth", "100", 30, 2032),
    # Receivables of 1100 × 10^18 / 365 ≈ 3.0E+18 in the first projected year.
    ("receivable_days", "1000000000000000000", 2, 2025),
])
def test_projection_overflow_rejected(name: str, value: str, years: int, fiscal_year: int) -> None:
    drivers = Drivers(**{**DRIVERS.as_dict(), name: Decimal(value)})

    with pytest.raises(InvalidInput) as raised:
        project(BASE, drivers, years)

    assert raised.value.field == "drivers"
    assert f"FY{fiscal_year}" in str(raised.value)


def test_base_year_without_revenue_is_rejected() -> None:
    with pytest.raises(InvalidInput) as raised:
        project([line for line in BASE if line.line != "revenue"], DRIVERS, 1)

    assert raised.value.field == "base_year"
