"""Three-statement operating plans: income statement, balance sheet and cash flow per fiscal year.

Every amount is in natural sign: revenue, expenses, assets, liabilities and equity are positive
when they have their normal balance. Each line has a definition that places it on a statement
and gives its cash-flow role:

- income statement lines are ``operating``, or ``non_cash`` for expenses paid by no cash in the
  year, such as depreciation, which the indirect method adds back;
- balance-sheet assets are ``cash``, ``working_capital`` (receivables, inventory) or
  ``investing`` (property, plant and equipment); liabilities are ``working_capital`` (payables)
  or ``financing`` (debt); equity is always ``financing``;
- cash-flow lines are ``non_cash`` (an add-back already inside the income statement's
  expenses), ``operating``, ``investing`` or ``financing`` (a cash flow entered directly), or
  ``memo`` (a figure kept for information, such as a reported total).

The cash flow of a year is derived by the indirect method from the income statement and the
movements of the balance sheet against the year before. The first year of a plan is therefore
its opening position and has no cash flow:

    operating = net income + non-cash items - increase in working-capital assets
                + increase in working-capital liabilities
    investing = -(increase in investing assets + non-cash items)
    financing = increase in financing liabilities + increase in equity - net income

Investing treats the non-cash items as charged against the investing assets, so it is the gross
capital expenditure when the non-cash items are depreciation and amortisation. The three sections
sum to the change in cash whenever both balance sheets balance. A section entered directly
replaces the derived one in the net change of cash, and its difference from the derived figure
is reported.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from ipm_common.errors import InvalidInput

StatementName = Literal["income_statement", "balance_sheet", "cash_flow"]
LineKind = Literal["revenue", "expense", "asset", "liability", "equity", "flow"]
CashFlowRole = Literal["operating", "non_cash", "cash", "working_capital", "investing", "financing", "memo"]
CashFlowSection = Literal["operating", "investing", "financing"]

ZERO = Decimal(0)
SECTIONS: tuple[CashFlowSection, ...] = ("operating", "investing", "financing")

# The roles that each statement and kind of line may take.
ALLOWED_ROLES: dict[tuple[StatementName, LineKind], tuple[CashFlowRole, ...]] = {
    ("income_statement", "revenue"): ("operating",),
    ("income_statement", "expense"): ("operating", "non_cash"),
    ("balance_sheet", "asset"): ("cash", "working_capital", "investing"),
    ("balance_sheet", "liability"): ("working_capital", "financing"),
    ("balance_sheet", "equity"): ("financing",),
    ("cash_flow", "flow"): ("non_cash", "operating", "investing", "financing", "memo"),
}


@dataclass(frozen=True)
class LineDefinition:
    """The placement of a plan line: its statement, its kind and its role in the cash flow."""

    line: str
    statement: StatementName
    kind: LineKind
    role: CashFlowRole


@dataclass(frozen=True)
class StatementLine:
    line: str
    fiscal_year: int
    amount: Decimal


@dataclass(frozen=True)
class Check:
    """One reconciliation of a year: ``expected`` against ``actual``, with their difference."""

    name: str
    fiscal_year: int
    expected: Decimal
    actual: Decimal

    @property
    def difference(self) -> Decimal:
        return self.actual - self.expected

    @property
    def passed(self) -> bool:
        return self.difference == 0


@dataclass(frozen=True)
class CashFlow:
    """The cash flow of one year, derived by the indirect method, with any directly entered sections."""

    net_income: Decimal
    non_cash_items: Decimal
    increase_in_working_capital_assets: Decimal
    increase_in_working_capital_liabilities: Decimal
    derived: Mapping[CashFlowSection, Decimal]
    entered: Mapping[CashFlowSection, Decimal]
    opening_cash: Decimal

    @property
    def sections(self) -> dict[CashFlowSection, Decimal]:
        """Return each section as entered where it was entered, else as derived."""
        return {section: self.entered.get(section, self.derived[section]) for section in SECTIONS}

    @property
    def net_change(self) -> Decimal:
        return sum(self.sections.values(), ZERO)

    @property
    def closing_cash(self) -> Decimal:
        return self.opening_cash + self.net_change


@dataclass(frozen=True)
class YearStatements:
    fiscal_year: int
    lines: Mapping[StatementName, tuple[StatementLine, ...]]
    revenue: Decimal
    expenses: Decimal
    assets: Decimal
    liabilities: Decimal
    equity: Decimal
    cash: Decimal
    cash_flow: CashFlow | None
    checks: tuple[Check, ...]

    @property
    def net_income(self) -> Decimal:
        return self.revenue - self.expenses


def define_line(line: str, statement: StatementName, kind: LineKind, role: CashFlowRole | None = None,
                *, field: str = "role") -> LineDefinition:
    """Build a line definition, defaulting the role by kind and rejecting a role the statement does not allow."""
    allowed = ALLOWED_ROLES.get((statement, kind))
    if allowed is None:
        raise InvalidInput(f"{field}: a {kind} line cannot sit on the {statement}", field=field)

    resolved = role or allowed[0]
    if resolved not in allowed:
        raise InvalidInput(
            f"{field}: {resolved!r} is not a cash-flow role of a {kind} line on the {statement}; "
            f"expected one of {', '.join(allowed)}",
            field=field,
        )
    return LineDefinition(line, statement, kind, resolved)


def build_statements(definitions: Mapping[str, LineDefinition],
                     lines: Iterable[StatementLine]) -> list[YearStatements]:
    """Build the three statements of every fiscal year that has lines, oldest first, with their checks.

    Raises ``InvalidInput`` for a line without a definition.
    """
    by_year: dict[int, list[StatementLine]] = {}
    for index, line in enumerate(lines):
        if line.line not in definitions:
            raise InvalidInput(f"lines[{index}].line: {line.line!r} has no definition", field=f"lines[{index}].line")
        by_year.setdefault(line.fiscal_year, []).append(line)

    years: list[YearStatements] = []
    previous: _Totals | None = None
    for fiscal_year in sorted(by_year):
        totals = _Totals.of(definitions, by_year[fiscal_year])
        has_opening = previous is not None and previous.fiscal_year == fiscal_year - 1
        cash_flow = _cash_flow(totals, previous) if has_opening and previous is not None else None
        years.append(_year(definitions, fiscal_year, by_year[fiscal_year], totals, cash_flow))
        previous = totals
    return years


@dataclass(frozen=True)
class _Totals:
    fiscal_year: int
    sums: Mapping[tuple[StatementName, LineKind, CashFlowRole], Decimal]

    @classmethod
    def of(cls, definitions: Mapping[str, LineDefinition], lines: Sequence[StatementLine]) -> "_Totals":
        sums: dict[tuple[StatementName, LineKind, CashFlowRole], Decimal] = {}
        for line in lines:
            definition = definitions[line.line]
            key = (definition.statement, definition.kind, definition.role)
            sums[key] = sums.get(key, ZERO) + line.amount
        return cls(lines[0].fiscal_year, sums)

    def total(self, statement: StatementName, kind: LineKind, role: CashFlowRole | None = None) -> Decimal:
        return sum((amount for (s, k, r), amount in self.sums.items()
                    if s == statement and k == kind and (role is None or r == role)), ZERO)

    @property
    def net_income(self) -> Decimal:
        return self.total("income_statement", "revenue") - self.total("income_statement", "expense")

    @property
    def non_cash_items(self) -> Decimal:
        return self.total("income_statement", "expense", "non_cash") + self.total("cash_flow", "flow", "non_cash")

    @property
    def cash(self) -> Decimal:
        return self.total("balance_sheet", "asset", "cash")


def _cash_flow(current: _Totals, previous: _Totals) -> CashFlow:
    def increase(kind: LineKind, role: CashFlowRole) -> Decimal:
        return current.total("balance_sheet", kind, role) - previous.total("balance_sheet", kind, role)

    net_income, non_cash = current.net_income, current.non_cash_items
    working_capital_assets = increase("asset", "working_capital")
    working_capital_liabilities = increase("liability", "working_capital")
    derived: dict[CashFlowSection, Decimal] = {
        "operating": net_income + non_cash - working_capital_assets + working_capital_liabilities,
        "investing": -(increase("asset", "investing") + non_cash),
        "financing": increase("liability", "financing") + increase("equity", "financing") - net_income,
    }
    entered = {section: current.sums[("cash_flow", "flow", section)] for section in SECTIONS
               if ("cash_flow", "flow", section) in current.sums}
    return CashFlow(net_income, non_cash, working_capital_assets, working_capital_liabilities, derived, entered,
                    previous.cash)


def _year(definitions: Mapping[str, LineDefinition], fiscal_year: int, lines: Sequence[StatementLine],
          totals: _Totals, cash_flow: CashFlow | None) -> YearStatements:
    grouped: dict[StatementName, list[StatementLine]] = {"income_statement": [], "balance_sheet": [], "cash_flow": []}
    for line in sorted(lines, key=lambda item: item.line):
        grouped[definitions[line.line].statement].append(line)

    assets = totals.total("balance_sheet", "asset")
    liabilities = totals.total("balance_sheet", "liability")
    equity = totals.total("balance_sheet", "equity")
    checks = [Check("balance_sheet_balances", fiscal_year, assets, liabilities + equity)]
    if cash_flow is not None:
        checks.append(Check("closing_cash_equals_balance_sheet_cash", fiscal_year, totals.cash,
                            cash_flow.closing_cash))
        checks.extend(Check(f"entered_{section}_cash_flow_equals_derived", fiscal_year, cash_flow.derived[section],
                            amount) for section, amount in cash_flow.entered.items())

    return YearStatements(
        fiscal_year=fiscal_year,
        lines={statement: tuple(items) for statement, items in grouped.items()},
        revenue=totals.total("income_statement", "revenue"),
        expenses=totals.total("income_statement", "expense"),
        assets=assets, liabilities=liabilities, equity=equity, cash=totals.cash,
        cash_flow=cash_flow, checks=tuple(checks),
    )


# Lines through which a plan enters the sections of its cash flow directly, in place of the derived ones.
DIRECT_CASH_FLOW_LINES: dict[str, LineDefinition] = {
    f"{section}_cash_flow": define_line(f"{section}_cash_flow", "cash_flow", "flow", section) for section in SECTIONS
}
