"""Keep the improvement projects' planned benefits and re-roll the lines they change."""

import logging

from sqlalchemy import delete, insert

from ipm_common.envelope import Envelope
from ipm_common.events import BenefitsPlanned
from ipm_common.periods import PeriodKey
from ipm_common.storage import Transaction
from ipm_forecast.adapters import tables
from ipm_forecast.service_layer.rerolling import reroll_series

logger = logging.getLogger(__name__)


async def replace_planned_benefits(transaction: Transaction, envelope: Envelope, data: BenefitsPlanned,
                                   *, horizon: int) -> None:
    """Replace one project's benefits on one line, then re-roll that line with the new layer."""
    table = tables.planned_benefits
    connection = transaction.connection
    await connection.execute(delete(table).where(
        table.c.project_id == data.project_id, table.c.entity_id == data.entity_id,
        table.c.account_id == data.account_id))
    if data.benefits:
        await connection.execute(insert(table), [
            {"project_id": data.project_id, "period": str(PeriodKey.parse(point.period)),
             "entity_id": data.entity_id, "account_id": data.account_id, "amount": point.amount,
             "version": data.version}
            for point in data.benefits
        ])
    logger.info("project %s version %s planned %s benefit periods on %s/%s", data.project_id, data.version,
                len(data.benefits), data.entity_id, data.account_id)

    await reroll_series(transaction, envelope, entity_id=data.entity_id, account_id=data.account_id,
                        cost_centre="", horizon=horizon, batch_id=envelope.id, batch_series_count=1)
