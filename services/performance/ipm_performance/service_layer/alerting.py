"""Move alerts through their lifecycle inside an evaluation's transaction and publish each change.

Every rule that watches a variance line's comparison and covers its scope judges the line. A
change is stored on the alert, appended to the alert change log (read by the event stream and the
webhooks) and added to the outbox, all in the caller's transaction.
"""

import logging
from collections.abc import Callable, Sequence
from decimal import Decimal

from ipm_common.dispatch import publish_event
from ipm_common.envelope import encode
from ipm_common.events import AlertChanged, StrategyReviewRequested
from ipm_common.storage import Transaction, utcnow
from ipm_performance.adapters import alert_queries, results
from ipm_performance.domain.alerts import AlertDecision, Assessment, assess, decide, preceding_periods
from ipm_performance.domain.comparisons import VarianceLine
from ipm_performance.domain.figures import Target
from ipm_performance.domain.lines import LineTree
from ipm_performance.domain.rules import AlertRule, split_line

logger = logging.getLogger(__name__)

SOURCE = "ipm-performance"

TargetLookup = Callable[[str], Target | None]


class AlertApplier:
    """Judge variance lines by every rule in force, reading the rules and each entity's latest period once."""

    def __init__(self, transaction: Transaction) -> None:
        self.transaction = transaction
        self._rules: dict[str, AlertRule] | None = None
        self._latest: dict[str, str | None] = {}
        self._locked = False

    async def rules(self) -> dict[str, AlertRule]:
        if self._rules is None:
            self._rules = await results.load_rules(self.transaction.connection)
        return self._rules

    async def apply(self, variance_lines: Sequence[VarianceLine], tree: LineTree, target_of: TargetLookup,
                    correlation_id: str) -> int:
        """Judge each line by the rules that watch it and record every alert change; return how many changed."""
        assessed: list[tuple[VarianceLine, Assessment]] = []
        for line in variance_lines:
            for rule in await self._rules_watching(line, tree):
                assessed.append((line, await self._assess(line, rule, target_of(line.line))))

        connection = self.transaction.connection
        if assessed and not self._locked:
            # Taken before any alert row, so that every writer locks in the same order.
            await alert_queries.lock_change_log(connection)
            self._locked = True
        states = await results.load_alert_states(connection, {assessment.alert_id for _, assessment in assessed})
        changed = 0
        for line, assessment in assessed:
            decision = decide(states.get(assessment.alert_id), assessment, correlation_id)
            if decision.status is None:
                continue
            await results.save_alert(connection, line, assessment, decision, assessment.alert_id not in states,
                                     utcnow(), correlation_id)
            await self._publish(line, assessment, decision, correlation_id)
            changed += 1
        return changed

    async def _rules_watching(self, line: VarianceLine, tree: LineTree) -> list[AlertRule]:
        account, _ = split_line(line.line)
        ancestors = tree.ancestors_of(account)
        return [rule for rule in (await self.rules()).values()
                if line.comparison.value in rule.comparisons and rule.scope.covers(line.entity_id, line.line,
                                                                                   ancestors)]

    async def _assess(self, line: VarianceLine, rule: AlertRule, target: Target | None) -> Assessment:
        earlier: list[tuple[Decimal, Decimal]] = []
        if rule.persistence > 1:
            periods = preceding_periods(line.period, rule.persistence - 1)
            earlier = await alert_queries.earlier_variances(self.transaction.connection, line.entity_id, line.line,
                                                            line.comparison.value, periods)
        return assess(line, rule, target, earlier, await self._is_past(line))

    async def _is_past(self, line: VarianceLine) -> bool:
        """Check whether the line's period ends before the entity's latest period with actuals."""
        if line.entity_id not in self._latest:
            self._latest[line.entity_id] = await alert_queries.latest_period(self.transaction.connection,
                                                                             line.entity_id)
        latest = self._latest[line.entity_id]
        if latest is None:
            return False
        if "-" in line.period:
            return line.period < latest
        return line.fiscal_year < int(latest[2:6])

    async def _publish(self, line: VarianceLine, assessment: Assessment, decision: AlertDecision,
                       correlation_id: str) -> None:
        await _publish_alert(self.transaction, correlation_id, line, assessment, decision)
        if decision.request_review:
            await _publish_review_request(self.transaction, correlation_id, line, assessment)


async def _publish_alert(transaction: Transaction, correlation_id: str, line: VarianceLine, assessment: Assessment,
                         decision: AlertDecision) -> None:
    assert decision.status is not None
    figures = assessment.figures
    data = AlertChanged(
        alert_id=assessment.alert_id, status=decision.status.value, entity_id=line.entity_id, line=line.line,
        period=line.period, comparison=line.comparison.value, rule=assessment.rule.name, severity=figures.severity,
        value=figures.value, comparator=figures.comparator, variance=figures.variance,
        variance_pct=figures.variance_pct, threshold=figures.threshold, phasing=figures.phasing,
        figures_version=line.figures_version, opens_review=assessment.rule.opens_review, restated=decision.restated,
    )
    envelope = await publish_event(transaction, SOURCE, data, correlation_id=correlation_id,
                                   subject=assessment.alert_id)
    await results.record_alert_change(transaction.connection, assessment.alert_id, line.entity_id, figures.severity,
                                      decision.status.value, encode(envelope).decode("utf-8"), utcnow())
    logger.info("alert %s %s: %s %s %s %s variance %s (%s, %s)%s", assessment.alert_id, decision.status.value,
                line.entity_id, line.line, line.period, line.comparison.value, figures.variance, figures.severity,
                figures.threshold, " restated" if decision.restated else "")


async def _publish_review_request(transaction: Transaction, correlation_id: str, line: VarianceLine,
                                  assessment: Assessment) -> None:
    figures = assessment.figures
    data = StrategyReviewRequested(
        alert_id=assessment.alert_id, entity_id=line.entity_id, line=line.line, fiscal_year=line.fiscal_year,
        outlook=figures.value, target=figures.comparator, variance=figures.variance,
        variance_pct=figures.variance_pct, threshold=figures.threshold,
    )
    await publish_event(transaction, SOURCE, data, correlation_id=correlation_id, subject=assessment.alert_id)
    logger.info("strategy review requested for alert %s: %s %s FY%s", assessment.alert_id, line.entity_id,
                line.line, line.fiscal_year)
