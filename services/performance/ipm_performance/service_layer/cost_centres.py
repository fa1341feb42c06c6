"""Evaluate cost centres (such as a city's departments) and store projections made outside IPM."""

import logging
import uuid
from decimal import Decimal

from ipm_common.storage import Database, Transaction, utcnow
from ipm_performance.adapters import cost_centres, repository, results
from ipm_performance.domain.cost_centres import cost_centre_lines
from ipm_performance.domain.lines import LineTree
from ipm_performance.service_layer.alerting import AlertApplier

logger = logging.getLogger(__name__)


async def evaluate_cost_centres(transaction: Transaction, tree: LineTree, entity_id: str, fiscal_year: int,
                                correlation_id: str) -> tuple[int, int]:
    """Compare each cost centre series of the year with its budget; return variance lines and alert changes."""
    connection = transaction.connection
    series = await cost_centres.load_cost_centre_figures(connection, entity_id, fiscal_year)
    if not series:
        return 0, 0

    directions = await repository.account_directions(connection)
    variance_lines = [line for figures in series
                      for line in cost_centre_lines(entity_id, fiscal_year, figures,
                                                    tree.direction_of(figures.account, directions).direction)]
    await results.save_variance_lines(connection, variance_lines, correlation_id, utcnow())
    changed = await AlertApplier(transaction).apply(variance_lines, tree, lambda _line: None, correlation_id)

    logger.info("cost centres of %s FY%s evaluated: %s series, %s variance lines, %s alert changes", entity_id,
                fiscal_year, len(series), len(variance_lines), changed)
    return len(variance_lines), changed


async def put_projections(database: Database, entity_id: str, line: str, fiscal_year: int,
                          amounts: dict[str, Decimal], as_of: str, source: str) -> tuple[int, int]:
    """Store the full-year projection of each cost centre, then compare the cost centres with their budgets."""
    correlation_id = str(uuid.uuid4())
    async with database.transaction() as transaction:
        await cost_centres.save_projections(transaction.connection, entity_id, line, fiscal_year, amounts, as_of,
                                            source, utcnow())
        tree = await repository.line_tree(transaction.connection)
        outcome = await evaluate_cost_centres(transaction, tree, entity_id, fiscal_year, correlation_id)
    logger.info("projections of %s %s FY%s as of %s from %s: %s cost centres, correlation %s", entity_id, line,
                fiscal_year, as_of, source, len(amounts), correlation_id)
    return outcome
