"""Evaluate lines inside a transaction: store their variance lines, move their alerts, publish the changes."""

import logging
from collections.abc import Collection
from dataclasses import dataclass

from ipm_common.storage import Transaction, utcnow
from ipm_performance.adapters import repository, results
from ipm_performance.domain.comparisons import Comparison, VarianceLine
from ipm_performance.domain.evaluation import ALL_COMPARISONS, LineEvaluation, evaluate_lines, lines_of_entity
from ipm_performance.domain.figures import EntityFigures
from ipm_performance.domain.lines import LineTree
from ipm_performance.service_layer.alerting import SOURCE, AlertApplier
from ipm_performance.service_layer.cost_centres import evaluate_cost_centres

logger = logging.getLogger(__name__)

__all__ = ["SOURCE", "Evaluator", "Outcome", "Scope"]

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
        self._alerts = AlertApplier(transaction)
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
        if scope.lines is None:
            # Cost centre lines are compared when the whole entity year is evaluated.
            cost_centre_count, cost_centre_changes = await evaluate_cost_centres(
                self.transaction, tree, scope.entity_id, scope.fiscal_year, correlation_id)
            variance_lines_count = len(variance_lines) + cost_centre_count
            changed += cost_centre_changes
        else:
            variance_lines_count = len(variance_lines)

        logger.debug("evaluated %s FY%s: %s variance lines, %s alert changes", scope.entity_id, scope.fiscal_year,
                     variance_lines_count, changed)
        return Outcome(variance_lines_count, changed)

    async def _account_directions(self) -> dict[str, str]:
        if self._directions is None:
            self._directions = await repository.account_directions(self.transaction.connection)
        return self._directions

    async def _apply_alerts(self, figures: EntityFigures, variance_lines: list[VarianceLine],
                            correlation_id: str) -> int:
        """Move the alert of each variance line that a rule watches through its lifecycle; return how many changed."""
        return await self._alerts.apply(variance_lines, await self.tree(), figures.target, correlation_id)


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
