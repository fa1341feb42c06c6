import asyncio
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.exc import StatementError

from ipm_common.envelope import Envelope, encode
from ipm_common.storage import Database, create_engine, sum_money

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


def _envelope(event_type: str = "ipm.strategy.review.decided") -> Envelope:
    return Envelope(source="test", type=event_type, correlationid="c-1", schemaversion="1.0", data={"n": 1})


def _table(database: Database, name: str) -> Table:
    return database.outbox.metadata.tables[name]


async def _store_amounts(database: Database, amounts: list[Decimal]) -> list[Decimal]:
    """Insert ``amounts`` and read them back in insertion order."""
    table = _table(database, "amounts")
    async with database.transaction() as transaction:
        await transaction.connection.execute(insert(table), [{"amount": amount} for amount in amounts])
    async with database.reading() as connection:
        return list((await connection.execute(select(table.c.amount).order_by(table.c.id))).scalars())


async def _count(database: Database, table: Table) -> int:
    async with database.reading() as connection:
        return int((await connection.execute(select(func.count()).select_from(table))).scalar_one())


@pytest.mark.parametrize("amount", ["12345678901234567890.12", "-0.01", "0.10", "0", "99999999999999999999.999999"])
async def test_money_column_round_trips_exactly(database: Database, amount: str) -> None:
    [stored] = await _store_amounts(database, [Decimal(amount)])

    assert isinstance(stored, Decimal)
    assert stored == Decimal(amount)


async def test_money_column_keeps_scale(database: Database) -> None:
    stored = await _store_amounts(database, [Decimal("12345678901234567890.12"), Decimal("-0.01")])

    assert [str(amount) for amount in stored] == ["12345678901234567890.12", "-0.01"]


async def test_money_column_keeps_null(database: Database) -> None:
    table = _table(database, "amounts")
    async with database.transaction() as transaction:
        await transaction.connection.execute(insert(table).values(amount=None))

    async with database.reading() as connection:
        assert (await connection.execute(select(table.c.amount))).scalar_one() is None


async def test_money_column_rejects_float(database: Database) -> None:
    table = _table(database, "amounts")

    with pytest.raises(StatementError) as caught:
        async with database.transaction() as transaction:
            await transaction.connection.execute(insert(table).values(amount=0.1))

    assert isinstance(caught.value.orig, TypeError)


async def test_sum_money_of_stored_tenths_is_exact(database: Database) -> None:
    stored = await _store_amounts(database, [Decimal("0.1")] * 100)

    assert sum_money(stored) == Decimal("10.0")


async def test_sql_sum_on_sqlite_is_inexact(tmp_path: Path) -> None:
    # SQLite's SUM adds the decimal text as binary floats, which is why sums are taken in Python.
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'sum.db'}")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE amounts (amount VARCHAR(64))"))
            await connection.execute(text("INSERT INTO amounts VALUES (:amount)"), [{"amount": "0.1"}] * 100)
            sql_total = (await connection.execute(text("SELECT SUM(amount) FROM amounts"))).scalar_one()
    finally:
        await engine.dispose()

    assert isinstance(sql_total, float)
    assert Decimal(repr(sql_total)) != Decimal("10.0")


async def test_publish_writes_outbox_row(database: Database) -> None:
    envelope = _envelope()

    async with database.transaction() as transaction:
        await transaction.publish("ipm.strategy.reviews", "review-1", envelope)

    async with database.reading() as connection:
        row = (await connection.execute(select(database.outbox))).one()
    assert row.event_id == envelope.id
    assert row.event_type == "ipm.strategy.review.decided"
    assert row.topic == "ipm.strategy.reviews"
    assert row.key == "review-1"
    assert row.payload == encode(envelope).decode()
    assert row.published_at is None


async def test_outbox_positions_follow_publish_order(database: Database) -> None:
    envelopes = [_envelope() for _ in range(5)]

    async with database.transaction() as transaction:
        for envelope in envelopes[:3]:
            await transaction.publish("ipm.test", "k", envelope)
    async with database.transaction() as transaction:
        for envelope in envelopes[3:]:
            await transaction.publish("ipm.test", "k", envelope)

    async with database.reading() as connection:
        rows = (await connection.execute(select(database.outbox.c.event_id).order_by(database.outbox.c.position))).all()
    assert [row.event_id for row in rows] == [envelope.id for envelope in envelopes]


async def test_mark_processed_only_once(database: Database) -> None:
    envelope = _envelope()

    async with database.transaction() as transaction:
        first = await transaction.mark_processed("performance", envelope)
    async with database.transaction() as transaction:
        redelivered = await transaction.mark_processed("performance", envelope)

    assert first is True
    assert redelivered is False
    assert await _count(database, database.inbox) == 1


async def test_mark_many_returns_only_new_ids(database: Database) -> None:
    seen, first, second = _envelope(), _envelope(), _envelope()
    async with database.transaction() as transaction:
        await transaction.mark_processed("performance", seen)

    async with database.transaction() as transaction:
        fresh = await transaction.mark_many_processed("performance", [seen, first, second, first])
    async with database.transaction() as transaction:
        again = await transaction.mark_many_processed("performance", [first, second])

    assert fresh == {first.id, second.id}
    assert again == set()
    assert await _count(database, database.inbox) == 3


async def test_mark_processed_per_consumer(database: Database) -> None:
    envelope = _envelope()

    async with database.transaction() as transaction:
        assert await transaction.mark_processed("performance", envelope) is True
        assert await transaction.mark_processed("forecast", envelope) is True


async def test_rollback_leaves_no_outbox_or_inbox(database: Database) -> None:
    envelope = _envelope()

    with pytest.raises(RuntimeError, match="handler failed"):
        async with database.transaction() as transaction:
            await transaction.mark_processed("performance", envelope)
            await transaction.publish("ipm.test", "k", _envelope())
            raise RuntimeError("handler failed")

    assert await _count(database, database.outbox) == 0
    assert await _count(database, database.inbox) == 0


async def test_rolled_back_event_processes_again(database: Database) -> None:
    envelope = _envelope()
    with pytest.raises(RuntimeError):
        async with database.transaction() as transaction:
            await transaction.mark_processed("performance", envelope)
            raise RuntimeError("handler failed")

    async with database.transaction() as transaction:
        retried = await transaction.mark_processed("performance", envelope)

    assert retried is True


async def _wait_for_lock_wait(database: Database) -> None:
    """On PostgreSQL, wait until a session of this database waits for a row lock."""
    if database.engine.dialect.name != "postgresql":
        return
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = asyncio.get_running_loop().time() + 10
    while asyncio.get_running_loop().time() < deadline:
        async with database.engine.connect() as connection:
            if (await connection.execute(query)).scalar_one() > 0:
                return
        await asyncio.sleep(0.05)
    raise TimeoutError("the second transaction never waited for the first one's inbox row")


async def test_concurrent_duplicate_marked_once(database: Database) -> None:
    envelope = _envelope()

    async def mark_in_second_transaction() -> bool:
        async with database.transaction() as transaction:
            return await transaction.mark_processed("performance", envelope)

    async with database.transaction() as transaction:
        first = await transaction.mark_processed("performance", envelope)
        # On PostgreSQL the second insert blocks on the unique key until this commit, then fails.
        second_task = asyncio.create_task(mark_in_second_transaction())
        await _wait_for_lock_wait(database)
    second = await asyncio.wait_for(second_task, 10)

    assert first is True
    assert second is False
    assert await _count(database, database.inbox) == 1


async def test_commit_wakes_relay(database: Database) -> None:
    async with database.transaction() as transaction:
        await transaction.publish("ipm.test", "k", _envelope())

    assert database.committed.is_set()


async def test_rollback_does_not_wake_relay(database: Database) -> None:
    with pytest.raises(RuntimeError):
        async with database.transaction() as transaction:
            await transaction.publish("ipm.test", "k", _envelope())
            raise RuntimeError("handler failed")

    assert not database.committed.is_set()


async def test_reader_runs_beside_open_write(database: Database) -> None:
    table = _table(database, "amounts")

    async with database.transaction() as transaction:
        await transaction.connection.execute(insert(table).values(amount=Decimal(1)))
        # On SQLite a reader that took the write lock would wait here for the busy timeout.
        count = await asyncio.wait_for(_count(database, table), 5)

    assert count == 0
