"""The three statements of a hand-computed plan.

Opening position, FY2024 (balance sheet only):
    assets       cash 100, receivables 50, inventory 30, ppe 200                      = 380
    liabilities  payables 40, long_term_debt 100; equity share_capital 150, retained 90 = 380

FY2025:
    income statement  revenue 1000 - cost_of_sales 600 - operating_expenses 200
                      - depreciation 20 - income_tax 45                   = net income 135
    balance sheet     cash 150, receivables 70 (+20), inventory 25 (-5), ppe 230 (+30)  = 475
                      payables 55 (+15), long_term_debt 80 (-20), share_capital 150,
                      retained_earnings 190 (90 + 135 - 35 dividends)                 = 475
    operating  = 135 + 20 - (20 - 5) + 15  = 155
    investing  = -(30 + 20)               = -50   (capital expenditure 50)
    financing  = -20 + (0 + 100) - 135    = -55   (debt repaid 20, dividends 35)
    net change = 50, closing cash = 100 + 50 = 150 = balance-sheet cash
"""

from decimal import Decimal

import pytest

from ipm_common.errors import InvalidInput
from ipm_strategy.domain.drivers import STANDARD_LINES
from ipm_strategy.domain.statements import StatementLine, build_statements, define_line

OPENING = {"cash": "100", "receivables": "50", "inventory": "30", "ppe": "200", "payables": "40",
           "long_term_debt": "100", "share_capital": "150", "retained_earnings": "90"}
YEAR = {"revenue": "1000", "cost_of_sales": "600", "operating_expenses": "200", "depreciation": "20",
        "income_tax": "45", "cash": "150", "receivables": "70", "inventory": "25", "ppe": "230", "payables": "55",
        "long_term_debt": "80", "share_capital": "150", "retained_earnings": "190"}


def lines(year: int, amounts: dict[str, str]) -> list[StatementLine]:
    return [StatementLine(line, year, Decimal(amount)) for line, amount in amounts.items()]


def worked_example(**changes: str) -> list[StatementLine]:
    return [*lines(2024, OPENING), *lines(2025, {**YEAR, **changes})]


def test_statements_of_worked_example() -> None:
    opening, year = build_statements(STANDARD_LINES, worked_example())

    assert opening.cash_flow is None
    assert year.net_income == Decimal(135)
    assert year.assets == Decimal(475)
    assert year.liabilities + year.equity == Decimal(475)


def test_indirect_cash_flow_of_worked_example() -> None:
    year = build_statements(STANDARD_LINES, worked_example())[1]
    flow = year.cash_flow

    assert flow is not None
    assert flow.non_cash_items == Decimal(20)
    assert flow.increase_in_working_capital_assets == Decimal(15)
    assert flow.increase_in_working_capital_liabilities == Decimal(15)
    assert flow.sections == {"operating": Decimal(155), "investing": Decimal(-50), "financing": Decimal(-55)}
    assert flow.closing_cash == Decimal(150)


def test_checks_pass_when_statements_agree() -> None:
    years = build_statements(STANDARD_LINES, worked_example())

    assert [check.name for check in years[1].checks] == ["balance_sheet_balances",
                                                          "closing_cash_equals_balance_sheet_cash"]
    assert all(check.passed for year in years for check in year.checks)


def test_checks_report_differences() -> None:
    # One unit less cash: assets 474 against 475 of liabilities and equity, and the cash flow
    # still ends at 150 against 149 on the balance sheet.
    year = build_statements(STANDARD_LINES, worked_example(cash="149"))[1]
    balance, cash = year.checks

    assert (balance.expected, balance.actual, balance.difference) == (Decimal(474), Decimal(475), Decimal(1))
    assert (cash.expected, cash.actual, cash.difference) == (Decimal(149), Decimal(150), Decimal(1))


def test_entered_operating_cash_flow_replaces_derived() -> None:
    definitions = {**STANDARD_LINES, "operating_cash": define_line("operating_cash", "cash_flow", "flow", "operating")}
    entered = [*worked_example(), StatementLine("operating_cash", 2025, Decimal(150))]

    year = build_statements(definitions, entered)[1]
    _, cash, operating = year.checks

    # 100 + 150 - 50 - 55 = 145 against 150 on the balance sheet; 150 entered against 155 derived.
    assert year.cash_flow is not None
    assert year.cash_flow.closing_cash == Decimal(145)
    assert cash.difference == Decimal(-5)
    assert (operating.name, operating.expected, operating.actual) == (
        "entered_operating_cash_flow_equals_derived", Decimal(155), Decimal(150))


def test_year_after_a_gap_has_no_cash_flow() -> None:
    years = build_statements(STANDARD_LINES, [*lines(2024, OPENING), *lines(2026, YEAR)])

    assert [year.cash_flow for year in years] == [None, None]


def test_line_without_definition_is_rejected() -> None:
    with pytest.raises(InvalidInput) as raised:
        build_statements(STANDARD_LINES, [StatementLine("goodwill", 2024, Decimal(1))])

    assert raised.value.field == "lines[0].line"


@pytest.mark.parametrize(("statement", "kind", "role"), [
    ("balance_sheet", "equity", "working_capital"),
    ("income_statement", "revenue", "non_cash"),
    ("balance_sheet", "liability", "cash"),
])
def test_role_outside_statement_is_rejected(statement: str, kind: str, role: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        define_line("line", statement, kind, role)  # type: ignore[arg-type]

    assert raised.value.field == "role"


def test_role_defaults_by_kind() -> None:
    assert define_line("loan", "balance_sheet", "liability").role == "working_capital"
    assert define_line("capital", "balance_sheet", "equity").role == "financing"
