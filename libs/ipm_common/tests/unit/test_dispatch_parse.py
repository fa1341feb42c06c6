from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from ipm_common.dispatch import UPCASTERS, new_event, parse_data
from ipm_common.envelope import Envelope
from ipm_common.errors import PoisonMessage
from ipm_common.events import BenefitPoint, BenefitsPlanned, ReviewDecided

REVIEW_DECIDED = "ipm.strategy.review.decided"

DECISION = {
    "review_id": "review-1",
    "alert_id": "alert-1",
    "entity_id": "ACME",
    "decision": "keep_plan",
    "decided_by": "cfo",
    "reason": "timing difference",
}


def _envelope(data: dict[str, Any], *, type_: str = REVIEW_DECIDED, version: str = "1.0") -> Envelope:
    return Envelope(source="test", type=type_, correlationid="c-1", schemaversion=version, data=data)


def _poison(envelope: Envelope) -> PoisonMessage:
    with pytest.raises(PoisonMessage) as caught:
        parse_data(envelope)
    return caught.value


def _rename_approver(data: dict[str, Any]) -> dict[str, Any]:
    """Upcast a v0 decision, which named the decider ``approver``, to v1."""
    upcast = {key: value for key, value in data.items() if key != "approver"}
    upcast["decided_by"] = data["approver"]
    return upcast


@pytest.fixture
def v0_upcaster() -> Iterator[None]:
    """Register the v0 to v1 upcaster of review decisions for one test."""
    key = (REVIEW_DECIDED, 0)
    assert key not in UPCASTERS
    UPCASTERS[key] = _rename_approver
    try:
        yield
    finally:
        del UPCASTERS[key]


def test_parse_returns_catalogued_model() -> None:
    data = parse_data(_envelope(DECISION))

    assert data == ReviewDecided(**DECISION)


def test_parse_rejects_unknown_type() -> None:
    error = _poison(_envelope(DECISION, type_="ipm.strategy.review.shredded"))

    assert error.reason == "unknown_type"


def test_parse_rejects_newer_major_version() -> None:
    error = _poison(_envelope(DECISION, version="2.0"))

    assert error.reason == "unknown_schema_version"


def test_parse_accepts_newer_minor_version() -> None:
    data = parse_data(_envelope(DECISION, version="1.9"))

    assert isinstance(data, ReviewDecided)


def test_parse_rejects_old_version_without_upcaster() -> None:
    error = _poison(_envelope(DECISION, version="0.4"))

    assert error.reason == "unknown_schema_version"


@pytest.mark.usefixtures("v0_upcaster")
def test_parse_applies_registered_upcaster() -> None:
    old = {key: value for key, value in DECISION.items() if key != "decided_by"} | {"approver": "cfo"}

    data = parse_data(_envelope(old, version="0.4"))

    assert data == ReviewDecided(**DECISION)


@pytest.mark.usefixtures("v0_upcaster")
def test_upcaster_skipped_for_current_version() -> None:
    # A v1 payload has no "approver", so running the v0 upcaster on it would raise KeyError.
    data = parse_data(_envelope(DECISION, version="1.0"))

    assert isinstance(data, ReviewDecided)


def test_parse_ignores_unknown_fields() -> None:
    data = parse_data(_envelope(DECISION | {"escalated_to": "board"}))

    assert data == ReviewDecided(**DECISION)


def test_parse_rejects_invalid_payload() -> None:
    error = _poison(_envelope(DECISION | {"decision": "shrug"}))

    assert error.reason == "invalid_payload"


def test_parse_rejects_missing_payload_field() -> None:
    incomplete = {key: value for key, value in DECISION.items() if key != "reason"}

    assert _poison(_envelope(incomplete)).reason == "invalid_payload"


def test_parse_rejects_float_amount() -> None:
    planned = {
        "project_id": "p-1", "name": "Lean", "entity_id": "ACME", "account_id": "4000", "version": 1,
        "benefits": [{"period": "FY2024-P01", "amount": 0.1}],
    }

    error = _poison(_envelope(planned, type_="ipm.projects.benefits.planned"))

    assert error.reason == "invalid_payload"


def test_new_event_uses_catalogue_type_and_version() -> None:
    decided = ReviewDecided(**DECISION)

    envelope = new_event("ipm/strategy", decided, correlation_id="c-9")

    assert envelope.type == REVIEW_DECIDED
    assert envelope.schemaversion == "1.0"
    assert envelope.correlationid == "c-9"


def test_new_event_writes_money_as_strings() -> None:
    planned = BenefitsPlanned(
        project_id="p-1", name="Lean", entity_id="ACME", account_id="4000", version=1,
        benefits=(BenefitPoint(period="FY2024-P01", amount=Decimal("1250.10")),),
    )

    envelope = new_event("ipm/projects", planned, correlation_id="c-1")

    assert envelope.data["benefits"][0]["amount"] == "1250.10"


def test_new_event_round_trips_through_parse() -> None:
    planned = BenefitsPlanned(
        project_id="p-1", name="Lean", entity_id="ACME", account_id="4000", version=1,
        benefits=(BenefitPoint(period="FY2024-P01", amount=Decimal("0.30")),),
    )

    parsed = parse_data(new_event("ipm/projects", planned, correlation_id="c-1"))

    assert parsed == planned
