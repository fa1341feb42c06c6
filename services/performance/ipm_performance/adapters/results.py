"""Storage of the results: variance lines, alerts and alert rule settings."""

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_common.variance import ToleranceBand
from ipm_performance.adapters import tables
from ipm_performance.adapters.statements import AnyRow, upsert_many
from ipm_performance.domain.alerts import AlertDecision, AlertFigures, AlertState, AlertStatus, Assessment
from ipm_performance.domain.comparisons import VarianceLine
from ipm_performance.domain.rules import DEFAULT_RULES, AlertRule, RuleName

# --- variance lines ----------------------------------------------------------------------------


async def save_variance_lines(connection: AsyncConnection, lines: Sequence[VarianceLine], correlation_id: str,
                              now: datetime) -> None:
    """Upsert the latest figures of each variance line and count one more evaluation of it."""
    rows = [
        {"entity_id": line.entity_id, "line": line.line, "comparison": line.comparison.value, "period": line.period,
         "fiscal_year": line.fiscal_year, "value": line.value, "comparator": line.comparator,
         "variance": line.variance, "variance_pct": line.variance_pct, "favourable": line.favourable,
         "direction": line.direction.value, "phasing": line.phasing.value, "figures_version": line.figures_version,
         "evaluations": 1, "correlation_id": correlation_id, "first_evaluated_at": now, "evaluated_at": now}
        for line in lines
    ]
    await upsert_many(connection, tables.variance_lines, rows, keep=("first_evaluated_at",),
                      increments={"evaluations": 1})


# --- alerts ------------------------------------------------------------------------------------


async def load_alert_states(connection: AsyncConnection, alert_ids: Collection[str]) -> dict[str, AlertState]:
    """Load the status and figures of the stored ones of ``alert_ids``, locking their rows on PostgreSQL."""
    if not alert_ids:
        return {}
    rows = (await connection.execute(select(tables.alerts).where(
        tables.alerts.c.alert_id.in_(sorted(alert_ids))).with_for_update())).all()
    return {row.alert_id: _alert_state(row) for row in rows}


def _alert_state(row: AnyRow) -> AlertState:
    figures = AlertFigures(value=row.value, comparator=row.comparator, variance=row.variance,
                           variance_pct=row.variance_pct, threshold=row.threshold, severity=row.severity,
                           phasing=row.phasing)
    return AlertState(AlertStatus(row.status), figures, row.review_requested)


async def save_alert(connection: AsyncConnection, line: VarianceLine, assessment: Assessment,
                     decision: AlertDecision, is_new: bool, now: datetime) -> None:
    """Record an alert's new status and figures; a raise also marks a requested review."""
    assert decision.status is not None
    figures = assessment.figures
    values: dict[str, object] = {
        "status": decision.status.value, "severity": figures.severity, "value": figures.value,
        "comparator": figures.comparator, "variance": figures.variance, "variance_pct": figures.variance_pct,
        "threshold": figures.threshold, "phasing": figures.phasing, "figures_version": line.figures_version,
        "opens_review": assessment.rule.opens_review, "updated_at": now,
    }
    if decision.status is AlertStatus.RAISED:
        values.update(raised_at=now, resolved_at=None)
    if decision.status is AlertStatus.RESOLVED:
        values["resolved_at"] = now
    if decision.request_review:
        values["review_requested"] = True

    if is_new:
        await connection.execute(insert(tables.alerts).values(
            alert_id=assessment.alert_id, entity_id=line.entity_id, line=line.line, period=line.period,
            comparison=line.comparison.value, rule=assessment.rule.name.value, changes=1,
            **{"review_requested": False, "resolved_at": None, **values}))
        return
    await connection.execute(update(tables.alerts).where(tables.alerts.c.alert_id == assessment.alert_id).values(
        changes=tables.alerts.c.changes + 1, **values))


# --- rules -------------------------------------------------------------------------------------


async def load_rules(connection: AsyncConnection) -> dict[RuleName, AlertRule]:
    """Load every rule: its stored settings, or the defaults when none were stored."""
    rules = dict(DEFAULT_RULES)
    for row in (await connection.execute(select(tables.alert_rules))).all():
        name = _known_rule(row)
        if name is not None:
            rules[name] = _rule_from_row(name, row)
    return rules


async def configured_rules(connection: AsyncConnection) -> dict[RuleName, datetime]:
    """Return when each rule with stored settings was last changed."""
    found: dict[RuleName, datetime] = {}
    for row in (await connection.execute(select(tables.alert_rules.c.rule, tables.alert_rules.c.updated_at))).all():
        name = _known_rule(row)
        if name is not None:
            found[name] = row.updated_at
    return found


async def save_rule(connection: AsyncConnection, rule: AlertRule, now: datetime) -> None:
    row = {"rule": rule.name.value, "band_pct": rule.band.pct, "band_absolute": rule.band.absolute,
           "band_scope": rule.band.scope, "severity": rule.severity, "opens_review": rule.opens_review,
           "updated_at": now}
    await upsert_many(connection, tables.alert_rules, [row])


def _known_rule(row: AnyRow) -> RuleName | None:
    try:
        return RuleName(row.rule)
    except ValueError:
        # A rule removed from the code may leave its row behind; it no longer applies.
        return None


def _rule_from_row(name: RuleName, row: AnyRow) -> AlertRule:
    band = ToleranceBand(row.band_pct, row.band_absolute, row.band_scope)
    return AlertRule(name, band, row.severity, row.opens_review)
