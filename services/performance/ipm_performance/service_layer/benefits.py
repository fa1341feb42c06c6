"""Keep the improvement projects' planned and realised benefits, which the variance bridge shows as steps."""

import logging
from decimal import Decimal

from ipm_common.envelope import Envelope
from ipm_common.errors import NotFound
from ipm_common.events import BenefitsPlanned, BenefitsRealised
from ipm_common.periods import PeriodKey
from ipm_common.storage import Transaction
from ipm_performance.adapters import report_store, repository

logger = logging.getLogger(__name__)


async def on_benefits_planned(transaction: Transaction, envelope: Envelope, data: BenefitsPlanned) -> None:
    """Replace a project's planned benefits on a line with a newer version; ``BenefitsChanged`` goes the same way."""
    amounts = await _by_period(transaction, data.entity_id, [(point.period, point.amount) for point in data.benefits])
    stored = await report_store.replace_benefits(transaction.connection, data.project_id, data.entity_id,
                                                 data.account_id, "planned", data.version, amounts)
    logger.info("%s planned benefits of project %s version %s on %s/%s: %s periods, event %s",
                "stored" if stored else "ignored stale", data.project_id, data.version, data.entity_id,
                data.account_id, len(amounts), envelope.id)


async def on_benefits_realised(transaction: Transaction, envelope: Envelope, data: BenefitsRealised) -> None:
    """Replace a project's realised benefits on a line with a newer measurement."""
    amounts = await _by_period(transaction, data.entity_id, [(point.period, point.realised) for point in data.points])
    stored = await report_store.replace_benefits(transaction.connection, data.project_id, data.entity_id,
                                                 data.account_id, "realised", data.version, amounts)
    logger.info("%s realised benefits of project %s version %s on %s/%s: %s periods, event %s",
                "stored" if stored else "ignored stale", data.project_id, data.version, data.entity_id,
                data.account_id, len(amounts), envelope.id)


async def _by_period(transaction: Transaction, entity_id: str, points: list[tuple[str, Decimal]]) -> dict[str, Decimal]:
    """Key the amounts by period key, reading ``YYYY-MM`` with the entity's calendar when it is registered."""
    try:
        calendar = (await repository.reference_store.entity(transaction.connection, entity_id)).calendar
    except NotFound:
        calendar = None
    found: dict[str, Decimal] = {}
    for text, amount in points:
        key = calendar.parse_period(text) if calendar is not None else PeriodKey.parse(text)
        found[str(key)] = found.get(str(key), Decimal(0)) + amount
    return found
