"""Handler tables of the projects service's consumers, one table per consumer group."""

from ipm_common.dispatch import EventDispatcher, EventHandler
from ipm_common.storage import Database
from ipm_projects.adapters.repository import reference
from ipm_projects.service_layer.measurements import on_actuals_posted, on_forecast_rerolled

REFERENCE_GROUP = "ipm-projects-reference"
MEASUREMENT_GROUP = "ipm-projects-measurement"

REFERENCE_HANDLERS: dict[str, EventHandler] = {
    "ipm.strategy.entity.registered": reference.on_entity_registered,
    "ipm.strategy.account.defined": reference.on_account_defined,
    "ipm.strategy.hierarchy.changed": reference.on_hierarchy_changed,
}


def reference_dispatcher(database: Database) -> EventDispatcher:
    """Build the handler of consumer group ``ipm-projects-reference``, which keeps the reference data copy."""
    return EventDispatcher(REFERENCE_GROUP, database, REFERENCE_HANDLERS)


# The forecasts give the baseline without the project, the actuals what the line became.
MEASUREMENT_HANDLERS: dict[str, EventHandler] = {
    "ipm.forecast.forecast.rerolled": on_forecast_rerolled,
    "ipm.forecast.actuals.posted": on_actuals_posted,
}


def measurement_dispatcher(database: Database) -> EventDispatcher:
    """Build the handler of consumer group ``ipm-projects-measurement``, which measures realised benefits."""
    return EventDispatcher(MEASUREMENT_GROUP, database, MEASUREMENT_HANDLERS)
