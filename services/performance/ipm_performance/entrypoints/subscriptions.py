"""The performance service's subscriptions: one consumer group, one table of event type to handler."""

from ipm_common.dispatch import EventDispatcher, EventHandler
from ipm_common.events import (
    SPEC_BY_MODEL,
    AccountDefined,
    ActualsPosted,
    BudgetApproved,
    EntityRegistered,
    EventData,
    ForecastRerolled,
    HierarchyChanged,
    TargetsSet,
    Topics,
)
from ipm_common.storage import Database
from ipm_performance.adapters.repository import reference_store
from ipm_performance.service_layer import handlers

CONSUMER = "ipm-performance"
TOPICS = (Topics.REFERENCE, Topics.TARGETS, Topics.BUDGETS, Topics.ACTUALS, Topics.FORECASTS)


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
}


def build_dispatcher(database: Database) -> EventDispatcher:
    """Wrap the handler table in the dispatcher that decodes, deduplicates and runs each event."""
    return EventDispatcher(CONSUMER, database, HANDLERS)
