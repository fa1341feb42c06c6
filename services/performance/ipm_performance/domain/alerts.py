"""Alert identity and lifecycle: raised, updated with new figures, resolved, and raised again.

An alert is identified by entity, line, period, comparison and rule, so the same breach always
maps to the same alert id however often it is evaluated.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from ipm_common.periods import PeriodKey
from ipm_performance.domain.comparisons import VarianceLine
from ipm_performance.domain.figures import Target
from ipm_performance.domain.rules import AlertRule, Severity, judge

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
    """Derive the alert id, a UUID version 5 over the alert's identifying fields.

    A cost centre's line such as ``obligations@Police`` carries the cost centre into the id.
    """
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
    restated: bool = False
    correlation_id: str = ""


@dataclass(frozen=True)
class Assessment:
    """One variance line judged by one rule."""

    alert_id: str
    rule: AlertRule
    breached: bool
    figures: AlertFigures
    # Whether the line's period lies before the entity's latest period, so new figures restate it.
    past_period: bool = False


@dataclass(frozen=True)
class AlertDecision:
    """The status to record and publish (None when nothing changed), whether to request a review, and restatement."""

    status: AlertStatus | None
    request_review: bool = False
    restated: bool = False


def preceding_periods(period: str, count: int) -> list[str]:
    """Return the ``count`` periods before ``period``, the nearest first; FY2023 precedes FY2024."""
    if period.startswith("FY") and period[2:].isdigit():
        year = int(period[2:])
        return [f"FY{year - offset}" for offset in range(1, count + 1)]
    key = PeriodKey.parse(period)
    return [str(key.shift(-offset)) for offset in range(1, count + 1)]


def assess(line: VarianceLine, rule: AlertRule, target: Target | None,
           earlier: Sequence[tuple[Decimal, Decimal]] = (), past_period: bool = False) -> Assessment:
    """Judge a variance line against the rule's tiers, or the target's own band.

    With a persistence of N the line breaches only when the N - 1 ``earlier`` (variance,
    comparator) pairs, the preceding periods of the same line and comparison from the nearest
    on, breach too. A period missing from ``earlier`` breaks the run.
    """
    judgement = judge(rule, line.variance, line.comparator, target)
    figures = AlertFigures(
        value=line.value,
        comparator=line.comparator,
        variance=line.variance,
        variance_pct=line.variance_pct,
        threshold=judgement.threshold,
        severity=judgement.severity or rule.severity,
        phasing=line.phasing.value,
    )
    identity = alert_id(line.entity_id, line.line, line.period, line.comparison.value, rule.name)
    return Assessment(identity, rule, judgement.severity is not None and _persists(rule, earlier, target), figures,
                      past_period)


def _persists(rule: AlertRule, earlier: Sequence[tuple[Decimal, Decimal]], target: Target | None) -> bool:
    needed = rule.persistence - 1
    if len(earlier) < needed:
        return False
    return all(judge(rule, variance, comparator, target).severity is not None
               for variance, comparator in earlier[:needed])


def decide(current: AlertState | None, assessment: Assessment, correlation_id: str = "") -> AlertDecision:
    """Decide the next status of an alert from its stored state and a new assessment.

    A breach opens the alert (raised) or, when it is open with other figures, updates it. A
    variance back within tolerance resolves an open alert. Identical figures change nothing.
    A review is requested on a raise when the rule opens reviews and none was requested before.
    A change of value or comparator in a period before the entity's latest one is a restatement.
    A change under the correlation id of the alert's last change is not, because the events of
    one ERP batch share that id and its first events see the batch's figures only in part.
    """
    is_open = current is not None and current.status.is_open
    restated = _restates(current, assessment, correlation_id)
    if assessment.breached and not is_open:
        already_requested = current is not None and current.review_requested
        return AlertDecision(AlertStatus.RAISED, assessment.rule.opens_review and not already_requested, restated)

    if assessment.breached:
        assert current is not None
        if current.figures == assessment.figures:
            return AlertDecision(None)
        return AlertDecision(AlertStatus.UPDATED, restated=restated)

    if is_open:
        return AlertDecision(AlertStatus.RESOLVED, restated=restated)
    return AlertDecision(None)


def _restates(current: AlertState | None, assessment: Assessment, correlation_id: str) -> bool:
    if current is None or not assessment.past_period:
        return False
    if correlation_id and current.correlation_id == correlation_id:
        return False
    before, after = current.figures, assessment.figures
    return (before.value, before.comparator) != (after.value, after.comparator)
