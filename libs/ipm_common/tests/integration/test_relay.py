import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import select, update

from ipm_common.envelope import Envelope, decode, encode
from ipm_common.messaging import KafkaPublisher
from ipm_common.relay import OutboxRelay
from ipm_common.storage import Database

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

TopicFactory = Callable[..., Awaitable[str]]


def _envelope(number: int) -> Envelope:
    return Envelope(source="test", type="ipm.test.counted", correlationid="c-1", schemaversion="1.0",
                    data={"number": number})


async def _publish(database: Database, topic: str, key: str, count: int, first: int = 0) -> list[Envelope]:
    """Commit ``count`` numbered events to the outbox in one transaction."""
    envelopes = [_envelope(first + number) for number in range(count)]
    async with database.transaction() as transaction:
        for envelope in envelopes:
            await transaction.publish(topic, key, envelope)
    return envelopes


async def _unpublished(database: Database) -> int:
    async with database.reading() as connection:
        query = select(database.outbox.c.position).where(database.outbox.c.published_at.is_(None))
        return len((await connection.execute(query)).all())


async def _forget_published(database: Database) -> None:
    """Clear ``published_at`` as a relay that crashed after the broker's acknowledgement would leave it."""
    async with database.transaction(wake_relay=False) as transaction:
        await transaction.connection.execute(update(database.outbox).values(published_at=None))


async def test_relay_publishes_in_position_order(database: Database, publisher: KafkaPublisher,
                                                 new_topic: TopicFactory, topic_reader: Any) -> None:
    topic = await new_topic("relay-order")
    first = await _publish(database, topic, "ACME|4000", 3)
    second = await _publish(database, topic, "ACME|4000", 3, first=3)

    sent = await OutboxRelay(database, publisher).publish_pending()

    records = await topic_reader.read_all(topic)
    assert sent == 6
    assert [decode(record.value).id for record in records] == [envelope.id for envelope in first + second]


async def test_relay_sends_key_and_payload(database: Database, publisher: KafkaPublisher,
                                           new_topic: TopicFactory, topic_reader: Any) -> None:
    topic = await new_topic("relay-key")
    [envelope] = await _publish(database, topic, "ACME|4000", 1)

    await OutboxRelay(database, publisher).publish_pending()

    [record] = await topic_reader.read_all(topic)
    assert record.topic == topic
    assert record.key == b"ACME|4000"
    assert record.value == encode(envelope)


async def test_relay_routes_rows_to_their_topics(database: Database, publisher: KafkaPublisher,
                                                 new_topic: TopicFactory, topic_reader: Any) -> None:
    actuals = await new_topic("relay-actuals")
    budgets = await new_topic("relay-budgets")
    [to_actuals] = await _publish(database, actuals, "ACME", 1)
    [to_budgets] = await _publish(database, budgets, "ACME", 1, first=1)

    await OutboxRelay(database, publisher).publish_pending()

    assert [decode(record.value).id for record in await topic_reader.read_all(actuals)] == [to_actuals.id]
    assert [decode(record.value).id for record in await topic_reader.read_all(budgets)] == [to_budgets.id]


async def test_relay_marks_rows_published(database: Database, publisher: KafkaPublisher,
                                          new_topic: TopicFactory) -> None:
    topic = await new_topic("relay-mark")
    await _publish(database, topic, "ACME", 4)
    relay = OutboxRelay(database, publisher)

    await relay.publish_pending()

    assert await _unpublished(database) == 0
    assert await relay.backlog() == 0
    assert await relay.publish_pending() == 0


async def test_relay_sends_one_batch_per_call(database: Database, publisher: KafkaPublisher,
                                              new_topic: TopicFactory) -> None:
    topic = await new_topic("relay-batch")
    await _publish(database, topic, "ACME", 5)
    relay = OutboxRelay(database, publisher, batch_size=2)

    sent = [await relay.publish_pending() for _ in range(4)]

    assert sent == [2, 2, 1, 0]


async def test_relay_resends_backlog_after_crash(database: Database, publisher: KafkaPublisher,
                                                 new_topic: TopicFactory, topic_reader: Any) -> None:
    topic = await new_topic("relay-crash")
    before_crash = await _publish(database, topic, "ACME", 3)
    await OutboxRelay(database, publisher).publish_pending()
    await _forget_published(database)
    after_crash = await _publish(database, topic, "ACME", 2, first=3)

    restarted = OutboxRelay(database, publisher)
    resent = await restarted.publish_pending()

    ids = [decode(record.value).id for record in await topic_reader.read_all(topic)]
    assert resent == 5
    # Duplicates are allowed but loss is not, so every event arrives and the first three arrive twice.
    assert ids == [envelope.id for envelope in before_crash + before_crash + after_crash]
    assert await restarted.backlog() == 0


async def test_relay_run_wakes_on_commit(database: Database, publisher: KafkaPublisher,
                                         new_topic: TopicFactory, wait_until: Any) -> None:
    topic = await new_topic("relay-wake")
    await _publish(database, topic, "ACME", 1)
    # The poll interval is far longer than the wait below, so only the commit's wake-up can publish in time.
    relay = OutboxRelay(database, publisher, poll_interval=300)
    task = asyncio.create_task(relay.run())
    try:
        assert await wait_until(lambda: relay.published == 1)

        await _publish(database, topic, "ACME", 1, first=1)

        assert await wait_until(lambda: relay.published == 2, 10)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_payload_stays_valid_json(database: Database, publisher: KafkaPublisher,
                                        new_topic: TopicFactory, topic_reader: Any) -> None:
    topic = await new_topic("relay-json")
    await _publish(database, topic, "ACME", 1)

    await OutboxRelay(database, publisher).publish_pending()

    [record] = await topic_reader.read_all(topic)
    assert json.loads(record.value)["data"] == {"number": 0}
