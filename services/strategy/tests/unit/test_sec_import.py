"""Apple's reported annual statements read from the SEC company-facts file in examples/data/sec.

The expected values are read from the raw file here, from the 10-K facts of the fiscal year that
ended on 30 September 2023. The test so checks the selection and the arithmetic, not a copy of
the results.
"""

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ipm_common.errors import InvalidInput
from ipm_strategy.domain.drivers import STANDARD_LINES
from ipm_strategy.domain.sec import HISTORY_LINES, compare_operating_cash_flow, history_lines, parse_company_facts
from ipm_strategy.domain.statements import build_statements

APPLE = Path(__file__).parents[4] / "examples" / "data" / "sec" / "companyfacts-CIK0000320193.json"
FY2023_END, FY2022_END = "2023-09-30", "2022-09-24"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads(APPLE.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def reported(document: dict[str, Any], concept: str, end: str, *, duration: bool = True) -> Decimal:
    """Return the value of the latest 10-K that reported the concept for the year (or instant) ending ``end``."""
    facts = [fact for fact in document["facts"]["us-gaap"][concept]["units"]["USD"]
             if fact["form"] == "10-K" and fact["end"] == end and ("start" in fact) == duration
             and (not duration or (fact["fp"] == "FY" and fact["start"] < f"{int(end[:4]) - 1}-12-31"))]
    return Decimal(max(facts, key=lambda fact: fact["filed"])["val"])


def test_reported_values_of_one_year(document: dict[str, Any]) -> None:
    facts = parse_company_facts(document)
    end = date.fromisoformat(FY2023_END)

    assert facts.company == "Apple Inc."
    assert facts.duration("net_income", end) == reported(document, "NetIncomeLoss", FY2023_END)
    assert facts.duration("revenue", end) == reported(
        document, "RevenueFromContractWithCustomerExcludingAssessedTax", FY2023_END)
    assert facts.duration("reported_operating_cash_flow", end) == reported(
        document, "NetCashProvidedByUsedInOperatingActivities", FY2023_END)
    assert facts.instant("total_assets", end) == reported(document, "Assets", FY2023_END, duration=False)


def test_derived_operating_cash_flow_of_one_year(document: dict[str, Any]) -> None:
    def movement(concept: str) -> Decimal:
        return (reported(document, concept, FY2023_END, duration=False)
                - reported(document, concept, FY2022_END, duration=False))

    # The indirect method on the reported figures: Apple no longer reports deferred income tax
    # in FY2023, so the non-cash items are depreciation and share-based compensation.
    expected = (reported(document, "NetIncomeLoss", FY2023_END)
                + reported(document, "DepreciationDepletionAndAmortization", FY2023_END)
                + reported(document, "ShareBasedCompensation", FY2023_END)
                - movement("AccountsReceivableNetCurrent") - movement("NontradeReceivablesCurrent")
                - movement("InventoryNet") - movement("OtherAssetsCurrent")
                + movement("AccountsPayableCurrent") + movement("ContractWithCustomerLiabilityCurrent")
                + movement("OtherLiabilitiesCurrent"))

    compared = {item.fiscal_year: item for item in compare_operating_cash_flow(parse_company_facts(document))}

    assert compared[2023].derived == expected
    assert compared[2023].reported == reported(document, "NetCashProvidedByUsedInOperatingActivities", FY2023_END)
    assert compared[2023].gap == expected - compared[2023].reported
    assert compared[2023].missing_lines == ("deferred_income_tax",)


def test_comparison_skips_year_without_opening_balance_sheet(document: dict[str, Any]) -> None:
    years = [item.fiscal_year for item in compare_operating_cash_flow(parse_company_facts(document))]

    # The first balance sheet in the 10-K facts is at the end of FY2008, so FY2009 is the first year compared.
    assert years[0] == 2009
    assert years == list(range(2009, years[-1] + 1))


def test_history_statements_tie_to_reported_totals(document: dict[str, Any]) -> None:
    lines = history_lines(parse_company_facts(document))
    years = {year.fiscal_year: year for year in build_statements({**STANDARD_LINES, **HISTORY_LINES}, lines)}

    assert years[2023].net_income == reported(document, "NetIncomeLoss", FY2023_END)
    assert years[2023].assets == reported(document, "Assets", FY2023_END, duration=False)
    assert all(check.passed for check in years[2023].checks)


def test_document_without_facts_is_rejected() -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_company_facts({"cik": 1})

    assert raised.value.field == "companyfacts"


REVENUE_FIELD = "companyfacts.facts.us-gaap.Revenues.units.USD[0]"
ANNUAL = {"start": "2022-10-01", "end": "2023-09-30", "val": 5, "form": "10-K", "filed": "2023-11-03"}


@pytest.mark.parametrize(("fact", "field"), [
    ({key: value for key, value in ANNUAL.items() if key != "end"}, f"{REVENUE_FIELD}.end"),
    ({**ANNUAL, "end": "2023-13-45"}, f"{REVENUE_FIELD}.end"),
    ({**ANNUAL, "start": 20221001}, f"{REVENUE_FIELD}.start"),
    ({**ANNUAL, "val": None}, f"{REVENUE_FIELD}.val"),
    ({**ANNUAL, "val": "abc"}, f"{REVENUE_FIELD}.val"),
    ({**ANNUAL, "val": Decimal("1E+300")}, f"{REVENUE_FIELD}.val"),
    ({**ANNUAL, "start": "1799-10-01", "end": "1800-09-30"}, f"{REVENUE_FIELD}.end"),
])
def test_malformed_fact_names_its_field(fact: dict[str, Any], field: str) -> None:
    document = {"facts": {"us-gaap": {"Revenues": {"units": {"USD": [fact]}}}}}

    with pytest.raises(InvalidInput) as raised:
        parse_company_facts(document)

    assert raised.value.field == field


@pytest.mark.parametrize("units", [{"USD": 5}, {"USD": {"val": 5}}, []])
def test_units_of_another_shape_are_rejected(units: Any) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_company_facts({"facts": {"us-gaap": {"Revenues": {"units": units}}}})

    assert raised.value.field is not None
    assert raised.value.field.startswith("companyfacts.facts.us-gaap.Revenues.units")


def test_malformed_quarterly_fact_skipped() -> None:
    # Only 10-K and 10-K/A facts are read, so a malformed 10-Q fact does not stop the import.
    document = {"facts": {"us-gaap": {"Revenues": {"units": {"USD": [{"form": "10-Q", "val": None}, ANNUAL]}}}}}

    facts = parse_company_facts(document)

    assert facts.durations["Revenues"] == {date(2023, 9, 30): Decimal(5)}
