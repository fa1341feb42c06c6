"""The performance service's subscriptions: one consumer group, read one event at a time or one fetch at a time.

Both dispatchers share the consumer name, and so the inbox: an event that one of them applied is
never applied again by the other. The consume loop hands a whole fetch to the batch dispatcher
and falls back to the one-by-one dispatcher when that fails.
"""

from typing import Any

from ipm_common.dispatch import BatchEventDispatcher, BatchEventHandler, EventDispatcher, EventHandler
from ipm_common.envelope import Envelope
from ipm_common.events import (
    SPEC_BY_MODEL,
    AccountDefined,
    ActualsPosted,
    BenefitsChanged,
    BenefitsPlanned,
    BenefitsRealised,
    BudgetApproved,
    EntityRegistered,
    EventData,
    ForecastRerolled,
    HierarchyChanged,
    TargetsSet,
    Topics,
)
from ipm_common.storage import Database, Transaction
from ipm_performance.adapters.repository import reference_store
from ipm_performance.service_layer import actuals, benefits, forecasts, handlers

CONSUMER = "ipm-performance"
TOPICS = (Topics.REFERENCE, Topics.TARGETS, Topics.BUDGETS, Topics.ACTUALS, Topics.FORECASTS, Topics.BENEFITS)


def _event_type(model: type[EventData]) -> str:
    return SPEC_BY_MODEL[model].type


HANDLERS: dict[str, EventHandler] = {
    _event_type(EntityRegistered): reference_store.on_entity_registered,
    _event_type(AccountDefined): reference_store.on_account_defined,
    _event_type(HierarchyChanged): handlers.on_hierarchy_changed,
    _event_type(TargetsSet): handlers.on_targets_set,
    _event_type(BudgetApproved): handlers.on_budget_approved,
    _event_type(ActualsPosted): handlers.on_actuals_posted,
    _event_type(ForecastRerolled): handlers.on_forecast_rerolled,
    _event_type(BenefitsPlanned): benefits.on_benefits_planned,
    _event_type(BenefitsChanged): benefits.on_benefits_planned,
    _event_type(BenefitsRealised): benefits.on_benefits_realised,
}


def one_at_a_time(handler: EventHandler) -> BatchEventHandler:
    """Apply a batch of rare events through their one-by-one handler, in order of arrival."""

    async def apply(transaction: Transaction, items: list[tuple[Envelope, Any]]) -> None:
        for envelope, data in items:
            await handler(transaction, envelope, data)

    return apply


# Actuals and forecasts come by the dozen with every ERP batch, so they are stored and evaluated
# together. The other events are rare and keep their one-by-one handlers. The batch dispatcher
# runs the event types of a fetch one after the other, so a fetch's actuals may be applied before
# its forecasts or after them. The batch barrier makes the results the same either way.
BATCH_HANDLERS: dict[str, BatchEventHandler] = {
    **{event_type: one_at_a_time(handler) for event_type, handler in HANDLERS.items()},
    _event_type(ActualsPosted): actuals.apply_actuals,
    _event_type(ForecastRerolled): forecasts.apply_forecasts,
}


def build_dispatcher(database: Database) -> EventDispatcher:
    """Wrap the handler table in the dispatcher that decodes, deduplicates and runs each event."""
    return EventDispatcher(CONSUMER, database, HANDLERS)


def build_batch_dispatcher(database: Database) -> BatchEventDispatcher:
    """Wrap the batch handler table in the dispatcher that applies one fetch of events in one transaction."""
    return BatchEventDispatcher(CONSUMER, database, BATCH_HANDLERS)
