"""The alert topic on a real broker: the relay sends alert changes keyed by entity, with filterable headers."""

import asyncio
import uuid
from decimal import Decimal

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from ipm_common.dispatch import publish_event
from ipm_common.envelope import decode
from ipm_common.events import AlertChanged, Topics
from ipm_common.messaging import KafkaPublisher, ensure_topics
from ipm_common.relay import OutboxRelay
from ipm_common.storage import Database

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


def alert(alert_id: str, severity: str) -> AlertChanged:
    return AlertChanged(alert_id=alert_id, status="raised", entity_id="PHL-GF", line="obligations@11",
                        period="FY2022-P03", comparison="actual_vs_budget_ytd", rule="department_spending",
                        severity=severity, value=Decimal("525732733"), comparator=Decimal("480000000"),
                        variance=Decimal("-45732733"), variance_pct=Decimal("-0.0952765"),
                        threshold="warning at 5%, critical at 10%", phasing="full_period", figures_version=3,
                        opens_review=False)


async def read_alert_messages(bootstrap: str, alert_ids: set[str]) -> dict[str, object]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=10)
    await consumer.start()
    try:
        partitions = [TopicPartition(Topics.ALERTS, partition)
                      for partition in sorted(consumer.partitions_for_topic(Topics.ALERTS) or {0})]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        found: dict[str, object] = {}
        while set(found) != alert_ids:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    assert record.value is not None
                    envelope = decode(record.value)
                    if envelope.subject in alert_ids:
                        found[str(envelope.subject)] = record
        return found
    finally:
        await consumer.stop()


async def test_alert_changes_carry_entity_and_severity_headers(kafka_bootstrap: str, database: Database) -> None:
    await ensure_topics(kafka_bootstrap, [Topics.ALERTS], partitions=4)
    warning_id, critical_id = str(uuid.uuid4()), str(uuid.uuid4())
    async with database.transaction() as transaction:
        for alert_id, severity in ((warning_id, "warning"), (critical_id, "critical")):
            await publish_event(transaction, "ipm-performance", alert(alert_id, severity), correlation_id="corr",
                                subject=alert_id)
    publisher = KafkaPublisher(kafka_bootstrap, client_id="ipm-test")
    await publisher.start()
    try:
        assert await OutboxRelay(database, publisher).publish_pending() == 2
    finally:
        await publisher.stop()

    records = await asyncio.wait_for(read_alert_messages(kafka_bootstrap, {warning_id, critical_id}), 30)

    for alert_id, severity in ((warning_id, "warning"), (critical_id, "critical")):
        record = records[alert_id]
        headers = dict(record.headers)  # type: ignore[attr-defined]
        assert record.key == b"PHL-GF"  # type: ignore[attr-defined]
        assert headers["ipm-entity"] == b"PHL-GF"
        assert headers["ipm-severity"] == severity.encode()
        assert headers["ipm-status"] == b"raised"
    # Both alerts of one entity share the key, so they stay in order on one partition.
    assert records[warning_id].partition == records[critical_id].partition  # type: ignore[attr-defined]
