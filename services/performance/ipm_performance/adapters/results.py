"""Storage of the results: variance lines, alerts and alert rule settings."""

import json
from collections.abc import Collection, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_performance.adapters import tables
from ipm_performance.adapters.statements import AnyRow, upsert_many
from ipm_performance.domain.alerts import AlertDecision, AlertFigures, AlertState, AlertStatus, Assessment
from ipm_performance.domain.comparisons import VarianceLine
from ipm_performance.domain.rules import DEFAULT_RULES, AlertRule, RuleScope, Tier

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
    return AlertState(AlertStatus(row.status), figures, row.review_requested, row.restated, row.correlation_id)


async def save_alert(connection: AsyncConnection, line: VarianceLine, assessment: Assessment,
                     decision: AlertDecision, is_new: bool, now: datetime, correlation_id: str = "") -> None:
    """Record an alert's new status and figures; a raise also marks a requested review."""
    assert decision.status is not None
    figures = assessment.figures
    values: dict[str, object] = {
        "status": decision.status.value, "severity": figures.severity, "value": figures.value,
        "comparator": figures.comparator, "variance": figures.variance, "variance_pct": figures.variance_pct,
        "threshold": figures.threshold, "phasing": figures.phasing, "figures_version": line.figures_version,
        "opens_review": assessment.rule.opens_review, "updated_at": now, "correlation_id": correlation_id,
    }
    if decision.status is AlertStatus.RAISED:
        values.update(raised_at=now, resolved_at=None, restated=decision.restated)
    elif decision.restated:
        values["restated"] = True
    if decision.status is AlertStatus.RESOLVED:
        values["resolved_at"] = now
    if decision.request_review:
        values["review_requested"] = True

    if is_new:
        await connection.execute(insert(tables.alerts).values(
            alert_id=assessment.alert_id, entity_id=line.entity_id, line=line.line, period=line.period,
            comparison=line.comparison.value, rule=assessment.rule.name, changes=1,
            **{"review_requested": False, "resolved_at": None, "restated": False, **values}))
        return
    await connection.execute(update(tables.alerts).where(tables.alerts.c.alert_id == assessment.alert_id).values(
        changes=tables.alerts.c.changes + 1, **values))


# --- rules -------------------------------------------------------------------------------------


async def load_rules(connection: AsyncConnection) -> dict[str, AlertRule]:
    """Load every rule: the built-in ones with their stored settings or defaults, then the stored others."""
    rules = dict(DEFAULT_RULES)
    for row in (await connection.execute(select(tables.alert_rules).order_by(tables.alert_rules.c.rule))).all():
        rules[row.rule] = _rule_from_row(row)
    return rules


async def configured_rules(connection: AsyncConnection) -> dict[str, datetime]:
    """Return when each rule with stored settings was last changed."""
    rows = (await connection.execute(select(tables.alert_rules.c.rule, tables.alert_rules.c.updated_at))).all()
    return {row.rule: row.updated_at for row in rows}


async def save_rule(connection: AsyncConnection, rule: AlertRule, now: datetime) -> None:
    band = rule.band
    row = {"rule": rule.name, "band_pct": band.pct, "band_absolute": band.absolute, "band_scope": band.scope,
           "severity": rule.severity, "opens_review": rule.opens_review, "updated_at": now,
           "definition": json.dumps(rule_definition(rule), sort_keys=True)}
    await upsert_many(connection, tables.alert_rules, [row])


async def delete_rule(connection: AsyncConnection, name: str) -> bool:
    """Delete a rule's stored settings; return whether there were any."""
    result = await connection.execute(delete(tables.alert_rules).where(tables.alert_rules.c.rule == name))
    return result.rowcount > 0


def rule_definition(rule: AlertRule) -> dict[str, Any]:
    """Serialise a rule with every amount as a decimal string."""
    return {
        "tiers": [{"severity": tier.severity, "pct": _text(tier.pct), "absolute": _text(tier.absolute)}
                  for tier in rule.tiers],
        "direction": rule.direction,
        "opens_review": rule.opens_review,
        "comparisons": sorted(rule.comparisons),
        "scope": {"entity_id": rule.scope.entity_id, "line": rule.scope.line, "node": rule.scope.node,
                  "cost_centre": rule.scope.cost_centre},
        "floor": _text(rule.floor),
        "persistence": rule.persistence,
    }


def _rule_from_row(row: AnyRow) -> AlertRule:
    if row.definition is None:
        # A row stored before rules had tiers contains one band, and a built-in rule keeps its comparisons.
        default = DEFAULT_RULES.get(row.rule)
        comparisons = default.comparisons if default is not None else frozenset()
        return AlertRule(row.rule, (Tier(row.severity, row.band_pct, row.band_absolute),), row.band_scope,
                         row.opens_review, comparisons)

    definition = json.loads(row.definition)
    return AlertRule(
        name=row.rule,
        tiers=tuple(Tier(item["severity"], _amount(item["pct"]), _amount(item["absolute"]))
                    for item in definition["tiers"]),
        direction=definition["direction"],
        opens_review=definition["opens_review"],
        comparisons=frozenset(definition["comparisons"]),
        scope=RuleScope(**definition["scope"]),
        floor=_amount(definition["floor"]),
        persistence=definition["persistence"],
    )


def _text(amount: Decimal | None) -> str | None:
    return None if amount is None else format(amount, "f")


def _amount(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


# --- the alert change log ------------------------------------------------------------------------


async def record_alert_change(connection: AsyncConnection, alert_id: str, entity_id: str, severity: str,
                              status: str, payload: str, now: datetime) -> None:
    """Append one alert change to the log that the event stream and the webhooks read by sequence."""
    await connection.execute(insert(tables.alert_changes).values(
        alert_id=alert_id, entity_id=entity_id, severity=severity, status=status, payload=payload, created_at=now))
