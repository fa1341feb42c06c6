"""Replay ten years of Philadelphia revenue through the four services and report the outcome."""

import asyncio
import json
import logging
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from ipm_cli.demo import departments
from ipm_cli.demo import philadelphia as phl
from ipm_cli.demo import projects as project_demo
from ipm_cli.demo import sec_plan as sec_demo
from ipm_cli.demo.listener import EvaluationListener
from ipm_cli.reconcile import format_report, read_sent_log, reconcile_when_published
from ipm_cli.stack import SERVICES, LocalStack

logger = logging.getLogger(__name__)

EVALUATION_TIMEOUT = 60.0

# The improvement project of the demo: a sales-tax compliance drive on a line below its plan.
PROJECT_START = date(2022, 7, 1)
PROJECT = {
    "project_id": "sales-tax-compliance",
    "name": "Sales tax compliance drive",
    "owner": "Department of Revenue",
    "phase": "improve",
    "linked_targets": [{"entity_id": phl.ENTITY, "line": "sales", "fiscal_year": 2023}],
    "benefits": [{"entity_id": phl.ENTITY, "account_id": "sales", "period": f"FY2023-P{period:02d}",
                  "amount": "1000000"} for period in range(1, 13)],
}


class Demo:
    def __init__(self, stack: LocalStack, client: httpx.AsyncClient, listener: EvaluationListener,
                 data_dir: Path) -> None:
        self.stack = stack
        self.client = client
        self.listener = listener
        self.collections = phl.read_collections(data_dir)
        self.plans = phl.adopted_plans(phl.read_plans(data_dir))
        self.latencies: list[float] = []
        self.accepted = 0
        self.sent_log = stack.data_dir / "sent.jsonl"

    async def call(self, method: str, service: str, path: str, **kwargs: Any) -> Any:
        if (method, service, path) == ("POST", "forecast", "/v1/actuals"):
            # The log of what the ERP sent, which the reconciliation at the end compares with the databases.
            with self.sent_log.open("a", encoding="utf-8") as log:
                log.write(json.dumps(kwargs["json"]) + "\n")
        response = await self.client.request(method, f"{self.stack.url(service)}{path}", **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {service}{path} failed with {response.status_code}: {response.text[:500]}")
        return response.json()

    async def set_up_organisation(self) -> None:
        accounts = await phl.register_organisation(self.call, self.collections)
        await wait_until(lambda: self._reference_arrived(accounts), "reference data in forecast and performance")
        print(f"demo: organisation set up: {phl.ENTITY_NAME}, {accounts} revenue accounts, hierarchy "
              f"{phl.HIERARCHY!r} with subtotals computed by IPM", flush=True)

    async def _reference_arrived(self, accounts: int) -> bool:
        forecast = await self.call("GET", "forecast", "/v1/reference")
        inputs = await self.call("GET", "performance", "/v1/inputs", params={"entity_id": phl.ENTITY})
        return bool(forecast["accounts"] >= accounts and phl.ENTITY in forecast["entities"]
                    and inputs["entity_registered"] and inputs["accounts"] >= accounts)

    async def adopt_plan(self, fiscal_year: int) -> None:
        figures = self.plans[fiscal_year]
        earlier_years = {figure.fiscal_year for year, plan in self.plans.items() if year < fiscal_year
                         for figure in plan}
        plan = phl.plan_body(fiscal_year, figures, earlier_years)
        budget = phl.budget_body(fiscal_year, figures)
        await self.call("POST", "strategy", "/v1/plans", json=plan)
        await self.call("POST", "forecast", "/v1/budgets", json=budget)
        await wait_until(lambda: self._plan_arrived(fiscal_year, len(budget["lines"])),
                         f"FY{fiscal_year} plan in performance")
        print(f"demo: FY{fiscal_year}: adopted plan {figures[0].plan}: budget of {len(budget['lines'])} taxes, "
              f"{len(plan['targets'])} strategic targets", flush=True)

    async def _plan_arrived(self, fiscal_year: int, budget_lines: int) -> bool:
        inputs = await self.call("GET", "performance", "/v1/inputs", params={"entity_id": phl.ENTITY})
        budget = any(item["fiscal_year"] == fiscal_year and item["lines"] >= budget_lines for item in inputs["budgets"])
        return budget and inputs["targets"].get(str(fiscal_year), 0) > 0

    async def start_project(self) -> None:
        await self.call("POST", "projects", "/v1/projects", json=PROJECT)
        print(f"demo: improvement project {PROJECT['name']!r} plans 12,000,000 of sales-tax benefits in FY2023",
              flush=True)

    async def post_month(self, month: date, postings: list[dict[str, Any]]) -> None:
        batch_id = f"phl-{month:%Y-%m}"
        evaluated = self.listener.expect(batch_id)
        started = asyncio.get_running_loop().time()
        result = await self.call("POST", "forecast", "/v1/actuals", json={"batch_id": batch_id, "postings": postings})
        self.accepted += result["accepted"]
        finished = await asyncio.wait_for(evaluated, EVALUATION_TIMEOUT)
        self.latencies.append((finished - started) * 1000)

    async def replay(self) -> None:
        batches = phl.posting_batches(self.collections)
        for number, (month, postings) in enumerate(batches, start=1):
            fiscal_year = phl.fiscal_year_of(month)
            if month.month == 7 and fiscal_year in self.plans:
                await self.adopt_plan(fiscal_year)
            if month == PROJECT_START:
                await self.start_project()
            if month == project_demo.PROJECT_START:
                await project_demo.start(self.call)
            await self.post_month(month, postings)
            if month.month == 6 or number == len(batches):
                print(f"demo: posted {month:%Y-%m} (FY{fiscal_year}), {self.accepted} actuals so far, "
                      f"last batch evaluated in {self.latencies[-1]:.0f} ms", flush=True)


    async def reconcile(self) -> str:
        """Compare every batch the demo posted with what forecast and performance stored; return the verdict."""
        urls = {service: self.stack.database_url(service) for service in SERVICES}
        report = await reconcile_when_published(read_sent_log(self.sent_log), urls)
        return list(format_report(report, detail=False))[-1]


async def wait_until(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not await check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {seconds} s waiting for {what}")
        await asyncio.sleep(0.05)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


def money(amount: Decimal) -> str:
    return f"{amount / Decimal(1_000_000):,.1f}M"


async def summarise(demo: Demo) -> int:
    """Print the deviations from plan and the reviews; return the number of reviews opened."""
    summary = await demo.call("GET", "performance", "/v1/summary", params={"entity_id": phl.ENTITY})
    requested = int(summary.get("reviews_requested", 0))
    await wait_until(lambda: _reviews_opened(demo, requested), "strategy reviews to open")
    reviews = await demo.call("GET", "strategy", "/v1/reviews", params={"entity_id": phl.ENTITY})

    last_year = max(phl.fiscal_year_of(row.month) for row in demo.collections)
    outlooks = await demo.call("GET", "performance", "/v1/outlooks",
                               params={"entity_id": phl.ENTITY, "fiscal_year": last_year})
    print(f"demo: FY{last_year} full-year outlook against strategic targets:")
    for line in sorted(outlooks.get("lines", []), key=lambda item: item["line"]):
        if line.get("target") is None:
            continue
        outlook, target = Decimal(line["outlook"]), Decimal(line["target"])
        pct = f"{(outlook - target) / abs(target) * 100:+.1f}%" if target else "n/a"
        print(f"demo:   {line['line']:<28} outlook {money(outlook):>10} target {money(target):>10} ({pct})")

    print(f"demo: {len(reviews)} strategy reviews opened, with the figures that opened them:")
    for review in sorted(reviews, key=lambda item: (item["fiscal_year"], item["line"])):
        pct = review.get("variance_pct")
        shown = f"{Decimal(pct) * 100:+.1f}%" if pct is not None else "n/a"
        print(f"demo:   FY{review['fiscal_year']} {review['line']:<28} outlook {money(Decimal(review['outlook']))} "
              f"vs target {money(Decimal(review['target']))} ({shown})")
    return len(reviews)


async def _reviews_opened(demo: Demo, requested: int) -> bool:
    reviews = await demo.call("GET", "strategy", "/v1/reviews", params={"entity_id": phl.ENTITY})
    return len(reviews) >= requested


async def run(data_dir: Path, run_dir: Path) -> int:
    bootstrap = os.environ.get("IPM_KAFKA_BOOTSTRAP") or None
    print(f"demo: starting the broker and four services in {run_dir}", flush=True)
    stack = LocalStack(run_dir, bootstrap=bootstrap)
    with stack:
        listener = EvaluationListener(stack.bootstrap or "")
        await listener.start()
        try:
            async with httpx.AsyncClient(timeout=30) as client:
                demo = Demo(stack, client, listener, data_dir)
                await demo.set_up_organisation()
                await demo.replay()
                department_year = await departments.replay(demo.call, listener, demo.plans, data_dir,
                                                           {phl.fiscal_year_of(row.month) for row in demo.collections})
                reviews = await summarise(demo)
                projects_line = await project_demo.portfolio_line(demo.call)
                plan_line = await sec_demo.compare_cash_flows(demo.call, data_dir)
                stats = await demo.call("GET", "forecast", "/v1/stats")
                reconcile_line = await demo.reconcile()
                performance_line = await departments.performance_line(demo.call, department_year)
        finally:
            await listener.stop()

    p50 = statistics.median(demo.latencies)
    p99 = percentile(demo.latencies, 0.99)
    print(projects_line, flush=True)
    print(performance_line, flush=True)
    print(plan_line, flush=True)
    print(reconcile_line, flush=True)
    print(f"demo: {stats['postings']} actuals, {stats['forecast_versions']} forecasts re-rolled, {reviews} strategy "
          f"reviews opened, actual-to-evaluation latency p50 {p50:.0f} ms p99 {p99:.0f} ms", flush=True)
    return 0


def main(data_dir: Path | None = None, run_dir: Path | None = None) -> int:
    resolved_data = data_dir or Path(os.environ.get("IPM_DATA_DIR", "examples/data"))
    if not (resolved_data / "philadelphia" / "city-collections.csv").exists():
        raise SystemExit(f"demo data not found in {resolved_data}; set IPM_DATA_DIR to the examples/data folder")
    resolved_run = run_dir or Path(".demo") / datetime.now().strftime("%Y%m%d-%H%M%S")
    return asyncio.run(run(resolved_data, resolved_run))
