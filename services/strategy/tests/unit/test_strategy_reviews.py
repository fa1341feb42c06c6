from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ipm_common.errors import Conflict, InvalidInput
from ipm_strategy.domain.reviews import Breach, open_review

BREACH = Breach("alert-1", "PHL", "wage_tax", 2025, outlook=Decimal("2090000000"), target=Decimal("2203000000"),
                variance=Decimal("-113000000"), variance_pct=Decimal("-0.051294"), threshold="5% and 1000000")
AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def test_review_opens_with_audit_entry() -> None:
    review, entry = open_review(BREACH, "ipm-performance", AT)

    assert review.status == "opened"
    assert len(review.review_id) == 36
    assert (entry.by, entry.action, entry.from_status, entry.to_status) == ("ipm-performance", "opened", None,
                                                                             "opened")


def test_acknowledged_review_can_be_decided() -> None:
    review, _ = open_review(BREACH, "ipm-performance", AT)

    acknowledged, acknowledgement = review.acknowledge("cfo", "looking into it", AT)
    decided, decision = acknowledged.decide("revise_plan", "cfo", "wage growth slowed", AT)

    assert acknowledged.status == "acknowledged"
    assert acknowledgement.note == "looking into it"
    assert decided.status == "decided"
    assert decided.decision == "revise_plan"
    assert decided.reason == "wage growth slowed"
    assert (decision.from_status, decision.to_status) == ("acknowledged", "decided")
    assert decision.note == "revise_plan: wage growth slowed"


def test_opened_review_can_be_decided() -> None:
    review, _ = open_review(BREACH, "ipm-performance", AT)

    decided, entry = review.decide("keep_plan", "cfo", "one-off refund", AT)

    assert decided.status == "decided"
    assert entry.from_status == "opened"


def test_acknowledging_twice_conflicts() -> None:
    review, _ = open_review(BREACH, "ipm-performance", AT)
    acknowledged, _ = review.acknowledge("cfo", None, AT)

    with pytest.raises(Conflict) as raised:
        acknowledged.acknowledge("cfo", None, AT)

    assert raised.value.reason == "review_not_opened"


def test_decided_review_accepts_nothing_more() -> None:
    review, _ = open_review(BREACH, "ipm-performance", AT)
    decided, _ = review.decide("keep_plan", "cfo", "one-off refund", AT)

    with pytest.raises(Conflict) as decide_again:
        decided.decide("revise_plan", "cfo", "second thoughts", AT)
    with pytest.raises(Conflict):
        decided.acknowledge("cfo", None, AT)

    assert decide_again.value.reason == "review_decided"


@pytest.mark.parametrize(("by", "reason", "field"), [("cfo", "", "reason"), ("cfo", "   ", "reason"),
                                                     (" ", "fine", "by")])
def test_decision_needs_reason_and_person(by: str, reason: str, field: str) -> None:
    review, _ = open_review(BREACH, "ipm-performance", AT)

    with pytest.raises(InvalidInput) as raised:
        review.decide("keep_plan", by, reason, AT)

    assert raised.value.field == field


def test_same_decision_counts_as_repeat() -> None:
    review, _ = open_review(BREACH, "ipm-performance", AT)
    decided, _ = review.decide("keep_plan", "cfo", "one-off refund", AT)

    assert decided.repeats_decision("keep_plan", "cfo", "one-off refund") is True


@pytest.mark.parametrize(("decision", "by", "reason"), [
    ("revise_plan", "cfo", "one-off refund"),
    ("keep_plan", "controller", "one-off refund"),
    ("keep_plan", "cfo", "one-off refund, checked"),
])
def test_other_decision_is_no_repeat(decision: str, by: str, reason: str) -> None:
    review, _ = open_review(BREACH, "ipm-performance", AT)
    decided, _ = review.decide("keep_plan", "cfo", "one-off refund", AT)

    assert decided.repeats_decision(decision, by, reason) is False  # type: ignore[arg-type]


def test_undecided_review_is_no_repeat() -> None:
    review, _ = open_review(BREACH, "ipm-performance", AT)

    assert review.repeats_decision("keep_plan", "cfo", "one-off refund") is False


def test_other_revised_plan_is_no_repeat() -> None:
    review, _ = open_review(BREACH, "ipm-performance", AT)
    decided, _ = review.decide("revise_plan", "cfo", "wage growth slowed", AT)
    adopted = decided.with_revised_plan("op-2026")

    assert decided.repeats_decision("revise_plan", "cfo", "wage growth slowed", "op-2026") is False
    assert adopted.repeats_decision("revise_plan", "cfo", "wage growth slowed") is False
    assert adopted.repeats_decision("revise_plan", "cfo", "wage growth slowed", "op-2026") is True
