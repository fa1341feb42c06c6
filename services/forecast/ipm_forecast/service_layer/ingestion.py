"""Ingest ERP postings from HTTP or the ERP topic and publish ``actuals posted`` per series."""

import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from ipm_common.dispatch import publish_event
from ipm_common.errors import InvalidInput, PeriodClosed
from ipm_common.events import ActualsPosted, PeriodBalance, PostedLine
from ipm_common.storage import Database, Transaction
from ipm_forecast.adapters import repository
from ipm_forecast.domain.ledger import BatchPlan, LedgerPosting, PostingRequest, plan_batch

logger = logging.getLogger(__name__)

SOURCE = "ipm-forecast"

# About 200 bytes a posting in JSON, so an event stays near 200 KB.
POSTINGS_PER_EVENT = 1000

CONCURRENT_ATTEMPTS = 3


@dataclass(frozen=True)
class IngestResult:
    batch_id: str
    accepted: int
    replayed: int
    series: int
    late: int


async def ingest_batch(database: Database, lines: Sequence[PostingRequest], *, batch_id: str | None,
                       channel: str, base_currency: str = "USD") -> IngestResult:
    """Store a batch of postings atomically and publish one ``actuals posted`` event per series.

    Raises ``InvalidInput`` (every invalid line listed) or ``PeriodClosed`` when every invalid line
    falls into a closed period; nothing of a rejected batch is stored.
    """
    batch = batch_id or str(uuid.uuid4())
    for attempt in range(1, CONCURRENT_ATTEMPTS + 1):
        try:
            return await _ingest_once(database, lines, batch, channel, base_currency)
        except IntegrityError as error:
            # Another process stored some of these source ids between our read and our insert, such
            # as the same batch arriving over HTTP and the ERP topic at once. The next attempt reads
            # them and counts them as replays.
            if attempt == CONCURRENT_ATTEMPTS:
                raise
            logger.warning("batch %s via %s met a concurrent insert (attempt %s), retrying: %s",
                           batch, channel, attempt, error.orig)
    raise AssertionError("unreachable")


async def _ingest_once(database: Database, lines: Sequence[PostingRequest], batch: str, channel: str,
                       base_currency: str) -> IngestResult:
    async with database.transaction() as transaction:
        context = await repository.load_ledger_context(transaction.connection, lines, base_currency)
        plan = plan_batch(lines, context)
        _raise_for_errors(plan, batch)
        if plan.accepted:
            await repository.insert_postings(transaction.connection, plan.accepted, batch_id=batch, channel=channel)
            series = await _publish_series(transaction, plan.accepted, batch)
        else:
            series = 0

    late = sum(posting.late for posting in plan.accepted)
    logger.info("batch %s via %s: %s accepted, %s replayed, %s series, %s late",
                batch, channel, len(plan.accepted), len(plan.replayed), series, late)
    return IngestResult(batch, len(plan.accepted), len(plan.replayed), series, late)


def _raise_for_errors(plan: BatchPlan, batch_id: str) -> None:
    if not plan.errors:
        return
    details = [error.as_detail() for error in plan.errors]
    first = plan.errors[0]
    summary = f"batch {batch_id} rejected: {len(details)} invalid line(s), first postings[{first.index}].{first.field}"
    if all(error.type == "period_closed" for error in plan.errors):
        raise PeriodClosed(f"{summary}: {first.message}", details=details)
    raise InvalidInput(f"{summary}: {first.message}", field=f"postings[{first.index}].{first.field}",
                       details=details)


async def _publish_series(transaction: Transaction, accepted: Sequence[LedgerPosting], batch_id: str) -> int:
    """Publish one ``actuals posted`` event per series and chunk of postings; return the event count.

    Chunks keep every event well below the broker's 1 MiB message limit, whatever the batch size.
    """
    by_series: dict[tuple[str, str, str], list[LedgerPosting]] = defaultdict(list)
    for posting in accepted:
        by_series[posting.series].append(posting)
    chunks = [
        (series, postings[start:start + POSTINGS_PER_EVENT])
        for series, postings in sorted(by_series.items())
        for start in range(0, len(postings), POSTINGS_PER_EVENT)
    ]

    for (entity_id, account_id, cost_centre), postings in chunks:
        event = await _actuals_posted(transaction, entity_id, account_id, cost_centre, postings, batch_id,
                                      len(chunks))
        await publish_event(transaction, SOURCE, event, correlation_id=batch_id,
                            subject=f"{entity_id}/{account_id}")
    return len(by_series)


async def _actuals_posted(transaction: Transaction, entity_id: str, account_id: str, cost_centre: str,
                          postings: Sequence[LedgerPosting], batch_id: str, series_count: int) -> ActualsPosted:
    totals, ledger_version = await repository.period_totals(transaction.connection, entity_id, account_id,
                                                            cost_centre)
    affected = sorted({posting.period for posting in postings})
    entity = await repository.reference.entity(transaction.connection, entity_id)
    return ActualsPosted(
        entity_id=entity_id,
        account_id=account_id,
        cost_centre=cost_centre or None,
        currency=entity.currency,
        batch_id=batch_id,
        batch_series_count=series_count,
        postings=tuple(
            PostedLine(source_id=posting.request.source_id, period=str(posting.period),
                       posting_date=posting.request.posting_date, amount=posting.amount,
                       ledger_amount=posting.request.amount, currency=posting.request.currency,
                       reverses=posting.request.reverses, late=posting.late)
            for posting in postings
        ),
        balances=tuple(
            PeriodBalance(period=str(period), amount=totals[period], ledger_version=ledger_version)
            for period in affected
        ),
    )
