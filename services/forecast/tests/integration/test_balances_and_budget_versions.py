"""Period balances and budget versions on a migrated SQLite file and a fresh PostgreSQL database."""

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import select

from ipm_common.dispatch import new_event
from ipm_common.errors import InvalidInput, PeriodClosed, PoisonMessage
from ipm_common.events import AccountDefined, EntityRegistered
from ipm_common.messaging import ConsumedMessage
from ipm_common.migrations import upgrade
from ipm_common.storage import Database, create_engine
from ipm_forecast.adapters import repository, tables
from ipm_forecast.domain.balances import BalanceLine
from ipm_forecast.domain.ledger import PostingRequest
from ipm_forecast.entrypoints.cli import MIGRATIONS
from ipm_forecast.entrypoints.subscriptions import Handlers
from ipm_forecast.service_layer import budget_versions
from ipm_forecast.service_layer.balances import ingest_balances
from ipm_forecast.service_layer.budget_lines import BudgetLineRequest
from ipm_forecast.service_layer.budget_versions import LinesInput
from ipm_forecast.service_layer.ingestion import ingest_batch
from ipm_forecast.service_layer.rerolling import reroll_series
from ipm_forecast.settings import ForecastSettings

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

# SHOP keeps a 4-4-5 calendar whose years end on the last Saturday of December; FY2022 has 53 weeks.
SHOP = EntityRegistered(entity_id="SHOP", name="Shop", currency="USD", calendar={"week_pattern": "4-4-5"},
                        version=1)
RENT = AccountDefined(account_id="rent", name="Rent", account_type="expense", statement="income_statement",
                      normal_balance="debit", direction="lower_is_better", version=1)
SALES = AccountDefined(account_id="sales", name="Sales", account_type="revenue", statement="income_statement",
                       normal_balance="credit", direction="higher_is_better", version=1)


@pytest_asyncio.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    upgrade(MIGRATIONS, database_url)
    db = Database(create_engine(database_url), tables.outbox, tables.inbox)
    store = repository.reference
    for handler, data in ((store.on_entity_registered, SHOP), (store.on_account_defined, RENT),
                          (store.on_account_defined, SALES)):
        async with db.transaction() as transaction:
            await handler(transaction, new_event("test", data, correlation_id="seed"), data)  # type: ignore[operator]
    yield db
    await db.dispose()


def ytd(period: int, amount: str, version: int = 1, account: str = "rent") -> BalanceLine:
    return BalanceLine(account, "", f"FY2022-P{period:02d}", "ytd", Decimal(amount), version)


async def outbox(db: Database, event_type: str) -> list[dict[str, Any]]:
    async with db.reading() as connection:
        rows = await connection.execute(select(tables.outbox.c.payload).where(
            tables.outbox.c.event_type == event_type).order_by(tables.outbox.c.position))
        return [json.loads(row.payload) for row in rows]


async def totals(db: Database, account: str = "rent") -> dict[str, str]:
    async with db.reading() as connection:
        found, _ = await repository.period_totals(connection, "SHOP", account, "")
    return {str(period): str(amount) for period, amount in sorted(found.items())}


async def test_ytd_revision_restates_two_periods(database: Database) -> None:
    await ingest_balances(database, [ytd(1, "100"), ytd(2, "250"), ytd(3, "300")], batch_id="B1",
                          entity_id="SHOP", channel="http")

    # Version 2 of P02 (YTD 270) moves 20 from P03 into P02.
    result = await ingest_balances(database, [ytd(2, "270", version=2)], batch_id="B2", entity_id="SHOP",
                                   channel="http")

    assert (result.accepted, result.periods) == (1, 2)
    assert await totals(database) == {"FY2022-P01": "100", "FY2022-P02": "170", "FY2022-P03": "30"}
    events = await outbox(database, "ipm.forecast.actuals.posted")
    assert len(events) == 2
    revision = events[1]["data"]
    assert revision["postings"] == []
    assert [(item["period"], item["amount"]) for item in revision["balances"]] == [
        ("FY2022-P02", "170"), ("FY2022-P03", "30")]
    assert revision["balances"][0]["ledger_version"] > events[0]["data"]["balances"][0]["ledger_version"]
    assert events[1]["correlationid"] == "B2"


async def test_stale_and_replayed_change_nothing(database: Database) -> None:
    await ingest_balances(database, [ytd(1, "100", version=2)], batch_id="B1", entity_id="SHOP", channel="http")

    stale = await ingest_balances(database, [ytd(1, "90", version=1)], batch_id="B2", entity_id="SHOP",
                                  channel="http")
    replay = await ingest_balances(database, [ytd(1, "100", version=2)], batch_id="B3", entity_id="SHOP",
                                   channel="kafka")

    assert (stale.stale, stale.accepted, replay.replayed) == (1, 0, 1)
    assert await totals(database) == {"FY2022-P01": "100"}
    assert len(await outbox(database, "ipm.forecast.actuals.posted")) == 1


async def test_concurrent_batches_apply_one_after_another(database: Database) -> None:
    await ingest_balances(database, [ytd(1, "100"), ytd(3, "400")], batch_id="B0", entity_id="SHOP", channel="http")

    # Six batches revise P02 at once with versions 11 to 16 (YTD 1001 to 1006).
    await asyncio.gather(*(ingest_balances(database, [ytd(2, f"{1000 + number}", version=10 + number)],
                                           batch_id=f"B{number}", entity_id="SHOP", channel="http")
                           for number in range(1, 7)))

    # Version 16 wins: P02 = 1006 − 100 = 906 and P03 = 400 − 1006 = −606, each counted once.
    assert await totals(database) == {"FY2022-P01": "100", "FY2022-P02": "906", "FY2022-P03": "-606"}


async def test_closed_period_rejects_balances(database: Database) -> None:
    async with database.transaction() as transaction:
        await transaction.connection.execute(tables.closed_periods.insert().values(
            entity_id="SHOP", period="FY2022-P01", closed_at=date(2022, 2, 1), closed_by="controller"))

    with pytest.raises(PeriodClosed):
        await ingest_balances(database, [ytd(1, "100")], batch_id="B1", entity_id="SHOP", channel="http")

    assert await totals(database) == {}


async def test_series_with_postings_rejects_balances(database: Database) -> None:
    await ingest_batch(database, [PostingRequest("p1", "SHOP", "rent", "", date(2022, 1, 5), Decimal("5"), "USD")],
                       batch_id="P", channel="http")

    with pytest.raises(InvalidInput) as raised:
        await ingest_balances(database, [ytd(1, "100")], batch_id="B1", entity_id="SHOP", channel="http")

    assert raised.value.details[0]["type"] == "mixed_feed"


async def test_postings_into_balance_series_rejected(database: Database) -> None:
    await ingest_balances(database, [ytd(1, "100")], batch_id="B1", entity_id="SHOP", channel="http")

    with pytest.raises(InvalidInput) as raised:
        await ingest_batch(database, [PostingRequest("p1", "SHOP", "rent", "", date(2022, 1, 5), Decimal("5"),
                                                     "USD")], batch_id="P", channel="http")

    assert raised.value.details[0]["type"] == "mixed_feed"


async def test_reroll_uses_balance_flows(database: Database) -> None:
    await ingest_balances(database, [ytd(1, "100"), ytd(2, "250"), ytd(3, "300")], batch_id="B1",
                          entity_id="SHOP", channel="http")
    envelope = new_event("test", SHOP, correlation_id="B1")

    async with database.transaction() as transaction:
        version = await reroll_series(transaction, envelope, entity_id="SHOP", account_id="rent", cost_centre="",
                                      horizon=18, batch_id="B1", batch_series_count=1)

    forecast = (await outbox(database, "ipm.forecast.forecast.rerolled"))[0]["data"]
    assert version == 1
    assert forecast["origin"] == "FY2022-P03"


def erp_message(document: dict[str, Any], offset: int = 0) -> ConsumedMessage:
    return ConsumedMessage("ipm.erp.postings", 0, offset, b"SHOP", json.dumps(document).encode())


async def test_erp_topic_accepts_balance_batches(database: Database) -> None:
    handlers = Handlers(database, ForecastSettings())
    document = {"batch_id": "tb-1", "entity_id": "SHOP", "lines": [
        {"account_id": "sales", "period": "FY2022-P01", "basis": "period", "amount": "-500.00", "version": 1}]}

    await handlers.erp_postings(erp_message(document))

    assert await totals(database, "sales") == {"FY2022-P01": "500.00"}


async def test_erp_balance_into_closed_period_dead_lettered(database: Database) -> None:
    async with database.transaction() as transaction:
        await transaction.connection.execute(tables.closed_periods.insert().values(
            entity_id="SHOP", period="FY2022-P01", closed_at=date(2022, 2, 1), closed_by="controller"))
    handlers = Handlers(database, ForecastSettings())
    document = {"batch_id": "tb-1", "entity_id": "SHOP", "lines": [
        {"account_id": "sales", "period": "FY2022-P01", "basis": "ytd", "amount": "-1", "version": 1}]}

    with pytest.raises(PoisonMessage) as raised:
        await handlers.erp_postings(erp_message(document))

    assert raised.value.reason == "period_closed"


async def test_days_spread_approved_in_53_week_year(database: Database) -> None:
    # 3,710.00 over FY2022's 371 days: 280.00 per 4-week period and 420.00 for the 6-week P12.
    entered = LinesInput([BudgetLineRequest("rent", "", Decimal("3710.00"), None, "days")], {})
    await budget_versions.create_draft(database, budget_id="shop-2022", entity_id="SHOP", fiscal_year=2022,
                                       by="planner", entered=entered)
    await budget_versions.submit(database, "shop-2022", by="planner")

    approved = await budget_versions.approve(database, "shop-2022", by="cfo")

    events = await outbox(database, "ipm.forecast.budget.approved")
    periods = events[0]["data"]["lines"][0]["periods"]
    assert approved.header.version == 1
    assert events[0]["data"]["lines"][0]["spread_method"] == "days"
    assert (periods[0]["amount"], periods[2]["amount"], periods[11]["amount"]) == ("280.00", "350.00", "420.00")
