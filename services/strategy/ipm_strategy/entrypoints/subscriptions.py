"""Handler tables of the strategy service's consumers, one table per consumer group."""

from ipm_common.dispatch import EventDispatcher, EventHandler
from ipm_common.storage import Database
from ipm_strategy.service_layer.reviews import open_review_for_alert

REVIEWS_GROUP = "ipm-strategy-reviews"

REVIEW_HANDLERS: dict[str, EventHandler] = {
    "ipm.performance.strategy_review.requested": open_review_for_alert,
}


def reviews_dispatcher(database: Database) -> EventDispatcher:
    """Build the handler of consumer group ``ipm-strategy-reviews``, which opens one review per alert."""
    return EventDispatcher(REVIEWS_GROUP, database, REVIEW_HANDLERS)
