import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from ipm_common.messaging import ensure_topics, wait_for_broker

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


async def _partition_counts(bootstrap: str, topics: list[str]) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="ipm-test")
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    return {topic["topic"]: len(topic["partitions"]) for topic in described}


def _names(*purposes: str) -> list[str]:
    return [f"ipm.test.{purpose}.{uuid.uuid4().hex[:12]}" for purpose in purposes]


async def test_ensure_topics_creates_missing(kafka_bootstrap: str) -> None:
    topics = _names("ensure-a", "ensure-b")

    await ensure_topics(kafka_bootstrap, topics, partitions=3)

    assert await _partition_counts(kafka_bootstrap, topics) == {topic: 3 for topic in topics}


async def test_ensure_topics_keeps_existing_partitions(kafka_bootstrap: str) -> None:
    [existing, added] = _names("ensure-old", "ensure-new")
    await ensure_topics(kafka_bootstrap, [existing], partitions=2)

    await ensure_topics(kafka_bootstrap, [existing, added], partitions=4)

    assert await _partition_counts(kafka_bootstrap, [existing, added]) == {existing: 2, added: 4}


async def test_wait_for_broker_times_out(unused_tcp_port: int) -> None:
    with pytest.raises(TimeoutError, match="unreachable"):
        await wait_for_broker(f"127.0.0.1:{unused_tcp_port}", timeout=0.5)
