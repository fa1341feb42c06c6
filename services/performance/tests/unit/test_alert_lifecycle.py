"""Alert identity and lifecycle decisions."""

import uuid
from dataclasses import replace
from decimal import Decimal

from ipm_common.variance import Direction
from ipm_performance.domain.alerts import (
    ALERT_NAMESPACE,
    AlertDecision,
    AlertState,
    AlertStatus,
    Assessment,
    alert_id,
    assess,
    decide,
)
from ipm_performance.domain.comparisons import Comparison, compare
from ipm_performance.domain.rules import DEFAULT_RULES, RuleName

STRATEGIC = DEFAULT_RULES[RuleName.STRATEGIC_TARGET_BAND]
BUDGET = DEFAULT_RULES[RuleName.BUDGET_VARIANCE]


def assessment(outlook: str, target: str = "80000000") -> Assessment:
    line = compare("PHL", "WAGE", Comparison.OUTLOOK_VS_TARGET, "FY2024", 2024, value=Decimal(outlook),
                   comparator=Decimal(target), direction=Direction.HIGHER_IS_BETTER, figures_version=1)
    return assess(line, STRATEGIC, None)


def state(status: AlertStatus, judged: Assessment, review_requested: bool = True) -> AlertState:
    return AlertState(status, judged.figures, review_requested)


def test_alert_id_is_uuid5_of_identity() -> None:
    expected = uuid.uuid5(ALERT_NAMESPACE, "PHL|WAGE|FY2024|outlook_vs_target|strategic_target_band")

    assert alert_id("PHL", "WAGE", "FY2024", "outlook_vs_target", "strategic_target_band") == str(expected)
    assert assessment("72000000").alert_id == str(expected)


def test_first_breach_raises_and_requests_review() -> None:
    assert decide(None, assessment("72000000")) == AlertDecision(AlertStatus.RAISED, True)


def test_budget_rule_raises_without_review() -> None:
    line = compare("PHL", "WAGE", Comparison.OUTLOOK_VS_BUDGET, "FY2024", 2024, value=Decimal("60000000"),
                   comparator=Decimal("72000000"), direction=Direction.HIGHER_IS_BETTER, figures_version=1)

    assert decide(None, assess(line, BUDGET, None)) == AlertDecision(AlertStatus.RAISED, False)


def test_no_breach_without_alert_changes_nothing() -> None:
    assert decide(None, assessment("79000000")) == AlertDecision(None)


def test_same_figures_change_nothing() -> None:
    judged = assessment("72000000")

    assert decide(state(AlertStatus.RAISED, judged), judged) == AlertDecision(None)
    assert decide(state(AlertStatus.UPDATED, judged), judged) == AlertDecision(None)


def test_new_figures_update_open_alert() -> None:
    current = state(AlertStatus.RAISED, assessment("72000000"))

    assert decide(current, assessment("66000000")) == AlertDecision(AlertStatus.UPDATED)


def test_back_within_band_resolves() -> None:
    current = state(AlertStatus.UPDATED, assessment("66000000"))

    assert decide(current, assessment("78000000")) == AlertDecision(AlertStatus.RESOLVED)


def test_resolved_alert_stays_quiet_within_band() -> None:
    current = state(AlertStatus.RESOLVED, assessment("78000000"))

    assert decide(current, assessment("79000000")) == AlertDecision(None)


def test_new_breach_raises_again_without_second_review() -> None:
    current = state(AlertStatus.RESOLVED, assessment("78000000"), review_requested=True)

    assert decide(current, assessment("70000000")) == AlertDecision(AlertStatus.RAISED, False)


def test_threshold_change_updates_open_alert() -> None:
    judged = assessment("72000000")
    older = AlertState(AlertStatus.RAISED, replace(judged.figures, threshold="3% and 1 either direction"), True)

    assert decide(older, judged) == AlertDecision(AlertStatus.UPDATED)
