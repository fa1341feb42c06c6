"""The outbox relay: publishes committed outbox rows in order and marks them published.

A crash between the broker's acknowledgement and the update that marks the row leaves the row
unpublished, so the relay sends it again after restart. Consumers drop the duplicate by event id.
"""

import asyncio
import json
import logging
from typing import Any

from aiokafka.errors import KafkaError
from sqlalchemy import func, select, update

from ipm_common import fault_points
from ipm_common.events import CATALOGUE, message_headers
from ipm_common.messaging import MessagePublisher, OutgoingMessage
from ipm_common.storage import Database, database_unavailable, utcnow

logger = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(self, database: Database, publisher: MessagePublisher, *, batch_size: int = 500,
                 poll_interval: float = 1.0) -> None:
        self._database = database
        self._publisher = publisher
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self.published = 0

    async def run(self) -> None:
        """Publish until cancelled, woken by every commit and by a poll as a fallback."""
        logger.info("outbox relay started")
        try:
            while True:
                self._database.committed.clear()
                await self._publish_all_pending()
                try:
                    await asyncio.wait_for(self._database.committed.wait(), self._poll_interval)
                except TimeoutError:
                    pass
        finally:
            logger.info("outbox relay stopped after publishing %s events", self.published)

    async def _publish_all_pending(self) -> None:
        failures = 0
        while True:
            try:
                if await self.publish_pending() < self._batch_size:
                    return
                failures = 0
            except Exception as error:
                # The rows stay unpublished and are sent again once the broker or the database
                # is back. Any other error is retried too, because a stopped relay strands every
                # later event.
                failures += 1
                delay = min(5.0, 0.1 * 2 ** min(failures, 6))
                if isinstance(error, KafkaError | OSError) or database_unavailable(error):
                    logger.warning("outbox publish failed (attempt %s), retrying in %.1f s: %s", failures, delay,
                                   error)
                else:
                    logger.exception("outbox publish failed unexpectedly (attempt %s), retrying in %.1f s",
                                     failures, delay)
                await asyncio.sleep(delay)

    async def publish_pending(self) -> int:
        """Publish one batch of unpublished rows; return how many were sent."""
        outbox = self._database.outbox
        query = (
            select(outbox.c.position, outbox.c.event_type, outbox.c.topic, outbox.c.key, outbox.c.payload)
            .where(outbox.c.published_at.is_(None))
            .order_by(outbox.c.position)
            .limit(self._batch_size)
        )
        async with self._database.reading() as connection:
            rows = (await connection.execute(query)).all()
        if not rows:
            return 0

        # NOTE: two relays over one database may both send a row before either marks it. The
        # consumers' inbox drops the second copy, so this costs a duplicate message, not a count.
        await self._publisher.send_many([_message(row) for row in rows])
        fault_points.reached("relay.after_send")

        positions = [row.position for row in rows]
        async with self._database.transaction(wake_relay=False) as transaction:
            await transaction.connection.execute(
                update(outbox).where(outbox.c.position.in_(positions)).values(published_at=utcnow())
            )

        self.published += len(rows)
        logger.debug("published %s outbox events up to position %s", len(rows), positions[-1])
        return len(rows)

    async def backlog(self) -> int:
        """Count outbox rows not yet published."""
        outbox = self._database.outbox
        async with self._database.reading() as connection:
            count = await connection.execute(
                select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None)))
            return int(count.scalar_one())


def _message(row: Any) -> OutgoingMessage:
    """Build the message of one outbox row, with headers only for event types whose spec names some."""
    value = row.payload.encode("utf-8")
    spec = CATALOGUE.get(row.event_type)
    if spec is None or not spec.headers:
        return (row.topic, row.key, value)
    data = json.loads(row.payload).get("data") or {}
    return (row.topic, row.key, value, message_headers(row.event_type, data))
