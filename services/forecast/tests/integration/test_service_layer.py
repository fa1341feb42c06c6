"""The forecast service layer on a migrated SQLite file and a fresh PostgreSQL database."""

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal

import pytest
import pytest_asyncio
from sqlalchemy import select

from ipm_common.dispatch import new_event
from ipm_common.errors import InvalidInput, PeriodClosed
from ipm_common.events import AccountDefined, EntityRegistered, HierarchyChanged, HierarchyEdge
from ipm_common.migrations import upgrade
from ipm_common.storage import Database, create_engine
from ipm_forecast.adapters import repository, tables
from ipm_forecast.domain.ledger import PostingRequest
from ipm_forecast.entrypoints.cli import MIGRATIONS
from ipm_forecast.service_layer.budgets import BudgetLineRequest, approve_budget
from ipm_forecast.service_layer.ingestion import ingest_batch
from ipm_forecast.service_layer.rerolling import reroll_series

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

CALENDAR = {"start_month": 7, "start_day": 1, "year_named_by": "end"}


@pytest_asyncio.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    upgrade(MIGRATIONS, database_url)
    db = Database(create_engine(database_url), tables.outbox, tables.inbox)
    await seed_reference(db)
    yield db
    await db.dispose()


async def seed_reference(db: Database) -> None:
    store = repository.reference
    events = [
        (store.on_entity_registered, EntityRegistered(entity_id="CITY", name="City", currency="USD",
                                                      calendar=CALENDAR, version=1)),
        (store.on_account_defined, AccountDefined(account_id="tax", name="Tax", account_type="revenue",
                                                  statement="income_statement", normal_balance="credit",
                                                  direction="higher_is_better", non_negative=True, version=1)),
        (store.on_account_defined, AccountDefined(account_id="fees", name="Fees", account_type="revenue",
                                                  statement="income_statement", normal_balance="credit",
                                                  direction="higher_is_better", version=1)),
        (store.on_hierarchy_changed, HierarchyChanged(hierarchy="revenue", dimension="account", version=1, edges=(
            HierarchyEdge(child="tax", parent="total"), HierarchyEdge(child="fees", parent="total")))),
    ]
    for handler, data in events:
        async with db.transaction() as transaction:
            await handler(transaction, new_event("test", data, correlation_id="seed"), data)


def posting(source_id: str, amount: str, day: date, account: str = "tax") -> PostingRequest:
    return PostingRequest(source_id, "CITY", account, "", day, Decimal(amount), "USD")


async def outbox_events(db: Database, event_type: str) -> list[dict[str, object]]:
    async with db.reading() as connection:
        rows = await connection.execute(select(tables.outbox.c.payload).where(
            tables.outbox.c.event_type == event_type).order_by(tables.outbox.c.position))
        return [json.loads(row.payload) for row in rows]


async def test_batch_publishes_one_event_per_series(database: Database) -> None:
    result = await ingest_batch(database, [posting("a", "-100.10", date(2022, 7, 31)),
                                           posting("b", "-0.20", date(2022, 7, 31)),
                                           posting("c", "-5", date(2022, 7, 31), account="fees")],
                                batch_id="B1", channel="http")

    events = await outbox_events(database, "ipm.forecast.actuals.posted")
    assert result.accepted == 3
    assert len(events) == 2
    tax = next(event for event in events if event["data"]["account_id"] == "tax")  # type: ignore[index]
    assert tax["data"]["balances"] == [{"period": "FY2023-P01", "amount": "100.30", "ledger_version": 2}]  # type: ignore[index]
    assert tax["data"]["batch_series_count"] == 2  # type: ignore[index]
    assert tax["correlationid"] == "B1"


async def test_replayed_batch_stores_and_publishes_nothing(database: Database) -> None:
    batch = [posting("a", "-100.10", date(2022, 7, 31))]
    await ingest_batch(database, batch, batch_id="B1", channel="http")

    replay = await ingest_batch(database, batch, batch_id="B1", channel="kafka")

    assert replay.accepted == 0
    assert replay.replayed == 1
    assert len(await outbox_events(database, "ipm.forecast.actuals.posted")) == 1


async def test_concurrent_same_batch_counts_once(database: Database, database_url: str) -> None:
    # A second engine, as a second service process would have: its writes are not serialised with ours.
    other = Database(create_engine(database_url), tables.outbox, tables.inbox)
    batch = [posting("a", "-100.10", date(2022, 7, 31)), posting("b", "-0.20", date(2022, 7, 31))]

    try:
        first, second = await asyncio.gather(ingest_batch(database, batch, batch_id="B1", channel="http"),
                                             ingest_batch(other, batch, batch_id="B1", channel="kafka"))
    finally:
        await other.dispose()

    assert sorted([first.accepted, second.accepted]) == [0, 2]
    assert first.replayed + second.replayed == 2
    assert len(await outbox_events(database, "ipm.forecast.actuals.posted")) == 1


async def test_invalid_batch_stores_nothing(database: Database) -> None:
    with pytest.raises(InvalidInput) as raised:
        await ingest_batch(database, [posting("a", "-1", date(2022, 7, 31)),
                                      posting("b", "-1", date(2022, 7, 31), account="unknown")],
                           batch_id="B1", channel="http")

    assert raised.value.details[0]["field"] == "postings[1].account_id"
    async with database.reading() as connection:
        totals, _ = await repository.period_totals(connection, "CITY", "tax", "")
    assert totals == {}


async def test_closed_period_rejects_batch(database: Database) -> None:
    async with database.transaction() as transaction:
        await transaction.connection.execute(tables.closed_periods.insert().values(
            entity_id="CITY", period="FY2023-P01", closed_at=date(2022, 8, 5), closed_by="controller"))

    with pytest.raises(PeriodClosed):
        await ingest_batch(database, [posting("a", "-1", date(2022, 7, 31))], batch_id="B1", channel="http")


async def test_reroll_zero_fills_gaps_and_versions(database: Database) -> None:
    await ingest_batch(database, [posting("a", "-10", date(2022, 7, 31)), posting("b", "-30", date(2022, 9, 30))],
                       batch_id="B1", channel="http")
    envelope = new_event("test", EntityRegistered(entity_id="x", name="x", currency="USD", calendar={}, version=1),
                         correlation_id="B1")

    async with database.transaction() as transaction:
        first = await reroll_series(transaction, envelope, entity_id="CITY", account_id="tax", cost_centre="",
                                    horizon=18, batch_id="B1", batch_series_count=1)
        second = await reroll_series(transaction, envelope, entity_id="CITY", account_id="tax", cost_centre="",
                                     horizon=18, batch_id="B1", batch_series_count=1)

    events = await outbox_events(database, "ipm.forecast.forecast.rerolled")
    assert (first, second) == (1, 2)
    assert events[0]["data"]["origin"] == "FY2023-P03"  # type: ignore[index]
    assert events[0]["data"]["points"][0]["period"] == "FY2023-P04"  # type: ignore[index]
    assert len(events[0]["data"]["points"]) == 18  # type: ignore[index]
    # Three periods of history (10, 0, 30): the empty August counts as zero, never dropped.
    assert all(Decimal(point["value"]) >= 0 for point in events[0]["data"]["points"])  # type: ignore[index]


async def test_profile_budget_keeps_total_to_cent(database: Database) -> None:
    history = [posting(f"h{month}", f"-{amount}", date(2022 if month >= 7 else 2023, month, 15))
               for month, amount in zip((7, 8, 9, 10, 11, 12, 1, 2, 3, 4, 5, 6),
                                        (10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120), strict=True)]
    await ingest_batch(database, history, batch_id="H", channel="http")

    budget = await approve_budget(database, entity_id="CITY", fiscal_year=2024, approved_by="council",
                                  lines=[BudgetLineRequest("total", "", Decimal("1000000.00"), None, "profile")])

    amounts = [point.amount for point in budget.lines[0].periods]
    assert sum(amounts) == Decimal("1000000.00")
    assert budget.lines[0].spread_method == "profile"
    # July carries 10 of 780 parts of the prior year: 12,820.51 after largest-remainder rounding.
    assert amounts[0] == Decimal("12820.51")


async def test_large_series_is_split_into_events(database: Database) -> None:
    postings = [posting(f"p{number}", "-1.00", date(2022, 7, 31)) for number in range(2500)]

    result = await ingest_batch(database, postings, batch_id="BIG", channel="http")

    events = await outbox_events(database, "ipm.forecast.actuals.posted")
    assert result.accepted == 2500
    assert [len(event["data"]["postings"]) for event in events] == [1000, 1000, 500]  # type: ignore[index]
    assert {event["data"]["batch_series_count"] for event in events} == {3}  # type: ignore[index]
    assert all(len(json.dumps(event)) < 500_000 for event in events)
