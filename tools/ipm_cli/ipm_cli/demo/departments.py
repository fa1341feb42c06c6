"""Map the City of Philadelphia's departmental obligations onto IPM: departments are cost centres of PHL-GF.

The quarterly reports give each department's obligations year to date at each quarter end, and
the full-year actual in a later report. IPM receives each quarter's flow as actuals of the expense
account ``obligations``: the year to date at the quarter end minus the year to date at the previous
quarter end, both taken from the latest report that states them. The adopted budget is the
department's budget, and the City's current projection is a projection made outside IPM.
"""

import asyncio
import csv
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from ipm_cli.demo import philadelphia as phl
from ipm_cli.demo.listener import EvaluationListener
from ipm_cli.demo.philadelphia import ENTITY

ACCOUNT = "obligations"
RULE_ID = "department_spending"
FILE = "department-obligations.csv"

# Quarter ends of a July-June fiscal year named by its end year: (month, year offset from the fiscal year).
QUARTER_ENDS = {1: (9, -1), 2: (12, -1), 3: (3, 0), 4: (6, 0)}

# A parent line and the sum of its sub-lines may differ by rounding in the source PDFs.
SUB_LINE_TOLERANCE = Decimal(1)

# The rule the demo sets: spending at least 5 % (warning) or 10 % (critical) above budget and at
# least 1,000,000 above it, year to date or in the City's projection. It opens no strategy review.
DEPARTMENT_RULE: dict[str, Any] = {
    "comparisons": ["actual_vs_budget_ytd", "projection_vs_budget"],
    "cost_centre": "*",
    "entity_id": ENTITY,
    "direction": "unfavourable",
    "pct": "0.05",
    "severity": "warning",
    "tiers": [{"severity": "critical", "pct": "0.10"}],
    "floor": "1000000",
    "opens_review": False,
}


@dataclass(frozen=True)
class Report:
    """One row of the obligations file: a figure of one department line in one report."""

    code: str
    name: str
    fiscal_year: int
    variable: str  # Actual, Adopted Budget, Target Budget or Current Projection
    time_period: str  # YTD or Full Year
    as_of: date
    report: tuple[int, int]  # (report fiscal year, report quarter), later reports compare greater
    total: Decimal


def read_reports(data_dir: Path) -> list[Report]:
    with open(data_dir / "philadelphia" / FILE, newline="") as handle:
        return [Report(row["dept_code"], row["dept_name"], int(row["fiscal_year"]), row["variable"],
                       row["time_period"], date.fromisoformat(row["as_of_date"]),
                       (int(row["report_fiscal_year"]), int(row["report_quarter"])), Decimal(row["total"]))
                for row in csv.DictReader(handle)]


def department_lines(reports: Iterable[Report]) -> list[Report]:
    """Sum the rows of each department line per report, then drop sub-lines that add up to their parent.

    A name ``Parent: Child`` is a sub-line when a line named ``Parent`` (or ``Something: Parent``)
    is in the same report and the sub-lines sum to it. Otherwise it is a line of its own. For
    example, ``Finance: Indemnities`` is not part of the line of the Director of Finance.
    """
    summed: dict[tuple[Any, ...], Report] = {}
    for row in reports:
        key = (row.code, row.fiscal_year, row.variable, row.time_period, row.as_of, row.report)
        found = summed.get(key)
        summed[key] = row if found is None else replace(found, total=found.total + row.total)

    by_report: dict[tuple[Any, ...], list[Report]] = defaultdict(list)
    for row in summed.values():
        by_report[(row.fiscal_year, row.variable, row.time_period, row.as_of, row.report)].append(row)
    kept: list[Report] = []
    for rows in by_report.values():
        kept.extend(_without_sub_lines(rows))
    return sorted(kept, key=lambda row: (row.code, row.fiscal_year, row.variable, row.as_of, row.report))


def _without_sub_lines(rows: list[Report]) -> list[Report]:
    children: dict[str, list[Report]] = defaultdict(list)
    for row in rows:
        parent, separator, _ = row.name.partition(": ")
        if separator:
            children[parent].append(row)

    dropped: set[str] = set()
    for parent, subs in children.items():
        parents = [row for row in rows if row.name == parent or row.name.endswith(f": {parent}")]
        if parents and abs(sum(row.total for row in subs) - parents[0].total) <= SUB_LINE_TOLERANCE:
            dropped.update(row.code for row in subs)
    return [row for row in rows if row.code not in dropped]


def quarter_end(fiscal_year: int, quarter: int) -> date:
    month, offset = QUARTER_ENDS[quarter]
    return date(fiscal_year + offset, month, 30 if month in (9, 6) else 31)


def _latest(rows: Iterable[Report]) -> Report | None:
    return max(rows, key=lambda row: (row.report, row.as_of), default=None)


def year_to_date(lines: list[Report], code: str, fiscal_year: int) -> dict[int, Decimal]:
    """Return the actual year to date at each quarter end that a report states, from the latest such report."""
    rows = [row for row in lines if row.code == code and row.fiscal_year == fiscal_year and row.variable == "Actual"]
    found: dict[int, Decimal] = {}
    for quarter in (1, 2, 3):
        latest = _latest(row for row in rows if row.time_period == "YTD" and row.as_of == quarter_end(fiscal_year,
                                                                                                       quarter))
        if latest is not None:
            found[quarter] = latest.total
    full_year = _latest(row for row in rows if row.time_period == "Full Year")
    if full_year is not None:
        found[4] = full_year.total
    return found


def quarter_flows(ytd: dict[int, Decimal]) -> dict[int, Decimal]:
    """Turn year-to-date figures into each quarter's flow; a quarter without a figure joins the next one."""
    flows: dict[int, Decimal] = {}
    previous = Decimal(0)
    for quarter in sorted(ytd):
        flows[quarter] = ytd[quarter] - previous
        previous = ytd[quarter]
    return flows


def full_year_figure(lines: list[Report], code: str, fiscal_year: int, variable: str) -> Decimal | None:
    """Return the latest full-year figure of ``variable``, such as the adopted budget or the current projection."""
    latest = _latest(row for row in lines if row.code == code and row.fiscal_year == fiscal_year
                     and row.variable == variable and row.time_period == "Full Year")
    return None if latest is None else latest.total


def codes_of(lines: list[Report], fiscal_year: int) -> list[str]:
    return sorted({row.code for row in lines if row.fiscal_year == fiscal_year})


# --- request bodies ------------------------------------------------------------------------------


def account_body() -> dict[str, Any]:
    return {"account_id": ACCOUNT, "name": "Obligations", "account_type": "expense"}


def postings(lines: list[Report], fiscal_year: int) -> list[dict[str, Any]]:
    """Build the year's postings: one per department and quarter, dated at the quarter end, with a stable source id."""
    found = []
    for code in codes_of(lines, fiscal_year):
        for quarter, flow in quarter_flows(year_to_date(lines, code, fiscal_year)).items():
            found.append({"source_id": f"phl-obligations-{code}-FY{fiscal_year}-Q{quarter}", "entity_id": ENTITY,
                          "account_id": ACCOUNT, "cost_centre": code,
                          "posting_date": quarter_end(fiscal_year, quarter).isoformat(),
                          "amount": format(flow, "f"), "currency": "USD"})
    return found


def budget_lines(lines: list[Report], fiscal_year: int) -> list[dict[str, Any]]:
    """Build the adopted budget of each department, spread evenly over the year's months."""
    found = []
    for code in codes_of(lines, fiscal_year):
        adopted = full_year_figure(lines, code, fiscal_year, "Adopted Budget")
        if adopted is not None:
            found.append({"line": ACCOUNT, "cost_centre": code, "annual": format(adopted, "f"), "spread": "even"})
    return found


def projections_body(lines: list[Report], fiscal_year: int) -> dict[str, Any] | None:
    """Build the City's latest current projection of each department for the performance service."""
    items = []
    as_of: date | None = None
    for code in codes_of(lines, fiscal_year):
        latest = _latest(row for row in lines if row.code == code and row.fiscal_year == fiscal_year
                         and row.variable == "Current Projection")
        if latest is not None:
            items.append({"cost_centre": code, "projection": format(latest.total, "f")})
            as_of = max(as_of or latest.as_of, latest.as_of)
    if not items or as_of is None:
        return None
    return {"entity_id": ENTITY, "line": ACCOUNT, "fiscal_year": fiscal_year, "as_of": as_of.isoformat(),
            "source": "City of Philadelphia quarterly report", "projections": items}


# --- the demo steps ------------------------------------------------------------------------------

Call = Callable[..., Awaitable[Any]]
EVALUATION_TIMEOUT = 120.0


async def replay(call: Call, listener: EvaluationListener, plans: dict[int, list[phl.PlanFigure]], data_dir: Path,
                 fiscal_years: Iterable[int]) -> int | None:
    """Post each covered fiscal year's department budgets, quarterly obligations and projections.

    Return the last fiscal year posted, or None when the data covers none of ``fiscal_years``.
    """
    lines = department_lines(read_reports(data_dir))
    years = [year for year in sorted(set(fiscal_years)) if codes_of(lines, year)]
    if not years:
        return None

    before = await _account_counts(call)
    await call("PUT", "strategy", "/v1/accounts", json=[account_body()])
    await _wait_until(lambda: _account_arrived(call, before), f"account {ACCOUNT} in forecast and performance")
    await call("PUT", "performance", f"/v1/rules/{RULE_ID}", json=DEPARTMENT_RULE)
    for fiscal_year in years:
        await _post_year(call, listener, plans, lines, fiscal_year)
    print(f"demo: departments: obligations of {len({row.code for row in lines if row.fiscal_year in years})} "
          f"departments posted quarterly for FY{years[0]}-FY{years[-1]}, with adopted budgets and the City's "
          "projections", flush=True)
    return years[-1]


async def _post_year(call: Call, listener: EvaluationListener, plans: dict[int, list[phl.PlanFigure]],
                     lines: list[Report], fiscal_year: int) -> None:
    budget = budget_body(plans, lines, fiscal_year)
    await call("POST", "forecast", "/v1/budgets", json=budget)
    await _wait_until(lambda: _budget_arrived(call, fiscal_year, budget["budget_id"]),
                      f"FY{fiscal_year} department budget in performance")

    batch_id = f"phl-obligations-FY{fiscal_year}"
    evaluated = listener.expect(batch_id)
    await call("POST", "forecast", "/v1/actuals", json={"batch_id": batch_id, "postings": postings(lines, fiscal_year)})
    await asyncio.wait_for(evaluated, EVALUATION_TIMEOUT)

    projections = projections_body(lines, fiscal_year)
    if projections is not None:
        await call("PUT", "performance", "/v1/projections", json=projections)


def budget_body(plans: dict[int, list[phl.PlanFigure]], lines: list[Report], fiscal_year: int) -> dict[str, Any]:
    """Build the year's budget: the departments, plus the revenue lines of the plan adopted for that year.

    A newer budget version replaces the whole year, so a year with an adopted plan keeps its
    revenue lines in the same version.
    """
    departments = budget_lines(lines, fiscal_year)
    if fiscal_year in plans:
        body = phl.budget_body(fiscal_year, plans[fiscal_year])
        return {**body, "budget_id": f"{body['budget_id']}-and-departments", "lines": [*body["lines"], *departments]}
    return {"budget_id": f"phl-departments-FY{fiscal_year}", "entity_id": ENTITY, "fiscal_year": fiscal_year,
            "approved_by": "City Council (adopted budget)", "lines": departments}


async def _account_counts(call: Call) -> tuple[int, int]:
    forecast = await call("GET", "forecast", "/v1/reference")
    inputs = await call("GET", "performance", "/v1/inputs", params={"entity_id": ENTITY})
    return int(forecast["accounts"]), int(inputs["accounts"])


async def _account_arrived(call: Call, before: tuple[int, int]) -> bool:
    forecast, performance = await _account_counts(call)
    return forecast > before[0] and performance > before[1]


async def _budget_arrived(call: Call, fiscal_year: int, budget_id: str) -> bool:
    inputs = await call("GET", "performance", "/v1/inputs", params={"entity_id": ENTITY})
    return any(item["fiscal_year"] == fiscal_year and item["budget_id"] == budget_id for item in inputs["budgets"])


async def _wait_until(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {seconds} s waiting for {what}")
        await asyncio.sleep(0.05)


async def performance_line(call: Call, fiscal_year: int | None) -> str:
    """Count variance lines and alerts, and the departments with an open breach of the rule in ``fiscal_year``."""
    summary = await call("GET", "performance", "/v1/summary", params={"entity_id": ENTITY})
    raised = sum(summary["alerts_by_status"].values())
    open_alerts = await call("GET", "performance", "/v1/alerts",
                             params={"entity_id": ENTITY, "rule": RULE_ID, "open": "true", "limit": 10_000})
    # Breaches of earlier years stay open because their figures no longer change, so only the
    # last year posted counts.
    off_track = {alert["line"].partition("@")[2] for alert in open_alerts
                 if fiscal_year is not None and alert["period"].startswith(f"FY{fiscal_year}")}
    return (f"performance: {summary['variance_lines']} variance lines evaluated, {raised} alerts raised, "
            f"{len(off_track)} departments off track")
