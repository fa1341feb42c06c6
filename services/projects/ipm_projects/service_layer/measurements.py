"""Keep the forecasts and actuals that realised benefits are measured with, from the forecast service's events."""

import logging

from ipm_common.envelope import Envelope
from ipm_common.events import ActualsPosted, ForecastRerolled
from ipm_common.storage import Transaction
from ipm_projects.adapters import benefits as store
from ipm_projects.service_layer.realisation import remeasure_line

logger = logging.getLogger(__name__)


async def on_forecast_rerolled(transaction: Transaction, envelope: Envelope, data: ForecastRerolled) -> None:
    """Keep the forecast's statistical baseline per period; a project's baseline may be frozen from it."""
    baseline = {point.period: point.baseline for point in data.points}
    kept = await store.store_forecast(transaction.connection, data.entity_id, data.account_id,
                                      data.cost_centre or "", data.origin, data.version, baseline)
    if not kept:
        logger.info("ignored forecast %s version %s of %s/%s: a newer version of origin %s is stored",
                    data.forecast_id, data.version, data.entity_id, data.account_id, data.origin)
        return
    await remeasure_line(transaction, (data.entity_id, data.account_id), envelope.correlationid)


async def on_actuals_posted(transaction: Transaction, envelope: Envelope, data: ActualsPosted) -> None:
    """Keep the new period balances, then measure the projects that plan benefits on the line."""
    balances = [(balance.period, balance.amount, balance.ledger_version) for balance in data.balances]
    changed = await store.store_actuals(transaction.connection, data.entity_id, data.account_id,
                                        data.cost_centre or "", balances)
    if changed:
        await remeasure_line(transaction, (data.entity_id, data.account_id), envelope.correlationid)
