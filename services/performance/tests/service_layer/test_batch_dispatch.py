"""The batch path: one fetch of many events in one transaction gives what the events one by one give."""

from datetime import date
from decimal import Decimal

import pytest

from ipm_common.events import AlertChanged, BatchEvaluated, EventData, PostedLine
from ipm_common.storage import Database
from ipm_performance.adapters import ledger

from .performance_scenario import (
    ENTITY,
    TAX_TARGET_ALERT,
    WAGE_TARGET_ALERT,
    Feed,
    actuals,
    first_half,
    forecast,
    run_first_batch,
)
from .test_performance_handlers import ARRIVAL_ORDERS, batch_event

# How the four events of batch-1 are split into consecutive fetches.
SPLITS = {"one fetch": [4], "two and two": [2, 2], "three then one": [3, 1], "one then three": [1, 3]}


def fetches(events: list[EventData], split: list[int]) -> list[list[EventData]]:
    found = []
    start = 0
    for size in split:
        found.append(events[start:start + size])
        start += size
    return found


@pytest.mark.asyncio
@pytest.mark.parametrize("split", list(SPLITS.values()), ids=list(SPLITS))
@pytest.mark.parametrize("order", list(ARRIVAL_ORDERS.values()), ids=list(ARRIVAL_ORDERS))
async def test_fetches_match_one_by_one(database: Database, order: list[tuple[str, str]], split: list[int]) -> None:
    feed = Feed(database)
    await feed.seed()

    for fetch in fetches([batch_event(kind, account) for kind, account in order], split):
        await feed.send_fetch(fetch, "batch-1")

    # The same figures as one event at a time: wage tax 72,000,000 against 80,000,000, TAX 108,000,000.
    evaluated = await feed.published(BatchEvaluated)
    assert [(item.batch_id, item.series, item.variance_lines, item.alerts_changed) for item in evaluated] == [
        ("batch-1", 2, 41, 1)]
    alerts = await feed.published(AlertChanged)
    assert [(alert.alert_id, alert.status, alert.value) for alert in alerts] == [
        (WAGE_TARGET_ALERT, "raised", Decimal("72000000"))]
    tax = await feed.variance("TAX", "outlook_vs_target", "FY2024")
    assert tax.value == Decimal("108000000")
    assert tax.correlation_id == "batch-1"
    assert (await feed.variance("TAX", "actual_vs_budget_ytd", "FY2024-P06")).value == Decimal("54000000")


@pytest.mark.asyncio
async def test_fetch_evaluates_line_once(database: Database) -> None:
    feed = Feed(database)
    await feed.seed()

    await feed.send_fetch([forecast("WAGE", "6000000"), forecast("BIRT", "3000000")], "batch-1")
    await feed.send_fetch([actuals("WAGE", first_half("6000000")), actuals("BIRT", first_half("3000000"))],
                          "batch-1")

    # One event at a time evaluates the wage tax outlook twice: with its forecast and at the barrier.
    assert (await feed.variance("WAGE", "outlook_vs_target", "FY2024")).evaluations == 1
    assert (await feed.variance("WAGE", "actual_vs_budget_ytd", "FY2024-P06")).evaluations == 1
    assert len(await feed.published(BatchEvaluated)) == 1


@pytest.mark.asyncio
async def test_fetch_then_single_applies_once(database: Database) -> None:
    feed = Feed(database)
    await feed.seed()
    envelopes = await feed.send_fetch([batch_event(kind, account) for kind, account in ARRIVAL_ORDERS["interleaved"]],
                                      "batch-1")
    outbox = await feed.outbox()

    # After a failed fetch the consume loop hands the same messages to the one-by-one dispatcher.
    for envelope in envelopes:
        await feed.deliver(envelope)
    await feed.deliver_fetch(envelopes)

    assert await feed.outbox() == outbox
    assert len(await feed.rows("postings")) == 12


@pytest.mark.asyncio
async def test_single_then_fetch_applies_once(database: Database) -> None:
    feed = Feed(database)
    await feed.seed()
    first = await feed.send(actuals("WAGE", first_half("6000000")), "batch-1")

    await feed.deliver_fetch([first, first])
    await feed.send_fetch([actuals("BIRT", first_half("3000000")), forecast("WAGE", "6000000"),
                           forecast("BIRT", "3000000")], "batch-1")

    assert [row.forecasts_received for row in await feed.rows("batches")] == [2]
    assert len(await feed.published(BatchEvaluated)) == 1
    assert len(await feed.rows("postings")) == 12


@pytest.mark.asyncio
async def test_versions_in_one_fetch(database: Database) -> None:
    feed = Feed(database)
    await run_first_batch(feed)

    # One fetch re-rolls wage tax twice and re-sends BIRT's P01 under an older ledger version.
    await feed.send_fetch([
        forecast("WAGE", "7200000", version=2, batch_id="batch-2", series_count=1),
        forecast("WAGE", "5000000", version=3, batch_id="batch-2", series_count=1),
        forecast("WAGE", "9999999", version=2, batch_id="batch-2", series_count=1),
        actuals("BIRT", {1: "1"}, ledger_version=0, batch_id="batch-3", series_count=1, source_prefix="old"),
    ], "batch-2")

    # Version 3 wins: 36,000,000 + 6 x 5,000,000 = 66,000,000 for wage tax, and TAX drops to 102,000,000.
    stored = {row.account_id: row for row in await feed.rows("forecasts")}
    assert stored["WAGE"].version == 3
    assert [row.forecasts_received for row in await feed.rows("batches") if row.batch_id == "batch-2"] == [3]
    wage = [alert for alert in await feed.published(AlertChanged) if alert.alert_id == WAGE_TARGET_ALERT]
    assert [(alert.status, alert.value) for alert in wage] == [("raised", Decimal("72000000")),
                                                              ("updated", Decimal("66000000"))]
    tax = [alert for alert in await feed.published(AlertChanged) if alert.alert_id == TAX_TARGET_ALERT]
    assert [(alert.status, alert.value) for alert in tax] == [("raised", Decimal("102000000"))]
    birt = [row for row in await feed.rows("balances") if row.account_id == "BIRT" and row.period == "FY2024-P01"]
    assert [(row.amount, row.ledger_version) for row in birt] == [(Decimal("3000000"), 1)]


@pytest.mark.asyncio
async def test_two_erp_batches_in_one_fetch(database: Database) -> None:
    feed = Feed(database)
    await feed.seed()

    # A consumer that catches up reads batch-1 and the wage tax re-roll of batch-2 in one fetch.
    await feed.send_fetch([
        actuals("WAGE", first_half("6000000")), actuals("BIRT", first_half("3000000")),
        forecast("WAGE", "6000000"), forecast("BIRT", "3000000"),
        forecast("WAGE", "5000000", version=2, batch_id="batch-2", series_count=1),
    ], "catch-up")

    # The stored state is the one after both batches: wage tax 66,000,000 and TAX 102,000,000, both breached.
    assert sorted(item.batch_id for item in await feed.published(BatchEvaluated)) == ["batch-1", "batch-2"]
    alerts = {row.alert_id: row for row in await feed.rows("alerts")}
    assert alerts[WAGE_TARGET_ALERT].value == Decimal("66000000")
    assert alerts[TAX_TARGET_ALERT].value == Decimal("102000000")
    assert {row.status for row in alerts.values()} == {"raised"}
    assert all(row.entity_id == ENTITY for row in alerts.values())


@pytest.mark.asyncio
async def test_many_postings_stored_once(database: Database) -> None:
    feed = Feed(database)
    await feed.seed()
    # 1,200 postings of 5,000 each make up BIRT's P01 balance of 6,000,000, more than one query looks up.
    lines = tuple(PostedLine(source_id=f"birt-slip-{number}", period="FY2024-P01", posting_date=date(2023, 7, 31),
                             amount=Decimal("5000"), ledger_amount=Decimal("-5000"), currency="USD")
                  for number in range(1200))
    posted = actuals("BIRT", {1: "6000000"}, series_count=1).model_copy(update={"postings": lines})

    await feed.send_fetch([posted], "slips")
    await feed.send_fetch([posted.model_copy(update={"batch_id": "resend"})], "slips-again")

    assert len(await feed.rows("postings")) == 1200
    assert ledger.POSTINGS_PER_QUERY < 1200


@pytest.mark.asyncio
async def test_split_series_in_one_fetch(database: Database) -> None:
    feed = Feed(database)
    await feed.seed()

    # Wage tax comes as two actuals events and two re-rolls, so three forecasts complete the batch.
    await feed.send_fetch([
        actuals("WAGE", {number: "6000000" for number in (1, 2, 3)}, series_count=3),
        actuals("WAGE", {number: "6000000" for number in (4, 5, 6)}, series_count=3),
        actuals("BIRT", first_half("3000000"), series_count=3),
        forecast("WAGE", "6000000", version=1, series_count=3),
        forecast("WAGE", "6000000", version=2, series_count=3),
        forecast("BIRT", "3000000", series_count=3),
    ], "batch-1")

    evaluated = await feed.published(BatchEvaluated)
    assert [(item.batch_id, item.series, item.alerts_changed) for item in evaluated] == [("batch-1", 2, 1)]
    assert [row.forecasts_received for row in await feed.rows("batches")] == [3]
