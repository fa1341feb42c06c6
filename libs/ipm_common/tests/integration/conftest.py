"""Fixtures of the ipm_common integration tests: databases, unique topics, a topic reader and a consumer runner.

Every test gets its own topics and consumer group, so tests that share the session's broker
never read each other's messages.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from sqlalchemy import Column, Integer, MetaData, String, Table

from ipm_common.consumer import KafkaConsumerLoop
from ipm_common.messaging import KafkaPublisher, ensure_topics
from ipm_common.storage import Database, MoneyType, create_engine, define_inbox, define_outbox

# NOTE: On this machine Tansu took about 3 s for a new group's first join and about 11 s to rejoin a group
# that a member had just left, so 30 s leaves room for a slower CI machine.
JOIN_TIMEOUT = 30.0

# Deadline for a message to travel through the broker once the consumer has joined.
DELIVERY_TIMEOUT = 15.0

TopicFactory = Callable[..., Awaitable[str]]
Condition = Callable[[], bool]
ConsumerRunner = Callable[[KafkaConsumerLoop], AbstractAsyncContextManager[KafkaConsumerLoop]]


def define_test_tables(metadata: MetaData) -> None:
    """Add the tables the tests write to: plain amounts and the effects of handled events."""
    Table("amounts", metadata, Column("id", Integer, primary_key=True), Column("amount", MoneyType))
    Table(
        "effects",
        metadata,
        Column("event_id", String(64), primary_key=True),
        Column("amount", MoneyType, nullable=False),
    )


@pytest_asyncio.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """Open a database on each backend with the outbox, the inbox and the test tables created."""
    metadata = MetaData()
    outbox = define_outbox(metadata)
    inbox = define_inbox(metadata)
    define_test_tables(metadata)

    engine = create_engine(database_url)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)

    database = Database(engine, outbox, inbox)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
def new_topic(kafka_bootstrap: str) -> TopicFactory:
    """Return a coroutine function that creates a topic with a unique name and returns the name."""

    async def create(purpose: str, partitions: int = 1) -> str:
        name = f"ipm.test.{purpose}.{uuid.uuid4().hex[:12]}"
        await ensure_topics(kafka_bootstrap, [name], partitions)
        return name

    return create


@pytest.fixture
def group_id() -> str:
    return f"ipm-test-{uuid.uuid4().hex[:12]}"


@pytest_asyncio.fixture
async def publisher(kafka_bootstrap: str) -> AsyncIterator[KafkaPublisher]:
    publisher = KafkaPublisher(kafka_bootstrap, client_id="ipm-test")
    await publisher.start()
    try:
        yield publisher
    finally:
        await publisher.stop()


class TopicReader:
    """Read topics from the start without a consumer group, as a test's view of the broker."""

    def __init__(self, bootstrap_servers: str) -> None:
        self._bootstrap_servers = bootstrap_servers

    async def read_all(self, topic: str) -> list[ConsumerRecord]:
        """Return every message of ``topic`` up to the end offsets at the time of the call."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap_servers, enable_auto_commit=False, auto_offset_reset="earliest"
        )
        await consumer.start()
        try:
            return await _read_to_end(consumer, topic)
        finally:
            await consumer.stop()

    async def wait_for(self, topic: str, count: int) -> list[ConsumerRecord]:
        """Read ``topic`` until it contains ``count`` messages or the delivery timeout passes, and return them."""
        deadline = asyncio.get_running_loop().time() + DELIVERY_TIMEOUT
        while True:
            records = await self.read_all(topic)
            if len(records) >= count or asyncio.get_running_loop().time() > deadline:
                return records
            await asyncio.sleep(0.1)


async def _read_to_end(consumer: AIOKafkaConsumer, topic: str) -> list[ConsumerRecord]:
    await consumer.topics()
    partitions = [TopicPartition(topic, number) for number in sorted(consumer.partitions_for_topic(topic) or ())]
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    end_offsets = await consumer.end_offsets(partitions)

    records: list[ConsumerRecord] = []
    deadline = asyncio.get_running_loop().time() + DELIVERY_TIMEOUT
    while len(records) < sum(end_offsets.values()) and asyncio.get_running_loop().time() < deadline:
        batches = await consumer.getmany(timeout_ms=200)
        for batch in batches.values():
            records.extend(batch)
    records.sort(key=lambda record: (record.partition, record.offset))
    return records


@pytest.fixture
def topic_reader(kafka_bootstrap: str) -> TopicReader:
    return TopicReader(kafka_bootstrap)


async def _wait_until(condition: Condition, timeout_seconds: float = DELIVERY_TIMEOUT) -> bool:
    """Poll ``condition`` until it is true, or return False once ``timeout_seconds`` have passed."""
    deadline = asyncio.get_running_loop().time() + timeout_seconds
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


@pytest.fixture
def wait_until() -> Callable[..., Awaitable[bool]]:
    """Return a coroutine function that polls a condition until it is true or a deadline passes."""
    return _wait_until


async def _wait_for_assignment(loop: KafkaConsumerLoop, task: asyncio.Task[None]) -> None:
    """Wait until ``loop`` has partitions; raise the loop's own error if it ends first."""
    assigned = asyncio.create_task(loop.assigned.wait())
    done, _ = await asyncio.wait({task, assigned}, timeout=JOIN_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
    assigned.cancel()
    if task in done:
        task.result()
    if assigned not in done:
        raise TimeoutError(f"consumer group {loop.settings.group_id} got no partitions within {JOIN_TIMEOUT} s")


@asynccontextmanager
async def _running(loop: KafkaConsumerLoop) -> AsyncIterator[KafkaConsumerLoop]:
    task = asyncio.create_task(loop.run(), name=loop.settings.group_id)
    try:
        await _wait_for_assignment(loop, task)
        yield loop
    finally:
        task.cancel()
        # The loop ends with CancelledError. Any other error that it raised fails the test here.
        try:
            await task
        except asyncio.CancelledError:
            pass


@pytest.fixture
def running() -> ConsumerRunner:
    """Return a context manager that runs a consumer loop, waits for its partitions and stops it."""
    return _running
