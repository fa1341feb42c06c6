"""Open strategy reviews for breached targets and record what people decide on them."""

import logging
from collections.abc import Callable
from datetime import date

from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_common.dispatch import publish_event
from ipm_common.envelope import Envelope
from ipm_common.errors import InvalidInput, NotFound
from ipm_common.events import ReviewDecided, ReviewOpened, StrategyReviewRequested
from ipm_common.storage import Database, Transaction, utcnow
from ipm_strategy.adapters import repository
from ipm_strategy.domain.reviews import AuditEntry, Breach, Decision, Review, open_review
from ipm_strategy.service_layer import operating_plans
from ipm_strategy.service_layer.unit_of_work import SOURCE, writing

logger = logging.getLogger(__name__)


async def open_review_for_alert(transaction: Transaction, envelope: Envelope, data: StrategyReviewRequested) -> None:
    """Open the one review of an alert and publish ``ReviewOpened``, ignoring later requests for the alert."""
    connection = transaction.connection
    existing = await repository.review_id_for_alert(connection, data.alert_id)
    if existing is not None:
        logger.info("ignored review request %s for alert %s: review %s already exists", envelope.id,
                    data.alert_id, existing)
        return

    breach = Breach(data.alert_id, data.entity_id, data.line, data.fiscal_year, data.outlook, data.target,
                    data.variance, data.variance_pct, data.threshold)
    review, entry = open_review(breach, opened_by=envelope.source, at=utcnow())
    await repository.insert_review(connection, review, envelope.correlationid)
    await repository.add_audit_entry(connection, review.review_id, entry)

    opened = ReviewOpened(review_id=review.review_id, alert_id=data.alert_id, entity_id=data.entity_id,
                          line=data.line, fiscal_year=data.fiscal_year)
    await publish_event(transaction, SOURCE, opened, correlation_id=envelope.correlationid, subject=review.review_id)
    logger.info("review %s opened for alert %s on %s/%s FY%s", review.review_id, data.alert_id, data.entity_id,
                data.line, data.fiscal_year)


async def acknowledge_review(database: Database, review_id: str, *, by: str, comment: str | None) -> Review:
    """Mark an opened review as acknowledged."""
    review = await _change(database, review_id, lambda review: review.acknowledge(by, comment, utcnow()))
    logger.info("review %s acknowledged by %s", review_id, by)
    return review


async def analyse_review(database: Database, review_id: str, *, by: str, analysis: str) -> Review:
    """Record the analysis of an opened or acknowledged review."""
    review = await _change(database, review_id, lambda review: review.analyse(by, analysis, utcnow()))
    logger.info("review %s analysed by %s", review_id, by)
    return review


async def assign_review(database: Database, review_id: str, *, by: str, owner: str,
                        due_date: date | None) -> Review:
    """Give an undecided review an owner and a due date."""
    review = await _change(database, review_id, lambda review: review.assign(by, owner, due_date, utcnow()))
    logger.info("review %s assigned to %s by %s, due %s", review_id, owner, by, due_date)
    return review


async def comment_on_review(database: Database, review_id: str, *, by: str, text: str) -> AuditEntry:
    """Add a comment to a review's audit trail."""
    async with writing(database) as transaction:
        review = await _load(transaction.connection, review_id)
        entry = review.comment(by, text, utcnow())
        await repository.add_audit_entry(transaction.connection, review_id, entry)
    logger.info("review %s commented by %s", review_id, by)
    return entry


async def decide_review(database: Database, review_id: str, *, decision: Decision, by: str, reason: str,
                        correlation_id: str, revised_plan_id: str | None = None) -> Review:
    """Record the decision on a review and publish ``ReviewDecided``.

    A revise_plan decision may name a proposed operating plan of the review's entity in
    ``revised_plan_id``: the plan is adopted in the same transaction, which publishes its lines and
    its targets under a new targets version. A retry of the stored decision (same decision, by, reason
    and revised_plan_id) returns the review and changes nothing.
    """
    if revised_plan_id is not None and decision != "revise_plan":
        raise InvalidInput(f"revised_plan_id: only a revise_plan decision adopts a plan, not {decision}; "
                           "leave revised_plan_id out", field="revised_plan_id")

    async with writing(database) as transaction:
        stored = await _load(transaction.connection, review_id)
        if stored.repeats_decision(decision, by, reason, revised_plan_id):
            logger.info("review %s: decision %s by %s repeated; nothing changed", review_id, decision, by)
            return stored

        changed, entry = stored.decide(decision, by, reason, utcnow())
        if revised_plan_id is not None:
            await operating_plans.adopt_in(transaction, revised_plan_id, by=by, correlation_id=correlation_id,
                                           entity_id=stored.breach.entity_id)
            changed = changed.with_revised_plan(revised_plan_id)
        review = await _store(transaction, stored, (changed, entry))
        decided = ReviewDecided(review_id=review_id, alert_id=review.breach.alert_id,
                                entity_id=review.breach.entity_id, decision=decision,
                                decided_by=by, reason=reason, revised_plan_id=revised_plan_id)
        await publish_event(transaction, SOURCE, decided, correlation_id=correlation_id, subject=review_id)

    logger.info("review %s decided by %s: %s", review_id, by, decision)
    return review


async def review_with_trail(database: Database, review_id: str) -> tuple[Review, list[AuditEntry]]:
    """Load a review and every state change it went through, oldest first."""
    async with database.reading() as connection:
        review = await _load(connection, review_id)
        return review, await repository.audit_trail(connection, review_id)


Change = Callable[[Review], tuple[Review, AuditEntry]]


async def _change(database: Database, review_id: str, change: Change) -> Review:
    async with writing(database) as transaction:
        review = await _load(transaction.connection, review_id)
        return await _store(transaction, review, change(review))


async def _load(connection: AsyncConnection, review_id: str) -> Review:
    review = await repository.review(connection, review_id)
    if review is None:
        raise NotFound(f"review {review_id!r} not found; list reviews with GET /v1/reviews")
    return review


async def _store(transaction: Transaction, review: Review, change: tuple[Review, AuditEntry]) -> Review:
    """Store a review's new state, checked against its loaded status, with the audit entry of the change."""
    changed, entry = change
    await repository.update_review(transaction.connection, changed, previous_status=review.status)
    await repository.add_audit_entry(transaction.connection, review.review_id, entry)
    return changed
