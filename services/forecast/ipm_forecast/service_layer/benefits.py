"""Keep the improvement projects' planned and realised benefits and re-roll the lines they change."""

import logging

from sqlalchemy import delete, insert, select

from ipm_common.envelope import Envelope
from ipm_common.events import BenefitsPlanned, BenefitsRealised
from ipm_common.periods import PeriodKey
from ipm_common.storage import Transaction
from ipm_forecast.adapters import tables
from ipm_forecast.service_layer.rerolling import reroll_series

logger = logging.getLogger(__name__)


async def replace_planned_benefits(transaction: Transaction, envelope: Envelope, data: BenefitsPlanned,
                                   *, horizon: int) -> None:
    """Replace one project's benefits on one line, then re-roll that line with the new layer.

    ``BenefitsChanged`` is a ``BenefitsPlanned`` with a reason and goes the same way. A version
    older than the stored one arrived late and is ignored.
    """
    table = tables.planned_benefits
    connection = transaction.connection
    line = (table.c.project_id == data.project_id, table.c.entity_id == data.entity_id,
            table.c.account_id == data.account_id)
    stored = (await connection.execute(select(table.c.version).where(*line).limit(1))).scalar()
    if stored is not None and stored > data.version:
        logger.info("ignored stale benefits of project %s version %s on %s/%s (stored %s), event %s",
                    data.project_id, data.version, data.entity_id, data.account_id, stored, envelope.id)
        return

    await connection.execute(delete(table).where(*line))
    if data.benefits:
        await connection.execute(insert(table), [
            {"project_id": data.project_id, "period": str(PeriodKey.parse(point.period)),
             "entity_id": data.entity_id, "account_id": data.account_id, "amount": point.amount,
             "version": data.version}
            for point in data.benefits
        ])
    logger.info("project %s version %s planned %s benefit periods on %s/%s after %s %s", data.project_id,
                data.version, len(data.benefits), data.entity_id, data.account_id, envelope.type, envelope.id)

    await reroll_series(transaction, envelope, entity_id=data.entity_id, account_id=data.account_id,
                        cost_centre="", horizon=horizon, batch_id=envelope.id, batch_series_count=1)


async def store_realised_benefits(transaction: Transaction, envelope: Envelope, data: BenefitsRealised) -> None:
    """Keep the newest measurement of a project's realised benefits on a line.

    The forecast does not change: realised benefits are in the actuals already, and the benefit
    layer adds only the planned increase that the actuals do not show yet.
    """
    table = tables.realised_benefits
    connection = transaction.connection
    line = (table.c.project_id == data.project_id, table.c.entity_id == data.entity_id,
            table.c.account_id == data.account_id)
    stored = (await connection.execute(select(table.c.version).where(*line).limit(1))).scalar()
    if stored is not None and stored > data.version:
        logger.info("ignored stale realised benefits of project %s version %s (stored %s), event %s",
                    data.project_id, data.version, stored, envelope.id)
        return

    await connection.execute(delete(table).where(*line))
    if data.points:
        await connection.execute(insert(table), [
            {"project_id": data.project_id, "entity_id": data.entity_id, "account_id": data.account_id,
             "period": str(PeriodKey.parse(point.period)), "planned": point.planned, "baseline": point.baseline,
             "actual": point.actual, "realised": point.realised, "version": data.version}
            for point in data.points
        ])
    logger.info("project %s version %s realised benefits in %s periods on %s/%s, event %s", data.project_id,
                data.version, len(data.points), data.entity_id, data.account_id, envelope.id)
