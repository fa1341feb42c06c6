"""Wait for the performance service's ``batch evaluated`` events, keyed by batch id."""

import asyncio
import logging

from aiokafka import AIOKafkaConsumer, TopicPartition

from ipm_common.envelope import decode
from ipm_common.errors import PoisonMessage
from ipm_common.events import Topics

logger = logging.getLogger(__name__)


class EvaluationListener:
    """Read the evaluations topic from its end and resolve one future per awaited batch id.

    Manual partition assignment avoids the consumer-group join delay; no offsets are committed.
    """

    def __init__(self, bootstrap: str) -> None:
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                          fetch_max_wait_ms=5, auto_offset_reset="latest")
        self._waiting: dict[str, asyncio.Future[float]] = {}
        self._seen: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._consumer.start()
        partitions = self._consumer.partitions_for_topic(Topics.EVALUATIONS) or set()
        if not partitions:
            await self._consumer.topics()
            partitions = self._consumer.partitions_for_topic(Topics.EVALUATIONS) or {0}
        assignment = [TopicPartition(Topics.EVALUATIONS, partition) for partition in sorted(partitions)]
        self._consumer.assign(assignment)
        await self._consumer.seek_to_end(*assignment)
        for partition in assignment:
            await self._consumer.position(partition)
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._consumer.stop()

    def expect(self, batch_id: str) -> "asyncio.Future[float]":
        """Return a future that resolves with the loop time at which ``batch_id`` was evaluated."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        if batch_id in self._seen:
            future.set_result(self._seen.pop(batch_id))
        else:
            self._waiting[batch_id] = future
        return future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batches = await self._consumer.getmany(timeout_ms=200)
            arrived = loop.time()
            for messages in batches.values():
                for message in messages:
                    self._resolve(message.value, arrived)

    def _resolve(self, value: bytes | None, arrived: float) -> None:
        try:
            envelope = decode(value)
        except PoisonMessage as error:
            logger.warning("skipped an unreadable evaluation event: %s", error)
            return
        batch_id = str(envelope.data.get("batch_id"))
        future = self._waiting.pop(batch_id, None)
        if future is None:
            self._seen[batch_id] = arrived
        elif not future.done():
            future.set_result(arrived)
