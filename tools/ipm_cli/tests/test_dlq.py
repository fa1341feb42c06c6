"""``ipm dlq`` against a real broker: list a service's dead letters, replay one by its position."""

import asyncio
import json
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from ipm_cli.main import main
from ipm_common.events import Topics
from ipm_common.messaging import KafkaPublisher, ensure_topics

pytestmark = pytest.mark.integration


async def _dead_letter(bootstrap: str, original_topic: str, value: bytes) -> None:
    await ensure_topics(bootstrap, [original_topic, Topics.dead_letter("projects")], 1)
    publisher = KafkaPublisher(bootstrap, client_id="ipm-test")
    await publisher.start()
    try:
        await publisher.send(Topics.dead_letter("projects"), "PHL|4100", value, (
            ("ipm-original-topic", original_topic.encode()), ("ipm-original-partition", b"0"),
            ("ipm-original-offset", b"41"), ("ipm-error-class", b"PoisonMessage"), ("ipm-reason", b"invalid_event"),
            ("ipm-error", b"benefits.0.amount: not a decimal")))
    finally:
        await publisher.stop()


async def _read(bootstrap: str, topic: str) -> list[bytes]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        await consumer.seek_to_beginning(partition)
        batches = await consumer.getmany(partition, timeout_ms=2000)
        return [record.value or b"" for record in batches.get(partition, [])]
    finally:
        await consumer.stop()


def test_list_then_replay_one(kafka_bootstrap: str, capsys: pytest.CaptureFixture[str]) -> None:
    original_topic = f"ipm.test.benefits.{uuid.uuid4().hex[:12]}"
    value = json.dumps({"id": f"evt-{uuid.uuid4().hex}", "type": "ipm.projects.benefits.planned"}).encode()
    asyncio.run(_dead_letter(kafka_bootstrap, original_topic, value))

    assert main(["dlq", "list", "--bootstrap", kafka_bootstrap, "--service", "projects", "--json"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [mine] = [entry for entry in listed if entry["original"] == f"{original_topic}[0]@41"]
    assert (mine["reason"], mine["error_class"], mine["key"]) == ("invalid_event", "PoisonMessage", "PHL|4100")

    assert main(["dlq", "replay", "--bootstrap", kafka_bootstrap, "--service", "projects"]) == 2
    assert main(["dlq", "replay", "--bootstrap", kafka_bootstrap, "--at", mine["dead_letter"]]) == 0

    assert "1 replayed, 0 skipped" in capsys.readouterr().out
    assert asyncio.run(_read(kafka_bootstrap, original_topic)) == [value]
