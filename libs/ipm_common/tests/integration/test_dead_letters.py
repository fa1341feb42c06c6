"""Dead letters on a real broker: listed with their reasons, replayed once their cause is fixed."""

from typing import Any

import pytest

from ipm_common.consumer import ConsumerSettings, KafkaConsumerLoop
from ipm_common.dead_letters import REPLAYED_FROM_HEADER, read_dead_letters, replay
from ipm_common.errors import PoisonMessage
from ipm_common.messaging import ConsumedMessage, KafkaPublisher

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

ENVELOPE = b'{"id": "evt-7", "type": "ipm.forecast.actuals.posted", "data": {}}'


class PeriodGate:
    """A handler that rejects every message as posted into a closed period until the period reopens."""

    def __init__(self) -> None:
        self.closed = True
        self.handled: list[ConsumedMessage] = []

    async def __call__(self, message: ConsumedMessage) -> None:
        if self.closed:
            raise PoisonMessage("FY2024-P03 is closed", reason="period_closed")
        self.handled.append(message)


def _loop(kafka_bootstrap: str, group_id: str, topic: str, dead_letters: str, handler: PeriodGate,
          publisher: KafkaPublisher) -> KafkaConsumerLoop:
    settings = ConsumerSettings(bootstrap_servers=kafka_bootstrap, group_id=group_id, topics=(topic,),
                                dead_letter_topic=dead_letters)
    return KafkaConsumerLoop(settings, handler, publisher)


async def test_dead_letter_replayed_after_reopen(
    kafka_bootstrap: str, group_id: str, publisher: KafkaPublisher, new_topic: Any, running: Any,
    wait_until: Any, topic_reader: Any,
) -> None:
    topic, dead_letters = await new_topic("postings"), await new_topic("dead-letter")
    gate = PeriodGate()

    async with running(_loop(kafka_bootstrap, group_id, topic, dead_letters, gate, publisher)):
        await publisher.send(topic, "PHL|4100", ENVELOPE)
        assert len(await topic_reader.wait_for(dead_letters, 1)) == 1

        [letter] = await read_dead_letters(kafka_bootstrap, {dead_letters: "forecast"})
        assert (letter.reason, letter.original_topic, letter.key, letter.value) == (
            "period_closed", topic, "PHL|4100", ENVELOPE)
        assert letter.event_summary() == ("evt-7", "ipm.forecast.actuals.posted")
        assert letter.describe()["error_class"] == "PoisonMessage"

        gate.closed = False
        [outcome] = await replay(publisher, [letter])

        assert outcome.replayed
        assert await wait_until(lambda: len(gate.handled) == 1)
        assert gate.handled[0].value == ENVELOPE

    records = await topic_reader.read_all(topic)
    assert [dict(record.headers).get(REPLAYED_FROM_HEADER) for record in records] == [
        None, letter.position.encode()]


async def test_missing_topic_lists_nothing(kafka_bootstrap: str) -> None:
    assert await read_dead_letters(kafka_bootstrap, {"ipm.test.never-created": "forecast"}) == []


async def test_truncated_dead_letter_skipped(
    kafka_bootstrap: str, publisher: KafkaPublisher, new_topic: Any, topic_reader: Any,
) -> None:
    topic, dead_letters = await new_topic("postings"), await new_topic("dead-letter")
    await publisher.send(dead_letters, "PHL|4100", b'{"id": "evt-8", "da', (
        ("ipm-original-topic", topic.encode()), ("ipm-reason", b"too_large"), ("ipm-original-size", b"2000000")))

    [letter] = await read_dead_letters(kafka_bootstrap, {dead_letters: "forecast"})
    [outcome] = await replay(publisher, [letter])

    assert not outcome.replayed
    assert "2000000" in outcome.detail
    assert await topic_reader.read_all(topic) == []
