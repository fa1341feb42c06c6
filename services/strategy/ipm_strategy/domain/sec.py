"""Reported annual statements from SEC EDGAR XBRL company facts, and the operating cash flow derived from them.

A company-facts document lists every reported value of a us-gaap concept under
``facts.us-gaap.<concept>.units.USD``, each with ``start`` (durations only), ``end``, ``val``,
``form`` and ``filed``. Only annual reports count: forms 10-K and 10-K/A, durations of 350 to
380 days for income-statement and cash-flow facts, and instants for the balance sheet. A value
reported again in a later filing replaces the earlier one, so restatements win. A fiscal year
is named by the calendar year in which it ends.

Concept names change over time, so each line lists several concepts in order of preference.
A balance-sheet movement takes both year ends from the first concept that reports both, because
two concepts of one line may differ in scope (deferred revenue against contract liabilities).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Any

from ipm_common.errors import InvalidInput
from ipm_common.money import parse_amount
from ipm_strategy.domain.statements import LineDefinition, StatementLine, define_line

ANNUAL_FORMS = ("10-K", "10-K/A")
# The fiscal years a plan line may carry, as in the operating plan API.
MIN_FISCAL_YEAR, MAX_FISCAL_YEAR = 1900, 2999
MIN_YEAR_DAYS, MAX_YEAR_DAYS = 350, 380
ZERO = Decimal(0)

DURATION_CONCEPTS: dict[str, tuple[str, ...]] = {
    "revenue": ("RevenueFromContractWithCustomerExcludingAssessedTax", "SalesRevenueNet", "Revenues"),
    "cost_of_sales": ("CostOfGoodsAndServicesSold", "CostOfRevenue", "CostOfGoodsSold"),
    "operating_expenses": ("OperatingExpenses",),
    "income_tax": ("IncomeTaxExpenseBenefit",),
    "net_income": ("NetIncomeLoss",),
    "depreciation_and_amortisation": ("DepreciationDepletionAndAmortization", "DepreciationAmortizationAndAccretionNet",
                                      "DepreciationAndAmortization"),
    "share_based_compensation": ("ShareBasedCompensation", "AllocatedShareBasedCompensationExpense"),
    "deferred_income_tax": ("DeferredIncomeTaxExpenseBenefit",),
    "reported_operating_cash_flow": ("NetCashProvidedByUsedInOperatingActivities",
                                     "NetCashProvidedByUsedInOperatingActivitiesContinuingOperations"),
}

INSTANT_CONCEPTS: dict[str, tuple[str, ...]] = {
    "cash": ("CashAndCashEquivalentsAtCarryingValue",),
    "receivables": ("AccountsReceivableNetCurrent",),
    "vendor_non_trade_receivables": ("NontradeReceivablesCurrent",),
    "inventory": ("InventoryNet",),
    "other_current_assets": ("OtherAssetsCurrent",),
    "payables": ("AccountsPayableCurrent",),
    "deferred_revenue": ("ContractWithCustomerLiabilityCurrent", "DeferredRevenueCurrent"),
    "other_current_liabilities": ("OtherLiabilitiesCurrent", "AccruedLiabilitiesCurrent"),
    "total_assets": ("Assets",),
    "total_liabilities": ("Liabilities",),
    "equity": ("StockholdersEquity",),
}

NON_CASH_LINES = ("depreciation_and_amortisation", "share_based_compensation", "deferred_income_tax")
WORKING_CAPITAL_ASSETS = ("receivables", "vendor_non_trade_receivables", "inventory", "other_current_assets")
WORKING_CAPITAL_LIABILITIES = ("payables", "deferred_revenue", "other_current_liabilities")

# Lines of a reported history that the driver catalogue lacks. Residuals make each statement add
# up to its reported total: other income ties net income, other assets and other liabilities tie
# the balance-sheet totals.
HISTORY_LINES: dict[str, LineDefinition] = {
    definition.line: definition for definition in (
        define_line("vendor_non_trade_receivables", "balance_sheet", "asset", "working_capital"),
        define_line("other_current_assets", "balance_sheet", "asset", "working_capital"),
        define_line("other_assets", "balance_sheet", "asset", "investing"),
        define_line("deferred_revenue", "balance_sheet", "liability", "working_capital"),
        define_line("other_current_liabilities", "balance_sheet", "liability", "working_capital"),
        define_line("other_liabilities", "balance_sheet", "liability", "financing"),
        define_line("equity", "balance_sheet", "equity", "financing"),
        define_line("depreciation_and_amortisation", "cash_flow", "flow", "non_cash"),
        define_line("share_based_compensation", "cash_flow", "flow", "non_cash"),
        define_line("deferred_income_tax", "cash_flow", "flow", "non_cash"),
        define_line("reported_operating_cash_flow", "cash_flow", "flow", "memo"),
    )
}


@dataclass(frozen=True)
class ReportedFacts:
    """Annual values per concept, keyed by the period's end date."""

    company: str
    durations: Mapping[str, Mapping[date, Decimal]]
    instants: Mapping[str, Mapping[date, Decimal]]

    def year_ends(self) -> list[date]:
        """List the fiscal year ends with a reported net income, oldest first."""
        return sorted(self.durations.get("NetIncomeLoss", {}))

    def duration(self, line: str, end: date) -> Decimal | None:
        return _first(self.durations, DURATION_CONCEPTS[line], end)

    def instant(self, line: str, end: date) -> Decimal | None:
        return _first(self.instants, INSTANT_CONCEPTS[line], end)

    def movement(self, line: str, opening: date, closing: date) -> Decimal | None:
        """Return the increase of a balance-sheet line, both ends from one concept, or None when none has both."""
        for concept in INSTANT_CONCEPTS[line]:
            values = self.instants.get(concept, {})
            if opening in values and closing in values:
                return values[closing] - values[opening]
        return None


@dataclass(frozen=True)
class CashFlowComparison:
    """The operating cash flow of one fiscal year derived by the indirect method against the reported one."""

    fiscal_year: int
    net_income: Decimal
    non_cash_items: Decimal
    increase_in_working_capital_assets: Decimal
    increase_in_working_capital_liabilities: Decimal
    reported: Decimal
    missing_lines: tuple[str, ...]

    @property
    def derived(self) -> Decimal:
        return (self.net_income + self.non_cash_items - self.increase_in_working_capital_assets
                + self.increase_in_working_capital_liabilities)

    @property
    def gap(self) -> Decimal:
        """Return derived minus reported: positive when the derivation overstates the reported cash flow."""
        return self.derived - self.reported


def parse_company_facts(document: Mapping[str, Any]) -> ReportedFacts:
    """Collect the annual USD values of every us-gaap concept. Raises ``InvalidInput`` for another shape."""
    facts = document.get("facts")
    concepts = facts.get("us-gaap") if isinstance(facts, Mapping) else None
    if not isinstance(concepts, Mapping):
        raise InvalidInput("companyfacts: missing facts.us-gaap; send an SEC EDGAR companyfacts document",
                           field="companyfacts")

    durations: dict[str, dict[date, Decimal]] = {}
    instants: dict[str, dict[date, Decimal]] = {}
    for concept, body in concepts.items():
        field = f"companyfacts.facts.us-gaap.{concept}.units"
        units = body.get("units", {}) if isinstance(body, Mapping) else {}
        if not isinstance(units, Mapping):
            raise InvalidInput(f"{field}: expected an object of facts by unit, such as {{\"USD\": [...]}}",
                               field=field)
        duration, instant = _annual_values(units.get("USD", []), f"{field}.USD")
        if duration:
            durations[concept] = duration
        if instant:
            instants[concept] = instant
    return ReportedFacts(str(document.get("entityName") or document.get("cik") or "company"), durations, instants)


def history_lines(facts: ReportedFacts) -> list[StatementLine]:
    """Build the reported statements of every fiscal year as plan lines, with residual lines tying the totals."""
    lines: list[StatementLine] = []
    for end in facts.year_ends():
        year = end.year
        values = _year_values(facts, end)
        lines.extend(StatementLine(line, year, amount) for line, amount in sorted(values.items()))
    return lines


def compare_operating_cash_flow(facts: ReportedFacts) -> list[CashFlowComparison]:
    """Compare, for each pair of consecutive year ends, the derived operating cash flow with the reported one.

    A year is skipped without a reported operating cash flow, a net income or a balance sheet at
    its opening. A non-cash or
    balance-sheet line that is not reported for the year counts as zero and is listed in
    ``missing_lines``.
    """
    ends = facts.year_ends()
    comparisons: list[CashFlowComparison] = []
    for opening, closing in pairwise(ends):
        reported = facts.duration("reported_operating_cash_flow", closing)
        net_income = facts.duration("net_income", closing)
        if reported is None or net_income is None or facts.instant("total_assets", opening) is None:
            continue

        missing: list[str] = []
        non_cash = _sum_durations(facts, NON_CASH_LINES, closing, missing)
        assets = _sum_movements(facts, WORKING_CAPITAL_ASSETS, opening, closing, missing)
        liabilities = _sum_movements(facts, WORKING_CAPITAL_LIABILITIES, opening, closing, missing)
        comparisons.append(CashFlowComparison(closing.year, net_income, non_cash, assets, liabilities, reported,
                                              tuple(missing)))
    return comparisons


def _annual_values(facts: Any, field: str) -> tuple[dict[date, Decimal], dict[date, Decimal]]:
    if not isinstance(facts, list):
        raise InvalidInput(f"{field}: expected a list of facts, got {type(facts).__name__}", field=field)

    durations: dict[date, tuple[str, Decimal]] = {}
    instants: dict[date, tuple[str, Decimal]] = {}
    for index, fact in enumerate(facts):
        if not isinstance(fact, Mapping) or fact.get("form") not in ANNUAL_FORMS:
            continue
        where = f"{field}[{index}]"
        end, value = _fact_date(fact, "end", where), _fact_value(fact, where)
        filed = str(fact.get("filed", ""))
        if "start" in fact:
            if not MIN_YEAR_DAYS <= (end - _fact_date(fact, "start", where)).days <= MAX_YEAR_DAYS:
                continue
            target = durations
        else:
            target = instants
        if end not in target or target[end][0] <= filed:
            target[end] = (filed, value)
    return ({end: value for end, (_, value) in durations.items()},
            {end: value for end, (_, value) in instants.items()})


def _fact_date(fact: Mapping[str, Any], key: str, where: str) -> date:
    """Read a fact's ``start`` or ``end`` date, whose year names a fiscal year of the plan."""
    text = fact.get(key)
    try:
        value = date.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        value = None
    if value is None or not MIN_FISCAL_YEAR <= value.year <= MAX_FISCAL_YEAR:
        raise InvalidInput(f"{where}.{key}: {text!r} is not a date in {MIN_FISCAL_YEAR}-{MAX_FISCAL_YEAR}; "
                           "expected YYYY-MM-DD as in SEC EDGAR company facts", field=f"{where}.{key}")
    return value


def _fact_value(fact: Mapping[str, Any], where: str) -> Decimal:
    value = fact.get("val")
    if isinstance(value, float):
        # A document parsed without parse_float=Decimal carries floats, whose shortest repr is the reported text.
        value = Decimal(repr(value))
    return parse_amount(value, field=f"{where}.val")


def _first(values: Mapping[str, Mapping[date, Decimal]], concepts: Sequence[str], end: date) -> Decimal | None:
    for concept in concepts:
        if end in values.get(concept, {}):
            return values[concept][end]
    return None


def _year_values(facts: ReportedFacts, end: date) -> dict[str, Decimal]:
    values: dict[str, Decimal] = {}
    for line in ("revenue", "cost_of_sales", "operating_expenses", "income_tax", *NON_CASH_LINES,
                 "reported_operating_cash_flow"):
        amount = facts.duration(line, end)
        if amount is not None:
            values[line] = amount
    net_income = facts.duration("net_income", end) or ZERO
    values["other_income"] = net_income - (values.get("revenue", ZERO) - values.get("cost_of_sales", ZERO)
                                           - values.get("operating_expenses", ZERO) - values.get("income_tax", ZERO))

    total_assets, total_liabilities = facts.instant("total_assets", end), facts.instant("total_liabilities", end)
    if total_assets is None or total_liabilities is None:
        return values
    for line in ("cash", *WORKING_CAPITAL_ASSETS, *WORKING_CAPITAL_LIABILITIES, "equity"):
        amount = facts.instant(line, end)
        if amount is not None:
            values[line] = amount
    values["other_assets"] = total_assets - sum((values.get(line, ZERO) for line in ("cash", *WORKING_CAPITAL_ASSETS)),
                                                ZERO)
    values["other_liabilities"] = total_liabilities - sum(
        (values.get(line, ZERO) for line in WORKING_CAPITAL_LIABILITIES), ZERO)
    return values


def _sum_durations(facts: ReportedFacts, lines: Sequence[str], end: date, missing: list[str]) -> Decimal:
    total = ZERO
    for line in lines:
        amount = facts.duration(line, end)
        if amount is None:
            missing.append(line)
        else:
            total += amount
    return total


def _sum_movements(facts: ReportedFacts, lines: Sequence[str], opening: date, closing: date,
                   missing: list[str]) -> Decimal:
    total = ZERO
    for line in lines:
        increase = facts.movement(line, opening, closing)
        if increase is None:
            missing.append(line)
        else:
            total += increase
    return total
