"""The one envelope that every integration event travels in.

The attributes follow CloudEvents 1.0 in structured JSON mode: ``id``, ``source``, ``type``,
``specversion``, ``time``, ``subject`` and ``datacontenttype``. Two extension attributes follow.
``correlationid`` is shared by every event that one ERP batch or API call caused, and
``schemaversion`` is the major.minor version of the schema of ``data``.
"""

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ipm_common.errors import PoisonMessage

SPEC_VERSION = "1.0"

# NOTE: 1 MiB is Kafka's default max.message.bytes; a larger event would be rejected by the broker.
MAX_EVENT_BYTES = 1_048_576


class Envelope(BaseModel):
    """A CloudEvents 1.0 event with IPM's correlation and schema-version extensions."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    source: str
    type: str
    specversion: str = SPEC_VERSION
    time: datetime = Field(default_factory=lambda: datetime.now(UTC))
    subject: str | None = None
    datacontenttype: str = "application/json"
    correlationid: str
    # The version is major.minor. A malformed one must fail here in decode, not later in ``major_version``.
    schemaversion: str = Field(pattern=r"^[0-9]+\.[0-9]+$")
    data: dict[str, Any]

    @property
    def major_version(self) -> int:
        return int(self.schemaversion.split(".", 1)[0])


def encode(envelope: Envelope) -> bytes:
    """Serialise an envelope to UTF-8 JSON with every amount as a string."""
    return envelope.model_dump_json().encode("utf-8")


def decode(raw: bytes | None) -> Envelope:
    """Parse raw message bytes into an envelope; anything unreadable is a ``PoisonMessage``."""
    if raw is None:
        raise PoisonMessage("message has no value", reason="empty")
    if len(raw) > MAX_EVENT_BYTES:
        raise PoisonMessage(f"message of {len(raw)} bytes exceeds {MAX_EVENT_BYTES}", reason="too_large")

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PoisonMessage(f"message is not UTF-8: {error}", reason="not_utf8") from None

    try:
        document = json.loads(text, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        # The JSON decoder raises RecursionError on deeply nested arrays or objects.
        raise PoisonMessage(f"message is not JSON: {error}", reason="not_json") from None

    try:
        return Envelope.model_validate(document)
    except ValidationError as error:
        raise PoisonMessage(f"message is not an IPM event envelope: {error}", reason="invalid_envelope") from None


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed; amounts must be finite")
