"""The demo's mapping of the Philadelphia files onto IPM's organisation model."""

import csv
import os
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from ipm_cli.demo import philadelphia as phl
from ipm_common.reference import Hierarchy

DATA = Path(os.environ.get("IPM_DATA_DIR", Path(__file__).resolve().parents[3] / "examples" / "data"))


@pytest.fixture(scope="module")
def collections() -> list[phl.Collection]:
    return phl.read_collections(DATA)


@pytest.fixture(scope="module")
def hierarchy(collections: list[phl.Collection]) -> Hierarchy:
    edges = phl.hierarchy_edges(collections)
    return Hierarchy(phl.HIERARCHY, "account", {edge["child"]: edge["parent"] for edge in edges})


def published_subtotals() -> dict[tuple[str, date], Decimal]:
    with open(DATA / "philadelphia" / "city-collections.csv", newline="") as handle:
        return {(row["name"], date.fromisoformat(row["date"])): Decimal(row["total"])
                for row in csv.DictReader(handle) if row["name"] in phl.SUBTOTALS}


def test_subtotal_lines_are_left_out(collections: list[phl.Collection]) -> None:
    lines = {row.line for row in collections}

    assert lines.isdisjoint(phl.SUBTOTALS)
    assert "wage_city" in lines


def test_computed_subtotal_matches_published(collections: list[phl.Collection], hierarchy: Hierarchy) -> None:
    leaves = hierarchy.leaves_under("wage_earnings_net_profits_city")
    by_month: dict[date, Decimal] = defaultdict(Decimal)
    for row in collections:
        if row.line in leaves:
            by_month[row.month] += row.amount

    published = published_subtotals()
    month = date(2019, 3, 1)

    assert sorted(leaves) == ["earnings_city", "net_profits_city", "wage_city"]
    assert by_month[month] == published[("wage_earnings_net_profits_city", month)]


def test_every_leaf_reaches_total_revenue(collections: list[phl.Collection], hierarchy: Hierarchy) -> None:
    for line in {row.line for row in collections}:
        assert hierarchy.ancestors_of(line)[-1] == "total_revenue", line


def test_revenue_is_posted_debit_negative(collections: list[phl.Collection]) -> None:
    month, postings = phl.posting_batches(collections)[0]
    birt = next(posting for posting in postings if posting["account_id"] == "birt")
    source = next(row for row in collections if row.line == "birt" and row.month == month)

    assert month == date(2013, 7, 1)
    assert birt["posting_date"] == "2013-07-31"
    assert Decimal(birt["amount"]) == -source.amount


def test_target_comes_from_first_adopted_plan() -> None:
    plans = phl.adopted_plans(phl.read_plans(DATA))
    first = phl.plan_body(2022, plans[2022], set())
    second_years = {figure.fiscal_year for figure in plans[2022]}
    second = phl.plan_body(2023, plans[2023], second_years)

    assert {target["fiscal_year"] for target in first["targets"]} == {2022, 2023, 2024, 2025, 2026}
    assert {target["fiscal_year"] for target in second["targets"]} == {2027}


def test_budget_is_plan_figure_of_first_year() -> None:
    plans = phl.adopted_plans(phl.read_plans(DATA))

    budget = phl.budget_body(2023, plans[2023])

    wage = next(line for line in budget["lines"] if line["line"] == "wage_earnings_city")
    expected = next(figure.amount for figure in plans[2023] if figure.tax == "Wage" and figure.fiscal_year == 2023)
    assert Decimal(wage["annual"]) == expected
    assert budget["fiscal_year"] == 2023
