"""Message transport: the publisher interface, the Kafka adapter and an in-memory bus for tests.

Delivery is at least once. Producers never use Kafka transactions or the idempotent producer
(the Tansu broker rejects both); the outbox relay and the consumers' inbox make redelivery
harmless instead.
"""

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code

from ipm_common.errors import PoisonMessage

logger = logging.getLogger(__name__)

Headers = Sequence[tuple[str, bytes]]
# (topic, key, value) or (topic, key, value, headers).
OutgoingMessage = tuple[str, str, bytes] | tuple[str, str, bytes, Headers]


@dataclass(frozen=True)
class ConsumedMessage:
    """One message as the broker delivered it; the value stays raw bytes until a handler decodes it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Headers = ()


MessageHandler = Callable[[ConsumedMessage], Awaitable[None]]
# A batch handler applies many messages at once and returns the poison messages it skipped.
BatchHandler = Callable[[Sequence[ConsumedMessage]], Awaitable[Sequence[tuple[ConsumedMessage, PoisonMessage]]]]


class MessagePublisher(Protocol):
    async def send(self, topic: str, key: str, value: bytes, headers: Headers = ()) -> None: ...

    async def send_many(self, messages: Sequence[OutgoingMessage]) -> None: ...


class KafkaPublisher:
    """Publish to Kafka and wait for the broker's acknowledgement of every message."""

    def __init__(self, bootstrap_servers: str, *, client_id: str) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers,
            client_id=client_id,
            acks="all",
            enable_idempotence=False,
            linger_ms=2,
            request_timeout_ms=10_000,
            max_request_size=1_048_576,
        )

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def send(self, topic: str, key: str, value: bytes, headers: Headers = ()) -> None:
        await self._producer.send_and_wait(topic, value, key=key.encode("utf-8"), headers=list(headers))

    async def send_many(self, messages: Sequence[OutgoingMessage]) -> None:
        """Send in order and wait until the broker acknowledged all of them."""
        futures = []
        for message in messages:
            topic, key, value = message[:3]
            headers = list(message[3]) if len(message) == 4 else None
            futures.append(await self._producer.send(topic, value, key=key.encode("utf-8"), headers=headers))
        await asyncio.gather(*futures)


async def ensure_topics(bootstrap_servers: str, topics: Sequence[str], partitions: int) -> None:
    """Create the topics that do not exist yet; existing topics keep their partition count."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="ipm-topics")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(name, partitions, 1) for name in topics if name not in existing]
        if missing:
            response = await admin.create_topics(missing)
            _check_created(response.to_object()["topic_errors"])
            logger.info("created topics %s", ", ".join(topic.name for topic in missing))
    finally:
        await admin.close()


def _check_created(topic_errors: Sequence[dict[str, Any]]) -> None:
    """Raise the broker's error for any topic that it failed to create, except one that already exists."""
    # aiokafka's create_topics returns per-topic error codes instead of raising them.
    for result in topic_errors:
        if result["error_code"] == 0:
            continue
        error_class = for_code(result["error_code"])
        if error_class is TopicAlreadyExistsError:
            logger.info("topic %s was created concurrently by another process", result["topic"])
            continue
        raise error_class(f"creating topic {result['topic']!r} failed: {result['error_message']}")


# The deadline bounds a loop of reconnect attempts, each of which must be allowed to finish.
async def wait_for_broker(bootstrap_servers: str, timeout: float = 20.0) -> None:  # noqa: ASYNC109
    """Wait until the broker returns metadata, or raise ``TimeoutError``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="ipm-probe")
        try:
            await admin.start()
            await admin.list_topics()
            return
        except (KafkaError, OSError) as error:
            if loop.time() > deadline:
                raise TimeoutError(f"broker {bootstrap_servers} unreachable after {timeout} s: {error}") from None
            await asyncio.sleep(0.1)
        finally:
            await admin.close()


@dataclass
class InMemoryBus:
    """In-memory broker for unit tests, with the publisher interface and per-topic subscribers.

    Messages are delivered in publish order, one at a time, to every handler of the topic.
    """

    handlers: dict[str, list[MessageHandler]] = field(default_factory=lambda: defaultdict(list))
    log: list[ConsumedMessage] = field(default_factory=list)

    def subscribe(self, topics: Sequence[str], handler: MessageHandler) -> None:
        for topic in topics:
            self.handlers[topic].append(handler)

    async def send(self, topic: str, key: str, value: bytes, headers: Headers = ()) -> None:
        message = ConsumedMessage(topic, 0, len(self.log), key.encode("utf-8"), value, tuple(headers))
        self.log.append(message)
        for handler in list(self.handlers.get(topic, ())):
            await handler(message)

    async def send_many(self, messages: Sequence[OutgoingMessage]) -> None:
        for message in messages:
            await self.send(*message)

    def messages(self, topic: str) -> list[ConsumedMessage]:
        return [message for message in self.log if message.topic == topic]
