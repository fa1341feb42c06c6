"""Alert identity and lifecycle: raised, updated with new figures, resolved, and raised again.

An alert is identified by entity, line, period, comparison and rule, so the same breach always
maps to the same alert id however often it is evaluated.
"""

import uuid
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from ipm_performance.domain.comparisons import VarianceLine
from ipm_performance.domain.figures import Target
from ipm_performance.domain.rules import AlertRule, Severity, band_for, threshold_text

# NOTE: changing this namespace changes every alert id, and so splits open alerts from their history.
ALERT_NAMESPACE = uuid.UUID("d61c2699-a4b7-46ed-8d33-1b6b92a2b38b")


class AlertStatus(StrEnum):
    RAISED = "raised"
    UPDATED = "updated"
    RESOLVED = "resolved"

    @property
    def is_open(self) -> bool:
        return self is not AlertStatus.RESOLVED


def alert_id(entity_id: str, line: str, period: str, comparison: str, rule: str) -> str:
    """Derive the alert id, a UUID version 5 over the alert's identifying fields."""
    return str(uuid.uuid5(ALERT_NAMESPACE, "|".join((entity_id, line, period, comparison, rule))))


@dataclass(frozen=True)
class AlertFigures:
    """The figures an alert reports. A change in any of these fields is an update."""

    value: Decimal
    comparator: Decimal
    variance: Decimal
    variance_pct: Decimal | None
    threshold: str
    severity: Severity
    phasing: str


@dataclass(frozen=True)
class AlertState:
    """The stored state of one alert."""

    status: AlertStatus
    figures: AlertFigures
    review_requested: bool


@dataclass(frozen=True)
class Assessment:
    """One variance line judged by one rule."""

    alert_id: str
    rule: AlertRule
    breached: bool
    figures: AlertFigures


@dataclass(frozen=True)
class AlertDecision:
    """The status to record and publish (None when nothing changed) and whether to request a review."""

    status: AlertStatus | None
    request_review: bool = False


def assess(line: VarianceLine, rule: AlertRule, target: Target | None) -> Assessment:
    """Judge a variance line against the rule's band, or the target's own band."""
    band = band_for(rule, target)
    figures = AlertFigures(
        value=line.value,
        comparator=line.comparator,
        variance=line.variance,
        variance_pct=line.variance_pct,
        threshold=threshold_text(band),
        severity=rule.severity,
        phasing=line.phasing.value,
    )
    identity = alert_id(line.entity_id, line.line, line.period, line.comparison.value, rule.name.value)
    return Assessment(identity, rule, band.breached(line.variance, line.comparator), figures)


def decide(current: AlertState | None, assessment: Assessment) -> AlertDecision:
    """Decide the next status of an alert from its stored state and a new assessment.

    A breach opens the alert (raised) or, when it is open with other figures, updates it. A
    variance back within tolerance resolves an open alert. Identical figures change nothing.
    A review is requested on a raise when the rule opens reviews and none was requested before.
    """
    is_open = current is not None and current.status.is_open
    if assessment.breached and not is_open:
        already_requested = current is not None and current.review_requested
        return AlertDecision(AlertStatus.RAISED, assessment.rule.opens_review and not already_requested)

    if assessment.breached:
        assert current is not None
        if current.figures == assessment.figures:
            return AlertDecision(None)
        return AlertDecision(AlertStatus.UPDATED)

    if is_open:
        return AlertDecision(AlertStatus.RESOLVED)
    return AlertDecision(None)
