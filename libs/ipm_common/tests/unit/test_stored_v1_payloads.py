"""Events stored as version 1.0 producers wrote them still decode with today's models.

The files under ``payloads/v1`` are envelopes in the shape the first release published (schema 1.0). Every
field they carry must come out of today's decoder with the same value, whatever fields later
versions added, so a consumer can replay an old topic or dead letter after an upgrade.
"""

import json
from pathlib import Path
from typing import Any

import pytest

from ipm_common.dispatch import parse_data
from ipm_common.envelope import decode
from ipm_common.errors import PoisonMessage
from ipm_common.events import CATALOGUE

STORED = sorted((Path(__file__).parent / "payloads" / "v1").glob("*.json"))


def _v1_fields(stored: Any, decoded: Any) -> Any:
    """Keep from ``decoded`` only what ``stored`` has, so fields added after version 1.0 are left out."""
    if isinstance(stored, dict):
        return {key: _v1_fields(value, decoded[key]) for key, value in stored.items()}
    if isinstance(stored, list):
        return [_v1_fields(value, item) for value, item in zip(stored, decoded, strict=True)]
    return decoded


def test_every_stored_type_is_in_catalogue() -> None:
    assert len(STORED) == 13
    assert {path.stem for path in STORED} <= set(CATALOGUE)


@pytest.mark.parametrize("path", STORED, ids=[path.stem for path in STORED])
def test_v1_payload_decodes_unchanged(path: Path) -> None:
    raw = path.read_bytes()
    stored = json.loads(raw)

    data = parse_data(decode(raw))

    assert type(data) is CATALOGUE[stored["type"]].model
    assert _v1_fields(stored["data"], data.model_dump(mode="json")) == stored["data"]


@pytest.mark.parametrize("path", STORED[:3], ids=[path.stem for path in STORED[:3]])
def test_unknown_optional_field_is_ignored(path: Path) -> None:
    stored = json.loads(path.read_bytes())
    stored["data"]["added_by_a_newer_producer"] = {"any": "value"}

    data = parse_data(decode(json.dumps(stored).encode()))

    assert "added_by_a_newer_producer" not in data.model_dump()


def test_unknown_major_version_is_poison() -> None:
    stored = json.loads(STORED[0].read_bytes())
    stored["schemaversion"] = "2.0"

    with pytest.raises(PoisonMessage) as caught:
        parse_data(decode(json.dumps(stored).encode()))

    assert caught.value.reason == "unknown_schema_version"
