"""Read dead-letter topics and send their messages back to the topics they came from.

A dead letter keeps the original bytes and key, and headers naming the original topic, partition,
offset, error class and reason (see ``ipm_common.consumer``). Once the cause is fixed (a period
reopened, a missing account defined, a consumer upgraded), a replay publishes the original bytes
again with the original key. Consumers stay safe under repeated replays: the inbox skips an event
id that was already applied, and versioned state ignores a version older than the one it holds.
"""

import asyncio
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from ipm_common.events import SERVICES, Topics
from ipm_common.messaging import MessagePublisher

logger = logging.getLogger(__name__)

REPLAYED_FROM_HEADER = "ipm-replayed-from"

_READ_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class DeadLetter:
    """One message of a dead-letter topic, with the headers the consume loop wrote."""

    service: str
    topic: str
    partition: int
    offset: int
    key: str
    value: bytes
    headers: dict[str, str]

    @property
    def position(self) -> str:
        return f"{self.topic}[{self.partition}]@{self.offset}"

    @property
    def original_topic(self) -> str | None:
        return self.headers.get("ipm-original-topic")

    @property
    def original_position(self) -> str:
        return (f"{self.headers.get('ipm-original-topic', '?')}[{self.headers.get('ipm-original-partition', '?')}]"
                f"@{self.headers.get('ipm-original-offset', '?')}")

    @property
    def reason(self) -> str:
        return self.headers.get("ipm-reason", "unknown")

    @property
    def truncated(self) -> bool:
        """True when the original was too large for the dead-letter topic and only its start was kept."""
        return "ipm-original-size" in self.headers

    def event_summary(self) -> tuple[str | None, str | None]:
        """Return the CloudEvents id and type of the original, or None where the bytes are not an envelope."""
        try:
            document = json.loads(self.value)
        except (UnicodeDecodeError, json.JSONDecodeError):
            return None, None
        if not isinstance(document, dict):
            return None, None
        event_id, event_type = document.get("id"), document.get("type")
        return (event_id if isinstance(event_id, str) else None,
                event_type if isinstance(event_type, str) else None)

    def describe(self) -> dict[str, str | int | bool | None]:
        event_id, event_type = self.event_summary()
        return {
            "service": self.service,
            "dead_letter": self.position,
            "original": self.original_position,
            "reason": self.reason,
            "error_class": self.headers.get("ipm-error-class"),
            "error": self.headers.get("ipm-error"),
            "key": self.key,
            "event_id": event_id,
            "event_type": event_type,
            "bytes": len(self.value),
            "truncated": self.truncated,
        }


@dataclass(frozen=True)
class ReplayOutcome:
    letter: DeadLetter
    replayed: bool
    detail: str


def dead_letter_topics(services: Iterable[str] = SERVICES) -> dict[str, str]:
    """Map each dead-letter topic to the service that owns it."""
    return {Topics.dead_letter(service): service for service in services}


async def read_dead_letters(bootstrap_servers: str, topics: Mapping[str, str]) -> list[DeadLetter]:
    """Return every message of the dead-letter ``topics`` (topic to service), oldest first per partition.

    Reads without a consumer group, so listing commits nothing and can be repeated. A topic that
    does not exist yet contains no dead letters.
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False,
                                auto_offset_reset="earliest", client_id="ipm-dead-letters")
    await consumer.start()
    try:
        existing = await consumer.topics()
        partitions = [TopicPartition(topic, number) for topic in topics if topic in existing
                      for number in sorted(consumer.partitions_for_topic(topic) or ())]
        records = await _read_to_end(consumer, partitions)
    finally:
        await consumer.stop()

    return [_dead_letter(topics[record.topic], record) for record in records]


async def _read_to_end(consumer: AIOKafkaConsumer, partitions: Sequence[TopicPartition]) -> list[ConsumerRecord]:
    if not partitions:
        return []
    consumer.assign(list(partitions))
    await consumer.seek_to_beginning(*partitions)
    end_offsets = await consumer.end_offsets(list(partitions))
    remaining = {partition: end for partition, end in end_offsets.items() if end > 0}

    records: list[ConsumerRecord] = []
    deadline = asyncio.get_running_loop().time() + _READ_TIMEOUT_SECONDS
    while remaining:
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"dead-letter topics not read to their end within {_READ_TIMEOUT_SECONDS:.0f} s")
        batches = await consumer.getmany(*remaining, timeout_ms=200)
        for partition, batch in batches.items():
            records.extend(batch)
            if batch and batch[-1].offset + 1 >= remaining[partition]:
                del remaining[partition]
    records.sort(key=lambda record: (record.topic, record.partition, record.offset))
    return records


def _dead_letter(service: str, record: ConsumerRecord) -> DeadLetter:
    headers = {name: raw.decode("utf-8", errors="replace") for name, raw in record.headers or ()}
    key = (record.key or b"").decode("utf-8", errors="replace")
    return DeadLetter(service, record.topic, record.partition, record.offset, key, record.value or b"", headers)


async def replay(publisher: MessagePublisher, letters: Sequence[DeadLetter]) -> list[ReplayOutcome]:
    """Publish each dead letter's original bytes to its original topic with its original key.

    A truncated dead letter or one without an original topic is skipped, since its bytes would be
    dead-lettered again. Each replayed message carries a header naming the dead letter it came from.
    """
    outcomes = []
    for letter in letters:
        outcome = await _replay_one(publisher, letter)
        logger.info("dead letter %s: %s", letter.position, outcome.detail)
        outcomes.append(outcome)
    return outcomes


async def _replay_one(publisher: MessagePublisher, letter: DeadLetter) -> ReplayOutcome:
    if letter.truncated:
        return ReplayOutcome(letter, False, f"skipped: only the first {len(letter.value)} of "
                                            f"{letter.headers['ipm-original-size']} bytes were kept")
    if not letter.original_topic:
        return ReplayOutcome(letter, False, "skipped: no ipm-original-topic header")

    headers = ((REPLAYED_FROM_HEADER, letter.position.encode()),)
    await publisher.send(letter.original_topic, letter.key, letter.value, headers)
    return ReplayOutcome(letter, True, f"replayed to {letter.original_topic}")
