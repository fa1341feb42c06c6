"""The Kafka consume loop: manual commits, dead letters for poison messages, retries for the rest.

Each message is handled in its own database transaction by the handler; the loop commits a
partition's offset only after the handler returned. A ``PoisonMessage`` goes to the dead-letter
topic with its original bytes (truncated beyond 1 MB) and is committed, so it blocks its
partition only while the dead-letter topic cannot be reached. Any other error is retried from
the last committed offset with capped backoff. An error that is not a ``TransientError`` is
dead-lettered after ``max_attempts``.
"""

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError

from ipm_common import fault_points
from ipm_common.errors import PoisonMessage, TransientError
from ipm_common.messaging import BatchHandler, ConsumedMessage, MessageHandler, MessagePublisher
from ipm_common.storage import database_unavailable

logger = logging.getLogger(__name__)

# Room for the headers below Kafka's default 1 MiB message limit.
MAX_DEAD_LETTER_BYTES = 1_000_000


@dataclass(frozen=True)
class ConsumerSettings:
    bootstrap_servers: str
    group_id: str
    topics: tuple[str, ...]
    dead_letter_topic: str
    max_attempts: int = 3
    # Low fetch wait keeps a hop at a few milliseconds at low rates; 500 ms is aiokafka's default.
    fetch_max_wait_ms: int = 10
    max_poll_records: int = 200
    session_timeout_ms: int = 6_000
    heartbeat_interval_ms: int = 500
    max_backoff_seconds: float = 5.0


class _AssignmentListener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, assigned: asyncio.Event) -> None:
        self._assigned = assigned

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        logger.info("partitions revoked: %s", sorted(str(tp) for tp in revoked))

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        logger.info("partitions assigned: %s", sorted(str(tp) for tp in assigned))
        if assigned:
            self._assigned.set()


def _consumed(record: Any) -> ConsumedMessage:
    return ConsumedMessage(topic=record.topic, partition=record.partition, offset=record.offset, key=record.key,
                           value=record.value, headers=tuple(record.headers or ()))


class KafkaConsumerLoop:
    """Consume ``settings.topics`` as group ``settings.group_id`` and pass each message to ``handler``."""

    def __init__(self, settings: ConsumerSettings, handler: MessageHandler, dead_letters: MessagePublisher,
                 batch_handler: BatchHandler | None = None) -> None:
        self.settings = settings
        self._handler = handler
        self._batch_handler = batch_handler
        self._dead_letters = dead_letters
        self.assigned = asyncio.Event()
        self.processed = 0
        self.dead_lettered = 0
        self._attempts: dict[tuple[str, int, int], int] = {}
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.bootstrap_servers,
            group_id=settings.group_id,
            client_id=settings.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=settings.fetch_max_wait_ms,
            max_poll_records=settings.max_poll_records,
            session_timeout_ms=settings.session_timeout_ms,
            heartbeat_interval_ms=settings.heartbeat_interval_ms,
        )

    async def lag(self) -> dict[TopicPartition, int]:
        """Count, per assigned partition, the messages between this consumer's position and the end."""
        lags: dict[TopicPartition, int] = {}
        for partition in self._consumer.assignment():
            end = self._consumer.highwater(partition)
            if end is None:
                continue
            lags[partition] = max(0, end - await self._consumer.position(partition))
        return lags

    async def run(self) -> None:
        """Consume until cancelled; always leaves the group cleanly."""
        await self._consumer.start()
        self._consumer.subscribe(list(self.settings.topics), listener=_AssignmentListener(self.assigned))
        logger.info("consumer %s started on %s", self.settings.group_id, ", ".join(self.settings.topics))
        try:
            while True:
                batches = await self._consumer.getmany(timeout_ms=500)
                if self._batch_handler is not None and sum(len(records) for records in batches.values()) > 1:
                    await self._consume_batch(batches)
                    continue
                for partition, messages in batches.items():
                    await self._consume_partition(partition, messages)
        finally:
            await self._consumer.stop()
            logger.info("consumer %s stopped", self.settings.group_id)

    async def _consume_partition(self, partition: TopicPartition, messages: Sequence[object]) -> None:
        """Handle one partition's fetched messages in order, then commit past the last one handled."""
        next_offset: int | None = None
        try:
            for record in messages:
                message = _consumed(record)
                if not await self._consume_one(message):
                    # Re-read from the failed message after the backoff; later messages wait, so
                    # per-key order is kept.
                    self._consumer.seek(partition, message.offset)
                    break
                next_offset = message.offset + 1
                fault_points.reached("consumer.after_db_commit")
        finally:
            # Also on cancellation: a stopping consumer commits what it finished.
            if next_offset is not None:
                await self._commit(partition, next_offset)

    async def _consume_batch(self, batches: dict[TopicPartition, list[Any]]) -> None:
        """Hand every fetched message to the batch handler at once, falling back to one at a time.

        The batch handler applies all messages in one transaction and returns the poison messages
        it skipped. On any error the loop processes the same messages one by one instead, which
        isolates the failing message and applies the per-message retry and dead-letter rules. The
        inbox drops whatever the failed batch had already applied.
        """
        assert self._batch_handler is not None
        messages = [_consumed(record) for _, records in sorted(batches.items()) for record in records]
        try:
            poisoned = await self._batch_handler(messages)
        except Exception as error:
            logger.warning("batch of %s messages failed, processing them one by one: %r", len(messages), error)
            for partition, records in batches.items():
                await self._consume_partition(partition, records)
            return

        for message, poison in poisoned:
            if not await self._dead_letter(message, poison, poison.reason):
                for partition, records in batches.items():
                    self._consumer.seek(partition, records[0].offset)
                return

        self.processed += len(messages) - len(poisoned)
        fault_points.reached("consumer.after_db_commit")
        for partition, records in batches.items():
            await self._commit(partition, records[-1].offset + 1)

    async def _commit(self, partition: TopicPartition, offset: int) -> None:
        try:
            await self._consumer.commit({partition: offset})
        except KafkaError as error:
            # The partition may have moved to another member during a rebalance. Its new owner
            # starts from the last committed offset, and the inbox drops what is redelivered.
            logger.warning("commit of %s at %s failed, messages will be redelivered: %s", partition, offset, error)

    async def _consume_one(self, message: ConsumedMessage) -> bool:
        """Handle one message; return False when it must be retried."""
        attempt_key = (message.topic, message.partition, message.offset)
        try:
            await self._handler(message)
        except PoisonMessage as error:
            await self._dead_letter(message, error, error.reason)
        except Exception as error:
            if isinstance(error, TransientError | KafkaError | OSError) or database_unavailable(error):
                await self._back_off(message, error, attempt_key, retry_forever=True)
                return False
            # A handler bug must not stop the partition forever.
            if self._attempts.get(attempt_key, 0) + 1 >= self.settings.max_attempts:
                logger.exception(
                    "handler failed %s times on %s; dead-lettering", self.settings.max_attempts, attempt_key
                )
                await self._dead_letter(message, error, "handler_failed")
            else:
                await self._back_off(message, error, attempt_key, retry_forever=False)
                return False
        self._attempts.pop(attempt_key, None)
        self.processed += 1
        return True

    async def _back_off(self, message: ConsumedMessage, error: Exception, key: tuple[str, int, int], *,
                        retry_forever: bool) -> None:
        attempts = self._attempts.get(key, 0) + 1
        self._attempts[key] = attempts
        delay = min(self.settings.max_backoff_seconds, 0.1 * 2 ** min(attempts, 10))
        logger.warning(
            "retrying %s[%s]@%s in %.1f s after attempt %s (%s): %s",
            message.topic, message.partition, message.offset, delay, attempts,
            "transient" if retry_forever else "handler error", error,
        )
        await asyncio.sleep(delay)

    async def _dead_letter(self, message: ConsumedMessage, error: Exception, reason: str) -> bool:
        """Send the original bytes to the dead-letter topic; return False when the send failed."""
        headers = [
            ("ipm-original-topic", message.topic.encode()),
            ("ipm-original-partition", str(message.partition).encode()),
            ("ipm-original-offset", str(message.offset).encode()),
            ("ipm-error-class", type(error).__name__.encode()),
            ("ipm-reason", reason.encode()),
            ("ipm-error", str(error)[:2000].encode()),
        ]
        key = (message.key or b"").decode("utf-8", errors="replace")
        value = message.value or b""
        if len(value) > MAX_DEAD_LETTER_BYTES:
            # The broker would reject the original as too large, so the dead letter keeps its start.
            headers.append(("ipm-original-size", str(len(value)).encode()))
            value = value[:MAX_DEAD_LETTER_BYTES]
        try:
            await self._dead_letters.send(self.settings.dead_letter_topic, key, value, headers)
        except (KafkaError, OSError) as send_error:
            logger.warning("dead-letter send of %s[%s]@%s failed, retrying: %s",
                           message.topic, message.partition, message.offset, send_error)
            return False
        self.dead_lettered += 1
        logger.error(
            "dead-lettered %s[%s]@%s to %s, reason %s: %s",
            message.topic, message.partition, message.offset, self.settings.dead_letter_topic, reason, error,
        )
        return True
