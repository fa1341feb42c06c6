"""Evaluate lines inside a transaction: store their variance lines, move their alerts, publish the changes."""

import logging
from collections.abc import Collection
from dataclasses import dataclass, field

from ipm_common.dispatch import publish_event
from ipm_common.events import AlertChanged, StrategyReviewRequested
from ipm_common.storage import Transaction, utcnow
from ipm_performance.adapters import repository, results
from ipm_performance.domain.alerts import AlertDecision, Assessment, assess, decide
from ipm_performance.domain.comparisons import Comparison, VarianceLine
from ipm_performance.domain.evaluation import ALL_COMPARISONS, evaluate_lines, lines_of_entity
from ipm_performance.domain.figures import EntityFigures
from ipm_performance.domain.lines import LineTree
from ipm_performance.domain.rules import RULE_OF_COMPARISON, AlertRule, RuleName

logger = logging.getLogger(__name__)

SOURCE = "ipm-performance"

# Problems with the reference data repeat at every evaluation; each distinct one is logged once per process.
_logged_problems: set[str] = set()


@dataclass(frozen=True)
class Scope:
    """The part of one entity's fiscal year to evaluate: some lines or all of them, and which comparisons.

    With ``with_ancestors`` every hierarchy node above the given lines is evaluated too.
    """

    entity_id: str
    fiscal_year: int
    lines: frozenset[str] | None = None
    comparisons: frozenset[Comparison] = ALL_COMPARISONS
    with_ancestors: bool = False


@dataclass
class Outcome:
    variance_lines: int = 0
    alerts_changed: int = 0

    def add(self, other: "Outcome") -> None:
        self.variance_lines += other.variance_lines
        self.alerts_changed += other.alerts_changed


@dataclass
class _Context:
    transaction: Transaction
    correlation_id: str
    figures: EntityFigures
    rules: dict[RuleName, AlertRule] = field(default_factory=dict)


async def evaluate(transaction: Transaction, scope: Scope, correlation_id: str) -> Outcome:
    """Evaluate a scope and publish an ``AlertChanged`` for every alert whose status or figures changed."""
    connection = transaction.connection
    tree = await repository.line_tree(connection)
    directions = await repository.account_directions(connection)
    figures = await repository.load_figures(connection, scope.entity_id, scope.fiscal_year)

    lines = _lines_in_scope(scope, figures, tree)
    evaluations = evaluate_lines(figures, tree, directions, lines, scope.comparisons)
    _log_problems([*tree.problems, *(item.problem for item in evaluations if item.problem)])

    variance_lines = [variance_line for item in evaluations for variance_line in item.variance_lines]
    await results.save_variance_lines(connection, variance_lines, correlation_id, utcnow())

    context = _Context(transaction, correlation_id, figures, await results.load_rules(connection))
    changed = 0
    for variance_line in variance_lines:
        changed += await _apply_alert(context, variance_line)

    logger.debug("evaluated %s FY%s: %s variance lines, %s alert changes", scope.entity_id, scope.fiscal_year,
                 len(variance_lines), changed)
    return Outcome(len(variance_lines), changed)


def _lines_in_scope(scope: Scope, figures: EntityFigures, tree: LineTree) -> Collection[str]:
    if scope.lines is None:
        return lines_of_entity(figures, tree)
    lines = set(scope.lines)
    if scope.with_ancestors:
        for line in scope.lines:
            lines |= tree.ancestors_of(line)
    return lines


def _log_problems(problems: list[str]) -> None:
    for problem in problems:
        if problem not in _logged_problems:
            _logged_problems.add(problem)
            logger.warning("%s", problem)


async def _apply_alert(context: _Context, variance_line: VarianceLine) -> int:
    """Move the alert of a variance line through its lifecycle; return 1 when it changed, else 0."""
    rule_name = RULE_OF_COMPARISON.get(variance_line.comparison)
    if rule_name is None:
        return 0

    connection = context.transaction.connection
    assessment = assess(variance_line, context.rules[rule_name], context.figures.target(variance_line.line))
    current = await results.load_alert_state(connection, assessment.alert_id)
    decision = decide(current, assessment)
    if decision.status is None:
        return 0

    await results.save_alert(connection, variance_line, assessment, decision, current is None, utcnow())
    await _publish_alert(context, variance_line, assessment, decision)
    if decision.request_review:
        await _publish_review_request(context, variance_line, assessment)
    return 1


async def _publish_alert(context: _Context, variance_line: VarianceLine, assessment: Assessment,
                         decision: AlertDecision) -> None:
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
    await publish_event(context.transaction, SOURCE, data, correlation_id=context.correlation_id,
                        subject=assessment.alert_id)
    logger.info("alert %s %s: %s %s %s %s variance %s (%s)", assessment.alert_id, decision.status.value,
                variance_line.entity_id, variance_line.line, variance_line.period, variance_line.comparison.value,
                figures.variance, figures.threshold)


async def _publish_review_request(context: _Context, variance_line: VarianceLine, assessment: Assessment) -> None:
    figures = assessment.figures
    data = StrategyReviewRequested(
        alert_id=assessment.alert_id, entity_id=variance_line.entity_id, line=variance_line.line,
        fiscal_year=variance_line.fiscal_year, outlook=figures.value, target=figures.comparator,
        variance=figures.variance, variance_pct=figures.variance_pct, threshold=figures.threshold,
    )
    await publish_event(context.transaction, SOURCE, data, correlation_id=context.correlation_id,
                        subject=assessment.alert_id)
    logger.info("strategy review requested for alert %s: %s %s FY%s", assessment.alert_id, variance_line.entity_id,
                variance_line.line, variance_line.fiscal_year)
