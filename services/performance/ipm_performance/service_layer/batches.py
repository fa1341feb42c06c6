"""The batch barrier: once every series of an ERP batch was re-rolled, evaluate each touched entity whole.

Leaf lines are evaluated as their own events arrive. Parents are evaluated here, from all the
leaves' stored figures at once, so their result does not depend on the order of arrival.
"""

import logging

from ipm_common.dispatch import publish_event
from ipm_common.events import BatchEvaluated
from ipm_common.storage import Transaction, utcnow
from ipm_performance.adapters import batches
from ipm_performance.service_layer.evaluation import SOURCE, Outcome, Scope, evaluate

logger = logging.getLogger(__name__)


async def evaluate_batch_if_complete(transaction: Transaction, batch_id: str, correlation_id: str) -> bool:
    """Evaluate every line of the batch's entities once all its series arrived; return whether this call did."""
    connection = transaction.connection
    if not await batches.claim_evaluation(connection, batch_id, utcnow()):
        return False

    for scope in await batches.batch_scopes(connection, batch_id):
        outcome = Outcome()
        for fiscal_year in scope.fiscal_years:
            outcome.add(await evaluate(transaction, Scope(scope.entity_id, fiscal_year), correlation_id))
        await batches.add_alert_changes(connection, batch_id, scope.entity_id, outcome.alerts_changed)

        data = BatchEvaluated(entity_id=scope.entity_id, batch_id=batch_id, series=scope.series,
                              variance_lines=outcome.variance_lines,
                              alerts_changed=scope.alerts_changed + outcome.alerts_changed)
        await publish_event(transaction, SOURCE, data, correlation_id=correlation_id, subject=batch_id)
        logger.info("batch %s evaluated for %s FY%s: %s series, %s variance lines, %s alert changes", batch_id,
                    scope.entity_id, ",".join(str(year) for year in scope.fiscal_years), data.series,
                    data.variance_lines, data.alerts_changed)
    return True
