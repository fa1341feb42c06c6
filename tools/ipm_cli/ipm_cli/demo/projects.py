"""The demo's improvement project with a full charter, and the benefits portfolio summary line.

Philadelphia's sales tax collected 19 % less than the adopted plan in FY2022. The project below
starts on 1 July 2021 (FY2022-P01), passes its define, measure and analyse gates, and has its
planned benefits validated by finance. The projects service then measures each month's realised
benefit against the sales forecast made before the project started.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import Any

from ipm_cli.demo import philadelphia as phl

Call = Callable[..., Awaitable[Any]]

PROJECT_START = date(2021, 7, 1)
MONTHLY_BENEFIT = Decimal("500000")
PROJECT = {
    "project_id": "sales-tax-registration",
    "name": "Sales tax registration drive",
    "owner": "Department of Revenue",
    "sponsor": "Director of Finance",
    "problem": "Sales tax collections run below the adopted five-year plan",
    "goal": "Register unregistered vendors and raise monthly sales tax collections by 500,000",
    "scope": "Sales tax in the General Fund, FY2022",
    "start_date": PROJECT_START.isoformat(),
    "phase": "define",
    "milestones": [{"name": "vendor list matched", "due": "2021-09-30", "done": "2021-09-28"},
                   {"name": "registration letters sent", "due": "2021-12-31", "done": "2022-01-14"}],
    "linked_targets": [{"entity_id": phl.ENTITY, "line": "sales", "fiscal_year": 2022}],
    "benefits": [{"entity_id": phl.ENTITY, "account_id": "sales", "period": f"FY2022-P{period:02d}",
                  "amount": format(MONTHLY_BENEFIT, "f"), "benefit_type": "revenue_uplift"}
                 for period in range(1, 13)],
}
GATES_BEFORE_IMPROVE = ("define", "measure", "analyse")


async def start(call: Call) -> None:
    """Create the project, approve its gates up to the improve phase and validate its benefits."""
    project_id = PROJECT["project_id"]
    await call("POST", "projects", "/v1/projects", json=PROJECT)
    for phase in GATES_BEFORE_IMPROVE:
        await call("POST", "projects", f"/v1/projects/{project_id}/gates",
                   json={"phase": phase, "decision": "approved", "decided_by": PROJECT["sponsor"],
                         "comment": f"{phase} gate passed"})
    await call("POST", "projects", f"/v1/projects/{project_id}/benefits/{phl.ENTITY}/sales/validation",
               json={"validated_by": "Budget Office", "comment": "vendor list checked against FY2021 filings"})
    print(f"demo: improvement project {PROJECT['name']!r} passed {len(GATES_BEFORE_IMPROVE)} gates and plans "
          f"{MONTHLY_BENEFIT * 12:,.0f} of validated sales-tax benefits in FY2022", flush=True)


async def portfolio_line(call: Call, seconds: float = 60.0) -> str:
    """Wait until every planned period with actuals is measured, then summarise the benefits portfolio."""
    deadline = time.monotonic() + seconds
    while not await _all_measured(call):
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {seconds} s waiting for the projects service to measure benefits")
        await asyncio.sleep(0.1)

    portfolio = await call("GET", "projects", "/v1/portfolio", params={"entity_id": phl.ENTITY})
    planned = ", ".join(_money(item["expected"], item["currency"]) for item in portfolio["totals"]) or "none"
    realised = ", ".join(_money(item["realised"], item["currency"]) for item in portfolio["totals"]) or "none"
    return f"projects: {len(portfolio['projects'])} projects, planned benefits {planned}, realised {realised}"


async def _all_measured(call: Call) -> bool:
    """Check that each project line's realisation covers every planned period the ledger has actuals for."""
    for project in await call("GET", "projects", "/v1/projects"):
        for line in await call("GET", "projects", f"/v1/projects/{project['project_id']}/benefits"):
            actuals = await call("GET", "forecast", f"/v1/actuals/{line['entity_id']}/{line['account_id']}")
            posted = {balance["period"] for balance in actuals["periods"]}
            if any(period["realised"] is None and period["period"] in posted and period["baseline"] is not None
                   for period in line["periods"]):
                return False
    return True


def _money(amount: str, currency: str) -> str:
    return f"{Decimal(amount):,.2f} {currency}"
