from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from ipm_common.errors import Conflict, InvalidInput
from ipm_common.events import Topics
from ipm_common.storage import Database
from ipm_strategy.adapters import repository
from ipm_strategy.domain.hierarchies import Edge
from ipm_strategy.service_layer.organisation import AccountRequest, put_account, put_accounts, put_entity, put_hierarchy

OutboxReader = Callable[[], Awaitable[list[dict[str, Any]]]]

JULY_END_NAMED = {"start_month": 7, "start_day": 1, "year_named_by": "end", "week_pattern": None,
                  "week_year_end": "last", "year_end_weekday": 5}


@pytest.mark.asyncio
async def test_entity_change_publishes_new_version(database: Database, read_outbox: OutboxReader) -> None:
    first = await put_entity(database, "PHL", "Philadelphia", "USD", JULY_END_NAMED, correlation_id="c1")
    repeat = await put_entity(database, "PHL", "Philadelphia", "USD", JULY_END_NAMED, correlation_id="c2")
    renamed = await put_entity(database, "PHL", "City of Philadelphia", "USD", JULY_END_NAMED, correlation_id="c3")

    assert (first.version, first.changed) == (1, True)
    assert (repeat.version, repeat.changed) == (1, False)
    assert (renamed.version, renamed.changed) == (2, True)

    rows = await read_outbox()
    assert [(row["event_type"], row["topic"], row["key"]) for row in rows] == [
        ("ipm.strategy.entity.registered", Topics.REFERENCE, "PHL"),
        ("ipm.strategy.entity.registered", Topics.REFERENCE, "PHL"),
    ]
    assert rows[1]["payload"]["correlationid"] == "c3"
    assert rows[1]["payload"]["data"] == {
        "entity_id": "PHL", "name": "City of Philadelphia", "currency": "USD", "version": 2,
        "calendar": {"start_month": 7, "start_day": 1, "year_named_by": "end", "week_year_end": "last",
                     "year_end_weekday": 5},
    }


@pytest.mark.asyncio
async def test_bulk_accounts_publish_only_changes(database: Database, read_outbox: OutboxReader) -> None:
    requests = [AccountRequest("4100", "Wage tax", "revenue"), AccountRequest("5100", "Salaries", "expense"),
                AccountRequest("1200", "Receivables", "asset", direction="lower_is_better")]
    await put_accounts(database, requests, correlation_id="load")

    requests[1] = AccountRequest("5100", "Salaries and wages", "expense")
    second = await put_accounts(database, requests, correlation_id="rename")

    assert [(saved.version, saved.changed) for saved in second] == [(1, False), (2, True), (1, False)]
    rows = await read_outbox()
    assert [row["key"] for row in rows] == ["4100", "5100", "1200", "5100"]
    assert {row["event_type"] for row in rows} == {"ipm.strategy.account.defined"}
    assert rows[2]["payload"]["data"] == {
        "account_id": "1200", "name": "Receivables", "account_type": "asset", "statement": "balance_sheet",
        "normal_balance": "debit", "direction": "lower_is_better", "non_negative": False, "version": 1,
    }


@pytest.mark.asyncio
async def test_invalid_bulk_item_stores_nothing(database: Database, read_outbox: OutboxReader) -> None:
    requests = [AccountRequest("4100", "Wage tax", "revenue"), AccountRequest("2100", "Payables", "liability")]

    with pytest.raises(InvalidInput) as raised:
        await put_accounts(database, requests, correlation_id="load")

    assert raised.value.field == "[1].direction"
    assert await read_outbox() == []


@pytest.mark.asyncio
async def test_single_account_error_names_bare_field(database: Database) -> None:
    with pytest.raises(InvalidInput) as raised:
        await put_account(database, AccountRequest("2100", "Payables", "liability"), correlation_id="c")

    assert raised.value.field == "direction"


@pytest.mark.asyncio
async def test_hierarchy_replacement_bumps_version(database: Database, read_outbox: OutboxReader) -> None:
    edges = [Edge("wage_tax", "taxes"), Edge("taxes", "general_fund")]
    await put_hierarchy(database, "revenue", "account", edges, correlation_id="c1")
    unchanged = await put_hierarchy(database, "revenue", "account", list(reversed(edges)), correlation_id="c2")
    replaced = await put_hierarchy(database, "revenue", "account", [Edge("bit", "taxes")], correlation_id="c3")

    assert (unchanged.version, unchanged.changed) == (1, False)
    assert (replaced.version, replaced.changed) == (2, True)
    rows = await read_outbox()
    assert [(row["event_type"], row["key"]) for row in rows] == [("ipm.strategy.hierarchy.changed", "revenue")] * 2
    assert rows[1]["payload"]["data"] == {"hierarchy": "revenue", "dimension": "account", "version": 2,
                                          "edges": [{"child": "bit", "parent": "taxes"}]}
    async with database.reading() as connection:
        stored = await repository.hierarchy(connection, "revenue")
    assert stored is not None
    assert stored[0].edges == (Edge("bit", "taxes"),)


@pytest.mark.asyncio
async def test_cyclic_hierarchy_stores_nothing(database: Database, read_outbox: OutboxReader) -> None:
    with pytest.raises(InvalidInput) as raised:
        await put_hierarchy(database, "loop", "entity", [Edge("a", "b"), Edge("b", "a")], correlation_id="c")

    assert raised.value.field == "edges[1]"
    assert await read_outbox() == []
    async with database.reading() as connection:
        assert await repository.hierarchy(connection, "loop") is None


@pytest.mark.asyncio
async def test_currency_change_keeps_stored_entity(database: Database, read_outbox: OutboxReader) -> None:
    await put_entity(database, "ACME", "Acme Ltd", "USD", {}, correlation_id="c1")

    with pytest.raises(Conflict) as raised:
        await put_entity(database, "ACME", "Acme Ltd", "EUR", {}, correlation_id="c2")

    assert raised.value.reason == "immutable_field"
    assert str(raised.value).startswith("currency: entity 'ACME' is registered with 'USD'")
    assert len(await read_outbox()) == 1
    async with database.reading() as connection:
        stored = await repository.entity(connection, "ACME")
    assert stored is not None
    assert (stored[0].currency, stored[1]) == ("USD", 1)


@pytest.mark.asyncio
async def test_calendar_change_keeps_stored_entity(database: Database, read_outbox: OutboxReader) -> None:
    await put_entity(database, "ACME", "Acme Ltd", "USD", {"start_month": 1}, correlation_id="c1")

    with pytest.raises(Conflict) as raised:
        await put_entity(database, "ACME", "Acme Group", "USD", {"start_month": 7}, correlation_id="c2")

    assert raised.value.reason == "immutable_field"
    assert str(raised.value).startswith("calendar.start_month: entity 'ACME' is registered with 1")
    assert len(await read_outbox()) == 1
    async with database.reading() as connection:
        stored = await repository.entity(connection, "ACME")
    assert stored is not None
    assert (stored[0].name, stored[0].calendar.start_month) == ("Acme Ltd", 1)


@pytest.mark.asyncio
async def test_unknown_currency_stores_nothing(database: Database, read_outbox: OutboxReader) -> None:
    with pytest.raises(InvalidInput) as raised:
        await put_entity(database, "ACME", "Acme Ltd", "ZZZ", {}, correlation_id="c1")

    assert raised.value.field == "currency"
    assert await read_outbox() == []


@pytest.mark.asyncio
async def test_account_type_change_conflicts(database: Database, read_outbox: OutboxReader) -> None:
    await put_account(database, AccountRequest("4100", "Sales", "revenue"), correlation_id="c1")

    with pytest.raises(Conflict) as raised:
        await put_account(database, AccountRequest("4100", "Sales", "expense"), correlation_id="c2")

    assert raised.value.reason == "immutable_field"
    assert str(raised.value).startswith("account_type: account '4100' is defined with account_type 'revenue'")
    assert len(await read_outbox()) == 1


@pytest.mark.asyncio
async def test_normal_balance_change_conflicts(database: Database) -> None:
    await put_account(database, AccountRequest("4100", "Sales", "revenue"), correlation_id="c1")

    with pytest.raises(Conflict) as raised:
        await put_account(database, AccountRequest("4100", "Sales", "revenue", normal_balance="debit"),
                          correlation_id="c2")

    assert str(raised.value).startswith("normal_balance: account '4100' is defined with normal_balance 'credit'")


@pytest.mark.asyncio
async def test_account_rename_publishes_new_version(database: Database, read_outbox: OutboxReader) -> None:
    await put_account(database, AccountRequest("1200", "Receivables", "asset", direction="lower_is_better"),
                      correlation_id="c1")

    renamed = await put_account(database, AccountRequest("1200", "Trade receivables", "asset",
                                                         direction="higher_is_better", non_negative=True),
                                correlation_id="c2")

    assert (renamed.version, renamed.changed) == (2, True)
    assert len(await read_outbox()) == 2


@pytest.mark.asyncio
async def test_bulk_fixed_field_change_stores_nothing(database: Database, read_outbox: OutboxReader) -> None:
    await put_accounts(database, [AccountRequest("4100", "Sales", "revenue")], correlation_id="load")
    requests = [AccountRequest("5100", "Salaries", "expense"), AccountRequest("4100", "Sales", "expense")]

    with pytest.raises(Conflict) as raised:
        await put_accounts(database, requests, correlation_id="flip")

    assert raised.value.reason == "immutable_field"
    assert str(raised.value).startswith("[1].account_type: account '4100'")
    assert len(await read_outbox()) == 1
    async with database.reading() as connection:
        stored = await repository.accounts(connection)
    assert list(stored) == ["4100"]
    assert stored["4100"][0].account_type == "revenue"
