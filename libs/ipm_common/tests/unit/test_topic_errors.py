import pytest
from aiokafka.errors import InvalidReplicationFactorError

from ipm_common.messaging import _check_created

# Kafka protocol error codes, as a CreateTopics response carries them per topic.
NONE = 0
TOPIC_ALREADY_EXISTS = 36
INVALID_REPLICATION_FACTOR = 38


def _result(topic: str, code: int, message: str | None = None) -> dict[str, object]:
    return {"topic": topic, "error_code": code, "error_message": message}


def test_created_topics_pass() -> None:
    _check_created([_result("ipm.a", NONE), _result("ipm.b", NONE)])


def test_concurrently_created_topic_passes() -> None:
    _check_created([_result("ipm.a", TOPIC_ALREADY_EXISTS, "Topic with this name already exists.")])


def test_rejected_topic_raises_broker_error() -> None:
    results = [
        _result("ipm.a", NONE),
        _result("ipm.b", INVALID_REPLICATION_FACTOR, "Replication factor: 3 larger than available brokers: 1."),
    ]

    with pytest.raises(InvalidReplicationFactorError) as caught:
        _check_created(results)

    assert "ipm.b" in str(caught.value)
