"""Evaluate what a unit of work changed, once, and the batch barrier behind it.

Leaf lines are evaluated as their own events arrive. Once every series of an ERP batch was
re-rolled, the barrier evaluates each touched entity whole, parents included, from all the
leaves' stored figures at once, so their result does not depend on the order of arrival.

A unit of work (one event, or one fetch of many) first stores all its inputs and notes here
what to evaluate. Each line is then evaluated once per kind of comparison, and not at all when a
batch that completes in the same unit evaluates its whole fiscal year anyway.
"""

import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from ipm_common.dispatch import publish_event
from ipm_common.events import BatchEvaluated
from ipm_common.storage import utcnow
from ipm_performance.adapters import batches
from ipm_performance.domain.comparisons import Comparison
from ipm_performance.service_layer.evaluation import SOURCE, Evaluator, Outcome, Scope

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Origin:
    """The batch that a line's alert changes count towards, and the correlation id its events carry."""

    batch_id: str
    correlation_id: str


class EvaluationPlan:
    """Lines to evaluate at the end of a unit of work, and the batches that may have become complete.

    A line noted twice for the same comparisons is evaluated once, for the origin noted last, as
    the last of those events would when they were applied one at a time.
    """

    def __init__(self) -> None:
        self._lines: dict[tuple[str, int, frozenset[Comparison]], dict[str, Origin]] = {}
        self._batches: dict[str, str] = {}

    def add(self, entity_id: str, fiscal_year: int, lines: Iterable[str], comparisons: frozenset[Comparison],
            origin: Origin) -> None:
        origins = self._lines.setdefault((entity_id, fiscal_year, comparisons), {})
        for line in lines:
            origins[line] = origin

    def check_batch(self, batch_id: str, correlation_id: str) -> None:
        """Note a batch whose barrier this unit may have passed, and the correlation id to publish its result with."""
        self._batches[batch_id] = correlation_id

    @property
    def batches(self) -> dict[str, str]:
        return dict(self._batches)

    def scopes(self, covered: Collection[tuple[str, int]]) -> list[tuple[Scope, Origin]]:
        """Group the lines into scopes, leaving out the entity years in ``covered``."""
        found: list[tuple[Scope, Origin]] = []
        for (entity_id, fiscal_year, comparisons), origins in self._lines.items():
            if (entity_id, fiscal_year) in covered:
                continue
            by_origin: dict[Origin, set[str]] = {}
            for line, origin in origins.items():
                by_origin.setdefault(origin, set()).add(line)
            found.extend((Scope(entity_id, fiscal_year, frozenset(lines), comparisons), origin)
                         for origin, lines in by_origin.items())
        return found


async def carry_out(evaluator: Evaluator, plan: EvaluationPlan) -> Outcome:
    """Evaluate the noted lines, then every batch of the plan whose barrier is passed now."""
    connection = evaluator.transaction.connection
    now = utcnow()
    claimed = {batch_id: correlation_id for batch_id, correlation_id in plan.batches.items()
               if await batches.claim_evaluation(connection, batch_id, now)}
    # A claimed batch evaluates every line of its entity years below, with all comparisons.
    covered = await batches.batch_years(connection, claimed)

    outcome = Outcome()
    for scope, origin in plan.scopes(covered):
        result = await evaluator.evaluate(scope, origin.correlation_id)
        await batches.add_alert_changes(connection, origin.batch_id, scope.entity_id, result.alerts_changed)
        outcome.add(result)
    for batch_id, correlation_id in claimed.items():
        outcome.add(await _evaluate_batch(evaluator, batch_id, correlation_id))
    return outcome


async def _evaluate_batch(evaluator: Evaluator, batch_id: str, correlation_id: str) -> Outcome:
    """Evaluate every line of the batch's entities in the years it touched and publish a ``BatchEvaluated`` each."""
    connection = evaluator.transaction.connection
    total = Outcome()
    for scope in await batches.batch_scopes(connection, batch_id):
        outcome = Outcome()
        for fiscal_year in scope.fiscal_years:
            outcome.add(await evaluator.evaluate(Scope(scope.entity_id, fiscal_year), correlation_id))
        await batches.add_alert_changes(connection, batch_id, scope.entity_id, outcome.alerts_changed)

        data = BatchEvaluated(entity_id=scope.entity_id, batch_id=batch_id, series=scope.series,
                              variance_lines=outcome.variance_lines,
                              alerts_changed=scope.alerts_changed + outcome.alerts_changed)
        await publish_event(evaluator.transaction, SOURCE, data, correlation_id=correlation_id, subject=batch_id)
        logger.info("batch %s evaluated for %s FY%s: %s series, %s variance lines, %s alert changes", batch_id,
                    scope.entity_id, ",".join(str(year) for year in scope.fiscal_years), data.series,
                    data.variance_lines, data.alerts_changed)
        total.add(outcome)
    return total
