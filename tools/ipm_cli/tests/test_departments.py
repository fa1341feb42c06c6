"""The demo's mapping of the City's departmental obligations: sub-lines, quarter flows, revisions and bodies."""

import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from ipm_cli.demo import departments as dept
from ipm_cli.demo import philadelphia as phl

DATA = Path(os.environ.get("IPM_DATA_DIR", Path(__file__).resolve().parents[3] / "examples" / "data"))
POLICE = "11"


@pytest.fixture(scope="module")
def lines() -> list[dept.Report]:
    return dept.department_lines(dept.read_reports(DATA))


def test_police_quarter_flows_fy2022(lines: list[dept.Report]) -> None:
    # Year to date at the quarter ends from the reports, and the full year from the later report.
    ytd = dept.year_to_date(lines, POLICE, 2022)

    assert ytd == {1: Decimal("157293857"), 2: Decimal("339157774"), 3: Decimal("525732733"),
                   4: Decimal("774947990")}
    # 339,157,774 - 157,293,857 = 181,863,917; 525,732,733 - 339,157,774 = 186,574,959;
    # 774,947,990 - 525,732,733 = 249,215,257.
    assert dept.quarter_flows(ytd) == {1: Decimal("157293857"), 2: Decimal("181863917"),
                                       3: Decimal("186574959"), 4: Decimal("249215257")}


def test_postings_dated_at_quarter_ends(lines: list[dept.Report]) -> None:
    police = [posting for posting in dept.postings(lines, 2022) if posting["cost_centre"] == POLICE]

    assert [posting["source_id"] for posting in police] == [f"phl-obligations-11-FY2022-Q{quarter}"
                                                            for quarter in (1, 2, 3, 4)]
    assert [posting["posting_date"] for posting in police] == ["2021-09-30", "2021-12-31", "2022-03-31",
                                                               "2022-06-30"]
    assert sum(Decimal(posting["amount"]) for posting in police) == Decimal("774947990")
    assert dept.postings(lines, 2022) == dept.postings(lines, 2022)


def test_sub_lines_that_sum_to_parent_are_dropped(lines: list[dept.Report]) -> None:
    # In the report of 31 March 2019 the ten "Employee Benefits: ..." lines add up to exactly
    # 1,126,217,634, the line "Finance: Employee Benefits" (35-EB), so only the parent stays.
    codes = set(dept.codes_of(lines, 2019))
    benefits = [row for row in lines if row.code == "35-EB" and row.fiscal_year == 2019
                and row.variable == "Actual" and row.as_of == date(2019, 3, 31)]

    assert "35-EB" in codes
    assert not [code for code in codes if code.startswith("35-EB-")]
    assert benefits[0].total == Decimal("1126217634")
    # "Finance: Indemnities" is not part of the Director of Finance's line (35), so it stays.
    assert {"35", "35-IN", "35-CC"} <= codes


def test_rows_of_one_line_are_summed(lines: list[dept.Report]) -> None:
    # The labour reserve (35-LR) has two provisions in the projection of 31 March 2013:
    # 11,633,384 + 31,394,721 = 43,028,105.
    reserve = [row for row in lines if row.code == "35-LR" and row.variable == "Current Projection"
               and row.as_of == date(2013, 3, 31)]

    assert [row.total for row in reserve] == [Decimal("43028105")]


def test_later_report_revises_a_quarter() -> None:
    def report(total: str, report_quarter: int) -> dept.Report:
        return dept.Report(POLICE, "Police", 2022, "Actual", "YTD", date(2021, 9, 30), (2022, report_quarter),
                           Decimal(total))

    # The Q1 figure of 157,293,857 is revised to 157,300,000 in the Q2 report: Q2's flow is then
    # 339,157,774 - 157,300,000 = 181,857,774.
    q2 = dept.Report(POLICE, "Police", 2022, "Actual", "YTD", date(2021, 12, 31), (2022, 2), Decimal("339157774"))
    revised = dept.department_lines([report("157293857", 1), report("157300000", 2), q2])

    ytd = dept.year_to_date(revised, POLICE, 2022)
    assert ytd == {1: Decimal("157300000"), 2: Decimal("339157774")}
    assert dept.quarter_flows(ytd)[2] == Decimal("181857774")


def test_missing_quarter_joins_the_next() -> None:
    assert dept.quarter_flows({1: Decimal(100), 3: Decimal(250)}) == {1: Decimal(100), 3: Decimal(150)}


def test_budget_and_projection_bodies(lines: list[dept.Report]) -> None:
    budget = {line["cost_centre"]: line for line in dept.budget_lines(lines, 2022)}
    projections = dept.projections_body(lines, 2022)

    assert budget[POLICE] == {"line": "obligations", "cost_centre": POLICE, "annual": "729347734.0",
                              "spread": "even"}
    assert projections is not None
    assert projections["as_of"] == "2022-06-30"
    police = [item for item in projections["projections"] if item["cost_centre"] == POLICE]
    assert police == [{"cost_centre": POLICE, "projection": "758034454.0"}]


def test_year_with_plan_keeps_revenue_lines(lines: list[dept.Report]) -> None:
    plans = phl.adopted_plans(phl.read_plans(DATA))

    combined = dept.budget_body(plans, lines, 2023)
    alone = dept.budget_body(plans, lines, 2019)

    assert {line["line"] for line in combined["lines"]} >= {"obligations", "sales", "birt"}
    assert combined["budget_id"].endswith("-and-departments")
    assert {line["line"] for line in alone["lines"]} == {"obligations"}
