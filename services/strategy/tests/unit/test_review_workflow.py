from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from ipm_common.errors import Conflict, InvalidInput
from ipm_strategy.domain.reviews import Breach, open_review

BREACH = Breach("alert-1", "ACME", "revenue", 2025, outlook=Decimal("900"), target=Decimal("1000"),
                variance=Decimal("-100"), variance_pct=Decimal("-0.1"), threshold="5% and 0")
AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def test_review_moves_through_analysis_to_project() -> None:
    review, _ = open_review(BREACH, "ipm-performance", AT)

    acknowledged, _ = review.acknowledge("controller", None, AT)
    analysed, analysis = acknowledged.analyse("analyst", "volume loss at one customer", AT)
    decided, decision = analysed.decide("launch_project", "cfo", "win back the customer", AT)

    assert analysed.status == "analysed"
    assert analysed.analysis == "volume loss at one customer"
    assert (analysis.action, analysis.from_status, analysis.to_status) == ("analysed", "acknowledged", "analysed")
    assert decided.decision == "launch_project"
    assert (decision.from_status, decision.to_status) == ("analysed", "decided")


def test_assignment_and_comment_keep_status() -> None:
    review, _ = open_review(BREACH, "ipm-performance", AT)

    assigned, assignment = review.assign("cfo", "controller", date(2025, 3, 15), AT)
    comment = assigned.comment("controller", "waiting for March actuals", AT)

    assert (assigned.status, assigned.owner, assigned.due_date) == ("opened", "controller", date(2025, 3, 15))
    assert assignment.note == "owner controller, due 2025-03-15"
    assert (comment.action, comment.from_status, comment.to_status) == ("commented", "opened", "opened")


def test_decided_review_rejects_analysis_and_assignment() -> None:
    review, _ = open_review(BREACH, "ipm-performance", AT)
    decided, _ = review.decide("keep_plan", "cfo", "one-off", AT)

    with pytest.raises(Conflict):
        decided.analyse("analyst", "too late", AT)
    with pytest.raises(Conflict):
        decided.assign("cfo", "controller", None, AT)


def test_blank_analysis_is_rejected() -> None:
    review, _ = open_review(BREACH, "ipm-performance", AT)

    with pytest.raises(InvalidInput) as raised:
        review.analyse("analyst", "  ", AT)

    assert raised.value.field == "analysis"
