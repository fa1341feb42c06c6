"""Evaluate lines inside a transaction: store their variance lines, move their alerts, publish the changes."""

import logging
from collections.abc import Collection
from dataclasses import dataclass

from ipm_common.dispatch import publish_event
from ipm_common.events import AlertChanged, StrategyReviewRequested
from ipm_common.storage import Transaction, utcnow
from ipm_performance.adapters import repository, results
from ipm_performance.domain.alerts import AlertDecision, Assessment, assess, decide
from ipm_performance.domain.comparisons import Comparison, VarianceLine
from ipm_performance.domain.evaluation import ALL_COMPARISONS, LineEvaluation, evaluate_lines, lines_of_entity
from ipm_performance.domain.figures import EntityFigures
from ipm_performance.domain.lines import LineTree
from ipm_performance.domain.rules import RULE_OF_COMPARISON, AlertRule, RuleName

logger = logging.getLogger(__name__)

SOURCE = "ipm-performance"

# Problems with the reference data repeat at every evaluation; each distinct one is logged once per process.
_logged_problems: set[str] = set()


@dataclass(frozen=True)
class Scope:
    """The part of one entity's fiscal year to evaluate: some lines or all of them, and which comparisons."""

    entity_id: str
    fiscal_year: int
    lines: frozenset[str] | None = None
    comparisons: frozenset[Comparison] = ALL_COMPARISONS


@dataclass
class Outcome:
    variance_lines: int = 0
    alerts_changed: int = 0

    def add(self, other: "Outcome") -> None:
        self.variance_lines += other.variance_lines
        self.alerts_changed += other.alerts_changed


class Evaluator:
    """Evaluate scopes within one transaction, reading the reference data, rules and each year's figures once.

    Create it after the unit of work stored its inputs: the figures it read stay in use until the
    transaction ends. Variance lines and alerts are always read fresh, so a line may be evaluated
    twice in one transaction.
    """

    def __init__(self, transaction: Transaction) -> None:
        self.transaction = transaction
        self._tree: LineTree | None = None
        self._directions: dict[str, str] | None = None
        self._rules: dict[RuleName, AlertRule] | None = None
        self._figures: dict[tuple[str, int], EntityFigures] = {}

    async def tree(self) -> LineTree:
        if self._tree is None:
            self._tree = await repository.line_tree(self.transaction.connection)
        return self._tree

    async def figures(self, entity_id: str, fiscal_year: int) -> EntityFigures:
        key = (entity_id, fiscal_year)
        if key not in self._figures:
            self._figures[key] = await repository.load_figures(self.transaction.connection, entity_id, fiscal_year)
        return self._figures[key]

    async def evaluate(self, scope: Scope, correlation_id: str) -> Outcome:
        """Evaluate a scope and publish an ``AlertChanged`` for every alert whose status or figures changed."""
        tree = await self.tree()
        figures = await self.figures(scope.entity_id, scope.fiscal_year)
        evaluations = evaluate_lines(figures, tree, await self._account_directions(),
                                     _lines_in_scope(scope, figures, tree), scope.comparisons)
        _log_findings(tree, evaluations)

        variance_lines = [variance_line for item in evaluations for variance_line in item.variance_lines]
        connection = self.transaction.connection
        await results.save_variance_lines(connection, variance_lines, correlation_id, utcnow())
        changed = await self._apply_alerts(figures, variance_lines, correlation_id)

        logger.debug("evaluated %s FY%s: %s variance lines, %s alert changes", scope.entity_id, scope.fiscal_year,
                     len(variance_lines), changed)
        return Outcome(len(variance_lines), changed)

    async def _account_directions(self) -> dict[str, str]:
        if self._directions is None:
            self._directions = await repository.account_directions(self.transaction.connection)
        return self._directions

    async def _rules_in_force(self) -> dict[RuleName, AlertRule]:
        if self._rules is None:
            self._rules = await results.load_rules(self.transaction.connection)
        return self._rules

    async def _apply_alerts(self, figures: EntityFigures, variance_lines: list[VarianceLine],
                            correlation_id: str) -> int:
        """Move the alert of each variance line that a rule watches through its lifecycle; return how many changed."""
        rules = await self._rules_in_force()
        assessed = [
            (variance_line, assess(variance_line, rules[rule_name], figures.target(variance_line.line)))
            for variance_line in variance_lines
            if (rule_name := RULE_OF_COMPARISON.get(variance_line.comparison)) is not None
        ]
        connection = self.transaction.connection
        states = await results.load_alert_states(connection, {assessment.alert_id for _, assessment in assessed})

        changed = 0
        for variance_line, assessment in assessed:
            decision = decide(states.get(assessment.alert_id), assessment)
            if decision.status is None:
                continue
            await results.save_alert(connection, variance_line, assessment, decision,
                                     assessment.alert_id not in states, utcnow())
            await self._publish(variance_line, assessment, decision, correlation_id)
            changed += 1
        return changed

    async def _publish(self, variance_line: VarianceLine, assessment: Assessment, decision: AlertDecision,
                       correlation_id: str) -> None:
        await _publish_alert(self.transaction, correlation_id, variance_line, assessment, decision)
        if decision.request_review:
            await _publish_review_request(self.transaction, correlation_id, variance_line, assessment)


def _lines_in_scope(scope: Scope, figures: EntityFigures, tree: LineTree) -> Collection[str]:
    return lines_of_entity(figures, tree) if scope.lines is None else scope.lines


def _log_findings(tree: LineTree, evaluations: list[LineEvaluation]) -> None:
    """Log each distinct reference problem once, and every outlook that could not be evaluated."""
    for problem in [*tree.problems, *(item.problem for item in evaluations if item.problem)]:
        if problem not in _logged_problems:
            _logged_problems.add(problem)
            logger.warning("%s", problem)
    for item in evaluations:
        if item.skipped_outlook:
            logger.info("%s", item.skipped_outlook)


async def _publish_alert(transaction: Transaction, correlation_id: str, variance_line: VarianceLine,
                         assessment: Assessment, decision: AlertDecision) -> None:
    assert decision.status is not None
    figures = assessment.figures
    data = AlertChanged(
        alert_id=assessment.alert_id, status=decision.status.value, entity_id=variance_line.entity_id,
        line=variance_line.line, period=variance_line.period, comparison=variance_line.comparison.value,
        rule=assessment.rule.name.value, severity=figures.severity, value=figures.value,
        comparator=figures.comparator, variance=figures.variance, variance_pct=figures.variance_pct,
        threshold=figures.threshold, phasing=figures.phasing, figures_version=variance_line.figures_version,
        opens_review=assessment.rule.opens_review,
    )
    await publish_event(transaction, SOURCE, data, correlation_id=correlation_id, subject=assessment.alert_id)
    logger.info("alert %s %s: %s %s %s %s variance %s (%s)", assessment.alert_id, decision.status.value,
                variance_line.entity_id, variance_line.line, variance_line.period, variance_line.comparison.value,
                figures.variance, figures.threshold)


async def _publish_review_request(transaction: Transaction, correlation_id: str, variance_line: VarianceLine,
                                  assessment: Assessment) -> None:
    figures = assessment.figures
    data = StrategyReviewRequested(
        alert_id=assessment.alert_id, entity_id=variance_line.entity_id, line=variance_line.line,
        fiscal_year=variance_line.fiscal_year, outlook=figures.value, target=figures.comparator,
        variance=figures.variance, variance_pct=figures.variance_pct, threshold=figures.threshold,
    )
    await publish_event(transaction, SOURCE, data, correlation_id=correlation_id, subject=assessment.alert_id)
    logger.info("strategy review requested for alert %s: %s %s FY%s", assessment.alert_id, variance_line.entity_id,
                variance_line.line, variance_line.fiscal_year)
