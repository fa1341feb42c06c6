from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Table, insert, select, update

from ipm_common.consumer import ConsumerSettings, KafkaConsumerLoop
from ipm_common.dispatch import EventDispatcher, EventHandler, new_event
from ipm_common.envelope import Envelope
from ipm_common.errors import PeriodClosed
from ipm_common.events import BenefitPoint, BenefitsPlanned
from ipm_common.messaging import KafkaPublisher
from ipm_common.relay import OutboxRelay
from ipm_common.storage import Database, Transaction

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

TopicFactory = Callable[..., Awaitable[str]]

BENEFITS_PLANNED = "ipm.projects.benefits.planned"


def _planned(amount: str) -> BenefitsPlanned:
    return BenefitsPlanned(
        project_id="lean-1", name="Lean warehouse", entity_id="ACME", account_id="6100", version=1,
        benefits=(BenefitPoint(period="FY2024-P01", amount=Decimal(amount)),),
    )


def _effects(database: Database) -> Table:
    return database.outbox.metadata.tables["effects"]


def _effect_recorder(database: Database) -> EventHandler:
    """Build a handler that stores the event's first benefit, the effect that must happen only once."""
    effects = _effects(database)

    async def record(transaction: Transaction, envelope: Envelope, data: BenefitsPlanned) -> None:
        await transaction.connection.execute(
            insert(effects).values(event_id=envelope.id, amount=data.benefits[0].amount)
        )

    return record


def _closed_period_rejecter(database: Database) -> EventHandler:
    """Build a handler that writes its effect, then finds the period closed."""
    record = _effect_recorder(database)

    async def reject(transaction: Transaction, envelope: Envelope, data: BenefitsPlanned) -> None:
        await record(transaction, envelope, data)
        raise PeriodClosed(f"{data.benefits[0].period} of {data.entity_id} is closed")

    return reject


async def _publish_through_relay(database: Database, publisher: KafkaPublisher, topic: str,
                                 envelope: Envelope) -> None:
    async with database.transaction() as transaction:
        await transaction.publish(topic, "ACME|6100", envelope)
    await OutboxRelay(database, publisher).publish_pending()


async def _redeliver_through_relay(database: Database, publisher: KafkaPublisher) -> None:
    """Send the outbox again, as a relay that crashed before marking its rows would."""
    async with database.transaction(wake_relay=False) as transaction:
        await transaction.connection.execute(update(database.outbox).values(published_at=None))
    await OutboxRelay(database, publisher).publish_pending()


def _consumer(kafka_bootstrap: str, group_id: str, topic: str, dead_letters: str, dispatcher: EventDispatcher,
              publisher: KafkaPublisher) -> KafkaConsumerLoop:
    settings = ConsumerSettings(
        bootstrap_servers=kafka_bootstrap, group_id=group_id, topics=(topic,), dead_letter_topic=dead_letters
    )
    return KafkaConsumerLoop(settings, dispatcher, publisher)


async def _stored_effects(database: Database) -> list[tuple[str, Decimal]]:
    effects = _effects(database)
    async with database.reading() as connection:
        return [(row.event_id, row.amount) for row in await connection.execute(select(effects))]


async def _inbox_ids(database: Database) -> list[str]:
    async with database.reading() as connection:
        return list((await connection.execute(select(database.inbox.c.event_id))).scalars())


async def test_duplicate_delivery_has_one_effect(database: Database, publisher: KafkaPublisher,
                                                 kafka_bootstrap: str, group_id: str, new_topic: TopicFactory,
                                                 running: Any, wait_until: Any) -> None:
    topic = await new_topic("dispatch-duplicate")
    envelope = new_event("ipm/projects", _planned("1250.10"), correlation_id="batch-7")
    await _publish_through_relay(database, publisher, topic, envelope)
    await _redeliver_through_relay(database, publisher)
    dispatcher = EventDispatcher("performance", database, {BENEFITS_PLANNED: _effect_recorder(database)})
    loop = _consumer(kafka_bootstrap, group_id, topic, await new_topic("dlt"), dispatcher, publisher)

    async with running(loop):
        assert await wait_until(lambda: loop.processed == 2)

    assert await _stored_effects(database) == [(envelope.id, Decimal("1250.10"))]
    assert await _inbox_ids(database) == [envelope.id]
    assert loop.dead_lettered == 0


async def test_conflict_dead_letters_without_effect(database: Database, publisher: KafkaPublisher,
                                                    kafka_bootstrap: str, group_id: str, new_topic: TopicFactory,
                                                    running: Any, wait_until: Any, topic_reader: Any) -> None:
    topic = await new_topic("dispatch-conflict")
    dead_letters = await new_topic("dlt")
    envelope = new_event("ipm/projects", _planned("99.99"), correlation_id="batch-8")
    await _publish_through_relay(database, publisher, topic, envelope)
    dispatcher = EventDispatcher("forecast", database, {BENEFITS_PLANNED: _closed_period_rejecter(database)})
    loop = _consumer(kafka_bootstrap, group_id, topic, dead_letters, dispatcher, publisher)

    async with running(loop):
        assert await wait_until(lambda: loop.dead_lettered == 1)

    [record] = await topic_reader.wait_for(dead_letters, 1)
    assert dict(record.headers)["ipm-reason"] == b"period_closed"
    # The handler's insert and the inbox row were rolled back with the transaction.
    assert await _stored_effects(database) == []
    assert await _inbox_ids(database) == []


async def test_unhandled_type_skipped(database: Database, publisher: KafkaPublisher, kafka_bootstrap: str,
                                      group_id: str, new_topic: TopicFactory, running: Any,
                                      wait_until: Any) -> None:
    topic = await new_topic("dispatch-skip")
    skipped = new_event("ipm/projects", _planned("5.00"), correlation_id="batch-9")
    await _publish_through_relay(database, publisher, topic, skipped)
    dispatcher = EventDispatcher("strategy", database, {"ipm.strategy.review.decided": _effect_recorder(database)})
    loop = _consumer(kafka_bootstrap, group_id, topic, await new_topic("dlt"), dispatcher, publisher)

    async with running(loop):
        assert await wait_until(lambda: loop.processed == 1)

    assert await _inbox_ids(database) == []
    assert loop.dead_lettered == 0
