import json
from decimal import Decimal

import pytest

from ipm_common.envelope import MAX_EVENT_BYTES, Envelope, decode, encode
from ipm_common.errors import PoisonMessage


def _envelope(**changes: object) -> Envelope:
    fields: dict[str, object] = {
        "source": "ipm/forecast",
        "type": "ipm.forecast.actuals.posted",
        "correlationid": "batch-1",
        "schemaversion": "1.0",
        "data": {"amount": Decimal("12345678901234567890.123456789"), "small": Decimal("0.10")},
    }
    fields.update(changes)
    return Envelope.model_validate(fields)


def _document(**changes: object) -> dict[str, object]:
    return {**json.loads(encode(_envelope())), **changes}


def _poison(raw: bytes | None) -> PoisonMessage:
    with pytest.raises(PoisonMessage) as caught:
        decode(raw)
    return caught.value


def test_encode_writes_amounts_as_strings() -> None:
    document = json.loads(encode(_envelope()))

    assert document["data"]["amount"] == "12345678901234567890.123456789"
    assert document["data"]["small"] == "0.10"


def test_round_trip_keeps_amount_text() -> None:
    decoded = decode(encode(_envelope()))

    assert decoded.data["amount"] == "12345678901234567890.123456789"
    assert decoded.data["small"] == "0.10"


def test_round_trip_keeps_attributes() -> None:
    original = _envelope(subject="ACME")

    decoded = decode(encode(original))

    # data differs in type only: Decimal in, decimal string out.
    assert decoded.model_dump(exclude={"data"}) == original.model_dump(exclude={"data"})


def test_new_envelope_gets_unique_id() -> None:
    assert _envelope().id != _envelope().id


def test_major_version_reads_first_number() -> None:
    assert _envelope(schemaversion="12.3").major_version == 12


def test_decode_keeps_json_numbers_exact() -> None:
    raw = json.dumps(_document(data={"amount": "placeholder"})).replace('"placeholder"', "0.1")

    decoded = decode(raw.encode())

    assert decoded.data["amount"] == Decimal("0.1")


def test_decode_ignores_unknown_attributes() -> None:
    raw = json.dumps(_document(traceparent="00-abc")).encode()

    assert decode(raw).type == "ipm.forecast.actuals.posted"


def test_decode_rejects_missing_value() -> None:
    assert _poison(None).reason == "empty"


def test_decode_rejects_non_utf8() -> None:
    assert _poison(b'{"id": "\xff\xfe"}').reason == "not_utf8"


@pytest.mark.parametrize("raw", [b"", b"not json", b'{"id": ', b"\x00"])
def test_decode_rejects_non_json(raw: bytes) -> None:
    assert _poison(raw).reason == "not_json"


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_decode_rejects_non_finite_literals(literal: str) -> None:
    raw = json.dumps(_document(data={"amount": "placeholder"})).replace('"placeholder"', literal)

    assert _poison(raw.encode()).reason == "not_json"


def test_decode_rejects_deep_nesting() -> None:
    # The JSON decoder raises RecursionError here, not ValueError.
    assert _poison(b"[" * 100_000).reason == "not_json"


def test_decode_rejects_oversized_message() -> None:
    raw = b" " * (MAX_EVENT_BYTES + 1)

    assert _poison(raw).reason == "too_large"


def test_decode_accepts_message_at_size_limit() -> None:
    raw = encode(_envelope())
    padded = raw + b" " * (MAX_EVENT_BYTES - len(raw))

    assert decode(padded).id == json.loads(raw)["id"]


@pytest.mark.parametrize("missing", ["source", "type", "correlationid", "schemaversion", "data"])
def test_decode_rejects_missing_attribute(missing: str) -> None:
    document = _document()
    del document[missing]

    assert _poison(json.dumps(document).encode()).reason == "invalid_envelope"


@pytest.mark.parametrize("version", ["1", "one", "1.0.0", "v1.0", "1.0\n"])
def test_decode_rejects_malformed_schema_version(version: str) -> None:
    raw = json.dumps(_document(schemaversion=version)).encode()

    assert _poison(raw).reason == "invalid_envelope"


@pytest.mark.parametrize("raw", [b"[]", b'"event"', b"42", b"null"])
def test_decode_rejects_non_object_json(raw: bytes) -> None:
    assert _poison(raw).reason == "invalid_envelope"


def test_decode_rejects_data_that_is_not_object() -> None:
    raw = json.dumps(_document(data=[1, 2])).encode()

    assert _poison(raw).reason == "invalid_envelope"
