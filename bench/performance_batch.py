"""Time the performance service on synthetic ERP batches, one event at a time and one fetch at a time.

Each month is one ERP batch: every series posts its actuals, then the forecast service re-rolls
every series. The same events run through the one-by-one dispatcher on one SQLite file and
through the batch dispatcher on another. The script prints the time per ERP batch of both paths
and their ratio. It also checks that both databases end with the same variance lines, alerts and
published events.

    .venv/bin/python bench/performance_batch.py --series 38 --months 24
"""

import argparse
import asyncio
import json
import logging
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ipm_common.dispatch import new_event
from ipm_common.envelope import decode, encode
from ipm_common.events import (
    CATALOGUE,
    AccountDefined,
    ActualsPosted,
    BudgetApproved,
    BudgetLine,
    BudgetPeriod,
    EntityRegistered,
    EventData,
    ForecastPoint,
    ForecastRerolled,
    HierarchyChanged,
    HierarchyEdge,
    PeriodBalance,
    PostedLine,
    TargetLine,
    TargetsSet,
)
from ipm_common.messaging import ConsumedMessage
from ipm_common.migrations import upgrade
from ipm_common.periods import PeriodKey
from ipm_common.storage import Database, create_engine
from ipm_performance.adapters import tables
from ipm_performance.entrypoints import subscriptions
from ipm_performance.entrypoints.cli import MIGRATIONS

ENTITY = "BENCH"
FIRST_YEAR = 2020
HORIZON = 18
# Lines with a budget and a target, like the taxes of a five-year plan: three leaves and one node.
PLANNED_LEAVES = 3
PLANNED_NODE = "taxes_a"

Deliver = Callable[[list[ConsumedMessage]], Awaitable[None]]


# --- synthetic events ------------------------------------------------------------------------------


def account(number: int) -> str:
    return f"acct_{number:03d}"


def base_amount(number: int) -> Decimal:
    return Decimal(1_000_000 + 250_000 * number)


def growth(month: int) -> Decimal:
    """Return the trend factor of a month index: revenue grows 3 % a month."""
    return 1 + Decimal("0.03") * month


def collected(number: int, month: int) -> Decimal:
    """Return a series' amount for a month index: its trend and a swing of up to 12 % around it."""
    swing = Decimal((number * 7 + month * 13) % 25 - 12) / 100
    return (base_amount(number) * growth(month) * (1 + swing)).quantize(Decimal(1))


def reference_events(series: int) -> list[EventData]:
    """Register the entity, one revenue account per series and a two-level hierarchy over them."""
    events: list[EventData] = [EntityRegistered(entity_id=ENTITY, name="Bench city", currency="USD",
                                                calendar={"start_month": 7, "year_named_by": "end"}, version=1)]
    events.extend(AccountDefined(account_id=account(number), name=f"Account {number}", account_type="revenue",
                                 statement="income_statement", normal_balance="credit",
                                 direction="higher_is_better", version=1) for number in range(series))
    edges = [HierarchyEdge(child=account(number), parent=f"taxes_{'abc'[number % 3]}") for number in range(series)]
    edges.extend(HierarchyEdge(child=f"taxes_{letter}", parent="total") for letter in "abc")
    events.append(HierarchyChanged(hierarchy="revenue", dimension="account", edges=tuple(edges), version=1))
    return events


def planned_lines() -> list[str]:
    return [*(account(number) for number in range(PLANNED_LEAVES)), PLANNED_NODE]


def planned_monthly(line: str, series: int, plan_month: int) -> Decimal:
    """Return a line's monthly plan figure: the trend of the plan year's middle month, so actuals cross it."""
    if line == PLANNED_NODE:
        base = sum((base_amount(number) for number in range(0, series, 3)), Decimal(0))
    else:
        base = base_amount(int(line.rsplit("_", 1)[1]))
    return (base * growth(plan_month + 6)).quantize(Decimal(1))


def plan_events(month: int, series: int) -> list[EventData]:
    """Adopt a plan at the start of a year: its budget, and targets for it and the two years after.

    The targets are a tenth below the budget, so outlooks breach them when the year gets its outlook.
    """
    fiscal_year = PeriodKey(FIRST_YEAR, 1).shift(month).fiscal_year
    monthly = {line: planned_monthly(line, series, month) for line in planned_lines()}
    targets = tuple(TargetLine(line=line, fiscal_year=year, amount=monthly[line] * 12 * Decimal("0.9"),
                               band_pct=Decimal(0), band_absolute=Decimal(0))
                    for line in planned_lines() for year in range(fiscal_year, fiscal_year + 3))
    budget_lines = tuple(
        BudgetLine(line=line, annual=monthly[line] * 12, spread_method="even",
                   periods=tuple(BudgetPeriod(period=str(PeriodKey(fiscal_year, number)), amount=monthly[line])
                                 for number in range(1, 13)))
        for line in planned_lines()
    )
    return [
        TargetsSet(entity_id=ENTITY, plan_id=f"plan-{fiscal_year}", plan_name="Bench plan", targets=targets,
                   version=fiscal_year),
        BudgetApproved(entity_id=ENTITY, budget_id=f"budget-{fiscal_year}", fiscal_year=fiscal_year, version=1,
                       approved_by="bench", lines=budget_lines),
    ]


def month_events(month: int, series: int) -> tuple[list[EventData], list[EventData]]:
    """Build one ERP batch: the actuals of every series for the month, then every re-rolled forecast."""
    origin = PeriodKey(FIRST_YEAR, 1).shift(month)
    batch_id = f"bench-{origin}"
    ledger_version = month + 1
    actuals: list[EventData] = []
    forecasts: list[EventData] = []
    for number in range(series):
        amount = collected(number, month)
        posting = PostedLine(source_id=f"{account(number)}-{origin}", period=str(origin),
                             posting_date=date(2020, 1, 31), amount=amount, ledger_amount=-amount, currency="USD")
        actuals.append(ActualsPosted(
            entity_id=ENTITY, account_id=account(number), currency="USD", batch_id=batch_id,
            batch_series_count=series, postings=(posting,),
            balances=(PeriodBalance(period=str(origin), amount=amount, ledger_version=ledger_version),)))
        points = tuple(ForecastPoint(period=str(origin.shift(step)), baseline=collected(number, month + step),
                                     value=collected(number, month + step), p10=Decimal(0),
                                     p90=collected(number, month + step) * 2) for step in range(1, HORIZON + 1))
        forecasts.append(ForecastRerolled(
            entity_id=ENTITY, account_id=account(number), forecast_id=f"{account(number)}-{month}", version=month + 1,
            origin=str(origin), method="seasonal_naive", clamped=False, ledger_version=ledger_version,
            batch_id=batch_id, batch_series_count=series, points=points))
    return actuals, forecasts


# --- delivery --------------------------------------------------------------------------------------


class Feeder:
    """Turn events into consumed messages with increasing offsets."""

    def __init__(self) -> None:
        self.offset = 0

    def messages(self, events: Sequence[EventData], correlation_id: str) -> list[ConsumedMessage]:
        found = []
        for data in events:
            envelope = new_event("bench", data, correlation_id=correlation_id)
            self.offset += 1
            found.append(ConsumedMessage(CATALOGUE[envelope.type].topic, 0, self.offset, None, encode(envelope)))
        return found


def one_by_one(database: Database) -> Deliver:
    dispatcher = subscriptions.build_dispatcher(database)

    async def deliver(messages: list[ConsumedMessage]) -> None:
        for message in messages:
            await dispatcher(message)

    return deliver


def in_fetches(database: Database, fetch_size: int) -> Deliver:
    dispatcher = subscriptions.build_batch_dispatcher(database)

    async def deliver(messages: list[ConsumedMessage]) -> None:
        for start in range(0, len(messages), fetch_size):
            poisoned = await dispatcher(messages[start:start + fetch_size])
            if poisoned:
                raise RuntimeError(f"bench events were rejected: {poisoned[0][1]}")

    return deliver


@dataclass
class Run:
    label: str
    seconds_per_batch: list[float]


async def run_path(label: str, url: str, build: Callable[[Database], Deliver], args: argparse.Namespace) -> Run:
    """Feed the whole scenario through one path; time each ERP batch from its first event to its last."""
    database = Database(create_engine(url), tables.outbox, tables.inbox)
    deliver = build(database)
    feeder = Feeder()
    timings: list[float] = []
    try:
        await deliver(feeder.messages(reference_events(args.series), "setup"))
        for month in range(args.months):
            origin = PeriodKey(FIRST_YEAR, 1).shift(month)
            if origin.period == 1:
                await deliver(feeder.messages(plan_events(month, args.series), f"plan-{origin}"))
            actuals, forecasts = month_events(month, args.series)
            fetches = [actuals + forecasts] if args.mixed else [actuals, forecasts]
            messages = [feeder.messages(fetch, f"bench-{origin}") for fetch in fetches]
            started = time.perf_counter()
            for fetch in messages:
                await deliver(fetch)
            timings.append(time.perf_counter() - started)
    finally:
        await database.dispose()
    return Run(label, timings)


# --- comparison of the results ---------------------------------------------------------------------


async def results(url: str) -> dict[str, Any]:
    """Read what a run produced, leaving out timestamps, event ids and how often each line was evaluated."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            variance = sorted(
                tuple(str(value) for key, value in row._mapping.items()
                      if key not in {"evaluations", "first_evaluated_at", "evaluated_at"})
                for row in (await connection.execute(select(tables.variance_lines))).all())
            alerts = sorted(
                tuple(str(value) for key, value in row._mapping.items()
                      if key not in {"raised_at", "updated_at", "resolved_at"})
                for row in (await connection.execute(select(tables.alerts))).all())
            payloads = (await connection.execute(select(tables.outbox.c.payload))).scalars().all()
    finally:
        await engine.dispose()

    events = sorted(json.dumps([envelope.type, envelope.subject, envelope.correlationid, envelope.data],
                               sort_keys=True)
                    for envelope in (decode(payload.encode("utf-8")) for payload in payloads))
    return {"variance_lines": variance, "alerts": alerts, "events": events}


def milliseconds(seconds: list[float]) -> str:
    return (f"median {statistics.median(seconds) * 1000:7.1f} ms, mean {statistics.mean(seconds) * 1000:7.1f} ms, "
            f"max {max(seconds) * 1000:7.1f} ms")


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="ipm-bench-") as folder:
        urls = {name: f"sqlite+aiosqlite:///{Path(folder) / name}.db" for name in ("one_by_one", "batch")}
        for url in urls.values():
            upgrade(MIGRATIONS, url)

        single = await run_path("one by one", urls["one_by_one"], one_by_one, args)
        batched = await run_path("batch", urls["batch"],
                                 lambda database: in_fetches(database, args.fetch_size), args)

        print(f"{args.series} series x {args.months} months, {'mixed' if args.mixed else 'separate'} fetches "
              f"of up to {args.fetch_size} events, SQLite")
        for run in (single, batched):
            print(f"  {run.label:<11} per ERP batch: {milliseconds(run.seconds_per_batch)}")
        ratio = statistics.median(single.seconds_per_batch) / statistics.median(batched.seconds_per_batch)
        print(f"  batch path is {ratio:.1f} times faster (median)")

        first, second = await results(urls["one_by_one"]), await results(urls["batch"])
        for name in first:
            verdict = "identical" if first[name] == second[name] else "DIFFERENT"
            print(f"  {name}: {len(first[name])} vs {len(second[name])}, {verdict}")


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", type=int, default=38, help="series (accounts) per ERP batch")
    parser.add_argument("--months", type=int, default=24, help="ERP batches, one per month")
    parser.add_argument("--fetch-size", type=int, default=200,
                        help="maximum events in one fetch, like the consumer's max_poll_records")
    parser.add_argument("--mixed", action="store_true",
                        help="deliver a batch's actuals and forecasts in one fetch instead of two")
    return parser.parse_args()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(parse_arguments()))
