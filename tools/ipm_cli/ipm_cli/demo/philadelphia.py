"""Map the City of Philadelphia's published revenue data onto IPM's organisation model.

Collections are monthly General Fund revenue by line. The file also contains subtotal lines,
which IPM leaves out and recomputes through its own hierarchy. The five-year plans give the
figure each plan vintage expected per tax and fiscal year. A year's budget is the figure of the
plan adopted at its start, and its strategic target is the figure of the first adopted plan that
covered it.
"""

import calendar
import csv
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

ENTITY = "PHL-GF"
ENTITY_NAME = "City of Philadelphia General Fund"

# Subtotals published in the collections file; IPM computes its own from the leaves.
SUBTOTALS = {
    "all_taxes", "wage", "earnings", "net_profits", "wage_earnings_net_profits", "wage_earnings_net_profits_city",
    "wage_earnings_net_profits_pica", "total_local_nontax_revenue", "total_revenue_other_govts",
}

# Plan tax names and the line IPM compares them with. "Wage" covers the wage and earnings taxes
# (the net profits tax has its own plan line, "NPT"); the plan figures are the City's share only.
PLAN_LINES = {
    "Amusement": "amusement",
    "BIRT": "birt",
    "NPT": "net_profits_city",
    "Parking": "parking",
    "RTT": "real_estate_transfer",
    "Sales": "sales",
    "Wage": "wage_earnings_city",
}

HIERARCHY = "revenue"


@dataclass(frozen=True)
class Collection:
    line: str
    kind: str
    month: date  # first day of the collection month
    amount: Decimal


@dataclass(frozen=True)
class PlanFigure:
    plan: str
    kind: str
    first_fiscal_year: int
    fiscal_year: int
    tax: str
    amount: Decimal


def read_collections(data_dir: Path) -> list[Collection]:
    """Read the leaf revenue lines; subtotal lines are dropped."""
    rows = []
    with open(data_dir / "philadelphia" / "city-collections.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["name"] in SUBTOTALS:
                continue
            # NOTE: the file writes whole dollars with a trailing ".0"; Decimal keeps them exact.
            rows.append(Collection(row["name"], row["kind"], date.fromisoformat(row["date"]), Decimal(row["total"])))
    return rows


def read_plans(data_dir: Path) -> list[PlanFigure]:
    with open(data_dir / "philadelphia" / "five_year_plan_tax_revenue_plans.csv", newline="") as handle:
        return [PlanFigure(row["plan"], row["plan_kind"], int(row["plan_first_fy"]), int(row["fiscal_year"]),
                           row["tax"], Decimal(row["planned_revenue_usd"])) for row in csv.DictReader(handle)]


def entity_body() -> dict[str, Any]:
    # Fiscal year July-June, named by the calendar year in which it ends (FY2023 = July 2022-June 2023).
    return {"name": ENTITY_NAME, "currency": "USD",
            "calendar": {"start_month": 7, "start_day": 1, "year_named_by": "end"}}


def account_bodies(collections: list[Collection]) -> dict[str, dict[str, Any]]:
    """Define one revenue account per leaf line; a line never negative in the file is non-negative."""
    negative = {row.line for row in collections if row.amount < 0}
    lines = sorted({row.line for row in collections})
    return {line: {"name": line.replace("_", " ").capitalize(), "account_type": "revenue",
                   "non_negative": line not in negative} for line in lines}


def hierarchy_edges(collections: list[Collection]) -> list[dict[str, str]]:
    """Build the revenue tree: city taxes, the PICA share, local non-tax and other governments."""
    kind_of = {row.line: row.kind for row in collections}
    special = {
        "wage_city": "wage_earnings_city", "earnings_city": "wage_earnings_city",
        "wage_earnings_city": "wage_earnings_net_profits_city", "net_profits_city": "wage_earnings_net_profits_city",
        "wage_earnings_net_profits_city": "city_taxes",
        "wage_pica": "pica_taxes", "earnings_pica": "pica_taxes", "net_profits_pica": "pica_taxes",
        "city_taxes": "total_revenue", "pica_taxes": "total_revenue",
        "local_non_tax": "total_revenue", "other_governments": "total_revenue",
    }
    parent_by_kind = {"Tax": "city_taxes", "Non-Tax": "local_non_tax", "Other Govt": "other_governments"}
    edges = dict(special)
    for line, kind in kind_of.items():
        edges.setdefault(line, parent_by_kind[kind])
    return [{"child": child, "parent": parent} for child, parent in sorted(edges.items())]


def posting_batches(collections: list[Collection]) -> list[tuple[date, list[dict[str, Any]]]]:
    """Group collections into one ERP batch per month, posted on the month's last day.

    ERP ledgers are debit-positive, so a revenue collection is posted as a negative amount.
    """
    by_month: dict[date, list[Collection]] = defaultdict(list)
    for row in collections:
        by_month[row.month].append(row)

    batches = []
    for month in sorted(by_month):
        month_end = month.replace(day=calendar.monthrange(month.year, month.month)[1])
        postings = [
            {"source_id": f"phl-{row.line}-{month:%Y-%m}", "entity_id": ENTITY, "account_id": row.line,
             "posting_date": month_end.isoformat(), "amount": format(-row.amount, "f"), "currency": "USD"}
            for row in sorted(by_month[month], key=lambda item: item.line)
        ]
        batches.append((month, postings))
    return batches


def adopted_plans(plans: list[PlanFigure]) -> dict[int, list[PlanFigure]]:
    """Map each adopted plan's first fiscal year to its figures."""
    adopted: dict[int, list[PlanFigure]] = defaultdict(list)
    for figure in plans:
        if figure.kind == "Adopted":
            adopted[figure.first_fiscal_year].append(figure)
    return dict(adopted)


def plan_body(first_year: int, figures: list[PlanFigure], earlier_years: set[int]) -> dict[str, Any]:
    """Build the strategy service's plan: all figures as lines, targets for years no earlier plan covered."""
    lines = [{"line": PLAN_LINES[figure.tax], "fiscal_year": figure.fiscal_year, "amount": format(figure.amount, "f")}
             for figure in figures]
    targets = [line for line, figure in zip(lines, figures, strict=True) if figure.fiscal_year not in earlier_years]
    return {"plan_id": figures[0].plan, "entity_id": ENTITY, "name": f"Five-year plan {figures[0].plan}",
            "kind": "adopted", "adopted_for_fiscal_year": first_year, "lines": lines, "targets": targets}


def budget_body(first_year: int, figures: list[PlanFigure]) -> dict[str, Any]:
    """Build the budget of the plan's first year, spread by the prior year's monthly profile."""
    lines = [{"line": PLAN_LINES[figure.tax], "annual": format(figure.amount, "f"), "spread": "profile"}
             for figure in figures if figure.fiscal_year == first_year]
    return {"budget_id": f"{figures[0].plan}-budget", "entity_id": ENTITY, "fiscal_year": first_year,
            "approved_by": "City Council (adopted five-year plan)", "lines": lines}


def fiscal_year_of(month: date) -> int:
    return month.year + 1 if month.month >= 7 else month.year


ServiceCall = Callable[..., Awaitable[Any]]
"""Call a service's HTTP API: method, service name, path and httpx keyword arguments; return the JSON body."""


async def register_organisation(call: ServiceCall, collections: list[Collection]) -> int:
    """Register the entity, its revenue accounts and its revenue hierarchy in strategy; return the account count."""
    accounts = account_bodies(collections)
    await call("PUT", "strategy", f"/v1/entities/{ENTITY}", json=entity_body())
    await call("PUT", "strategy", "/v1/accounts",
               json=[{"account_id": account_id, **body} for account_id, body in accounts.items()])
    await call("PUT", "strategy", f"/v1/hierarchies/{HIERARCHY}",
               json={"dimension": "account", "edges": hierarchy_edges(collections)})
    return len(accounts)
