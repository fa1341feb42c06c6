"""Close and reopen an entity's fiscal periods; postings into a closed period are rejected."""

import logging
from dataclasses import dataclass
from datetime import datetime

from ipm_common.errors import Conflict
from ipm_common.periods import PeriodKey
from ipm_common.storage import Database
from ipm_forecast.adapters import repository

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClosedPeriod:
    period: PeriodKey
    closed_at: datetime
    closed_by: str


async def close_period(database: Database, entity_id: str, period_text: str, closed_by: str) -> PeriodKey:
    """Close a period given as ``FY2024-P03`` or, in calendars that allow it, ``2024-03``."""
    async with database.transaction() as transaction:
        entity = await repository.reference.entity(transaction.connection, entity_id)
        period = entity.calendar.parse_period(period_text)
        await repository.close_period(transaction.connection, entity_id, period, closed_by)

    logger.info("period %s of %s closed by %s", period, entity_id, closed_by)
    return period


async def reopen_period(database: Database, entity_id: str, period_text: str, reopened_by: str) -> PeriodKey:
    """Reopen a closed period; raise ``Conflict`` (reason ``not_closed``) when it is open."""
    async with database.transaction() as transaction:
        entity = await repository.reference.entity(transaction.connection, entity_id)
        period = entity.calendar.parse_period(period_text)
        if not await repository.reopen_period(transaction.connection, entity_id, period):
            raise Conflict(f"period {period} of {entity_id} is not closed", reason="not_closed")

    logger.info("period %s of %s reopened by %s", period, entity_id, reopened_by)
    return period


async def closed_periods(database: Database, entity_id: str) -> list[ClosedPeriod]:
    """List an entity's closed periods in period order with who closed them and when."""
    async with database.reading() as connection:
        await repository.reference.entity(connection, entity_id)
        rows = await repository.closed_period_list(connection, entity_id)
    return [ClosedPeriod(*row) for row in rows]
