import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from ipm_common.consumer import ConsumerSettings, KafkaConsumerLoop
from ipm_common.errors import PoisonMessage, TransientError
from ipm_common.messaging import ConsumedMessage, KafkaPublisher, MessageHandler

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

TopicFactory = Callable[..., Awaitable[str]]

# NOTE: On this machine Tansu took about 3 s for a new consumer group's first join, so 30 s leaves room
# for a slower CI machine.
JOIN_TIMEOUT = 30.0


class Handler:
    """A message handler that records every call and raises the errors that the test configured.

    ``failures`` maps a message value to the errors that its first calls raise, one per call.
    """

    def __init__(self, failures: dict[bytes, list[Exception]] | None = None) -> None:
        self.calls: list[ConsumedMessage] = []
        self.handled: list[ConsumedMessage] = []
        self._failures = failures or {}

    async def __call__(self, message: ConsumedMessage) -> None:
        self.calls.append(message)
        pending = self._failures.get(message.value or b"", [])
        if pending:
            raise pending.pop(0)
        self.handled.append(message)

    def values(self, messages: list[ConsumedMessage]) -> list[bytes | None]:
        return [message.value for message in messages]


def _loop(kafka_bootstrap: str, group_id: str, topic: str, dead_letters: str, handler: MessageHandler,
          publisher: KafkaPublisher, **settings: Any) -> KafkaConsumerLoop:
    consumer_settings = ConsumerSettings(
        bootstrap_servers=kafka_bootstrap, group_id=group_id, topics=(topic,), dead_letter_topic=dead_letters,
        **settings,
    )
    return KafkaConsumerLoop(consumer_settings, handler, publisher)


async def _send(publisher: KafkaPublisher, topic: str, *values: bytes, key: str = "ACME") -> None:
    for value in values:
        await publisher.send(topic, key, value)


def _headers(record: Any) -> dict[str, bytes]:
    return dict(record.headers)


async def test_assigned_set_after_join(kafka_bootstrap: str, group_id: str, publisher: KafkaPublisher,
                                       new_topic: TopicFactory) -> None:
    topic = await new_topic("consumer-join", partitions=2)
    loop = _loop(kafka_bootstrap, group_id, topic, await new_topic("dlt"), Handler(), publisher)
    assert not loop.assigned.is_set()

    task = asyncio.create_task(loop.run())
    try:
        await asyncio.wait_for(loop.assigned.wait(), JOIN_TIMEOUT)
    except TimeoutError:
        pytest.fail(f"no partitions assigned within {JOIN_TIMEOUT} s")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_messages_arrive_after_join(kafka_bootstrap: str, group_id: str, publisher: KafkaPublisher,
                                          new_topic: TopicFactory, running: Any, wait_until: Any) -> None:
    topic = await new_topic("consumer-live")
    handler = Handler()

    async with running(_loop(kafka_bootstrap, group_id, topic, await new_topic("dlt"), handler, publisher)):
        await _send(publisher, topic, b"after-join")

        assert await wait_until(lambda: len(handler.handled) == 1)


async def test_per_partition_order_kept(kafka_bootstrap: str, group_id: str, publisher: KafkaPublisher,
                                        new_topic: TopicFactory, running: Any, wait_until: Any) -> None:
    topic = await new_topic("consumer-order", partitions=3)
    sent: dict[str, list[bytes]] = {}
    for number in range(60):
        key = f"entity-{number % 6}"
        value = f"{key}:{number}".encode()
        sent.setdefault(key, []).append(value)
        await publisher.send(topic, key, value)
    handler = Handler()

    async with running(_loop(kafka_bootstrap, group_id, topic, await new_topic("dlt"), handler, publisher)):
        assert await wait_until(lambda: len(handler.handled) == 60)

    partitions = {message.partition for message in handler.handled}
    for partition in partitions:
        offsets = [message.offset for message in handler.handled if message.partition == partition]
        assert offsets == sorted(offsets), f"partition {partition} out of order"
    for key, values in sent.items():
        received = [message.value for message in handler.handled if message.key == key.encode()]
        assert received == values, f"key {key} out of order"
    assert len(partitions) > 1


async def test_restart_resumes_after_committed(kafka_bootstrap: str, group_id: str, publisher: KafkaPublisher,
                                               new_topic: TopicFactory, running: Any, wait_until: Any) -> None:
    topic = await new_topic("consumer-commit")
    dead_letters = await new_topic("dlt")
    await _send(publisher, topic, b"m0", b"m1", b"m2")
    first = Handler()

    async with running(_loop(kafka_bootstrap, group_id, topic, dead_letters, first, publisher)):
        assert await wait_until(lambda: len(first.handled) == 3)
    await _send(publisher, topic, b"m3", b"m4")
    second = Handler()
    async with running(_loop(kafka_bootstrap, group_id, topic, dead_letters, second, publisher)):
        assert await wait_until(lambda: len(second.handled) == 2)

    assert first.values(first.handled) == [b"m0", b"m1", b"m2"]
    assert second.values(second.calls) == [b"m3", b"m4"]


class BlockingHandler(Handler):
    """Handle messages until ``block_on`` arrives, then wait forever inside the handler."""

    def __init__(self, block_on: bytes) -> None:
        super().__init__()
        self.blocked = asyncio.Event()
        self._block_on = block_on

    async def __call__(self, message: ConsumedMessage) -> None:
        if message.value == self._block_on:
            self.calls.append(message)
            self.blocked.set()
            await asyncio.Event().wait()
        await super().__call__(message)


async def test_offset_committed_only_after_handler(kafka_bootstrap: str, group_id: str, publisher: KafkaPublisher,
                                                   new_topic: TopicFactory, running: Any, wait_until: Any) -> None:
    topic = await new_topic("consumer-unfinished")
    dead_letters = await new_topic("dlt")
    await _send(publisher, topic, b"m0", b"m1", b"m2", b"m3")
    interrupted = BlockingHandler(block_on=b"m2")

    async with running(_loop(kafka_bootstrap, group_id, topic, dead_letters, interrupted, publisher)):
        await asyncio.wait_for(interrupted.blocked.wait(), 15)
    resumed = Handler()
    async with running(_loop(kafka_bootstrap, group_id, topic, dead_letters, resumed, publisher)) as loop:
        assert await wait_until(lambda: loop.processed == 2)

    # The consumer stopped inside the handler of m2, so m2 was not committed and comes again.
    assert resumed.values(resumed.calls) == [b"m2", b"m3"]


async def test_poison_goes_to_dead_letters(kafka_bootstrap: str, group_id: str, publisher: KafkaPublisher,
                                           new_topic: TopicFactory, running: Any, wait_until: Any,
                                           topic_reader: Any) -> None:
    topic = await new_topic("consumer-poison")
    dead_letters = await new_topic("dlt")
    poison = b"\xff not an event"
    await _send(publisher, topic, b"before", poison, b"after", key="ACME|4000")
    handler = Handler({poison: [PoisonMessage("not UTF-8", reason="not_utf8")]})

    async with running(_loop(kafka_bootstrap, group_id, topic, dead_letters, handler, publisher)) as loop:
        assert await wait_until(lambda: handler.values(handler.handled) == [b"before", b"after"])

    [record] = await topic_reader.wait_for(dead_letters, 1)
    headers = _headers(record)
    assert record.value == poison
    assert record.key == b"ACME|4000"
    assert headers["ipm-original-topic"] == topic.encode()
    assert headers["ipm-original-partition"] == b"0"
    assert headers["ipm-original-offset"] == b"1"
    assert headers["ipm-error-class"] == b"PoisonMessage"
    assert headers["ipm-reason"] == b"not_utf8"
    assert headers["ipm-error"] == b"not UTF-8"
    assert handler.values(handler.calls).count(poison) == 1
    assert loop.dead_lettered == 1


async def test_handler_error_retried_then_succeeds(kafka_bootstrap: str, group_id: str, publisher: KafkaPublisher,
                                                   new_topic: TopicFactory, running: Any, wait_until: Any,
                                                   topic_reader: Any) -> None:
    topic = await new_topic("consumer-retry")
    dead_letters = await new_topic("dlt")
    await _send(publisher, topic, b"m0", b"flaky", b"m2")
    handler = Handler({b"flaky": [RuntimeError("deadlock detected"), RuntimeError("deadlock detected")]})

    async with running(_loop(kafka_bootstrap, group_id, topic, dead_letters, handler, publisher)) as loop:
        assert await wait_until(lambda: len(handler.handled) == 3)

    assert handler.values(handler.calls) == [b"m0", b"flaky", b"flaky", b"flaky", b"m2"]
    assert handler.values(handler.handled) == [b"m0", b"flaky", b"m2"]
    assert loop.dead_lettered == 0
    assert await topic_reader.read_all(dead_letters) == []


async def test_failing_handler_dead_lettered_after_max(kafka_bootstrap: str, group_id: str,
                                                       publisher: KafkaPublisher, new_topic: TopicFactory,
                                                       running: Any, wait_until: Any, topic_reader: Any) -> None:
    topic = await new_topic("consumer-broken")
    dead_letters = await new_topic("dlt")
    await _send(publisher, topic, b"m0", b"broken", b"m2")
    handler = Handler({b"broken": [KeyError("account_id")] * 10})
    loop = _loop(kafka_bootstrap, group_id, topic, dead_letters, handler, publisher, max_attempts=3)

    async with running(loop):
        assert await wait_until(lambda: handler.values(handler.handled) == [b"m0", b"m2"])

    [record] = await topic_reader.wait_for(dead_letters, 1)
    assert handler.values(handler.calls) == [b"m0", b"broken", b"broken", b"broken", b"m2"]
    assert record.value == b"broken"
    assert _headers(record)["ipm-reason"] == b"handler_failed"
    assert _headers(record)["ipm-error-class"] == b"KeyError"
    assert _headers(record)["ipm-original-offset"] == b"1"


async def test_transient_error_retried_past_max(kafka_bootstrap: str, group_id: str, publisher: KafkaPublisher,
                                                new_topic: TopicFactory, running: Any, wait_until: Any) -> None:
    topic = await new_topic("consumer-transient")
    outage = [TransientError("database unavailable") for _ in range(3)]
    handler = Handler({b"m0": outage})
    loop = _loop(kafka_bootstrap, group_id, topic, await new_topic("dlt"), handler, publisher, max_attempts=2)
    await _send(publisher, topic, b"m0")

    async with running(loop):
        assert await wait_until(lambda: len(handler.handled) == 1)

    assert len(handler.calls) == 4
    assert loop.dead_lettered == 0
