"""Handler tables of the projects service's consumers, one table per consumer group."""

from ipm_common.dispatch import EventDispatcher, EventHandler
from ipm_common.storage import Database
from ipm_projects.adapters.repository import reference

REFERENCE_GROUP = "ipm-projects-reference"

REFERENCE_HANDLERS: dict[str, EventHandler] = {
    "ipm.strategy.entity.registered": reference.on_entity_registered,
    "ipm.strategy.account.defined": reference.on_account_defined,
    "ipm.strategy.hierarchy.changed": reference.on_hierarchy_changed,
}


def reference_dispatcher(database: Database) -> EventDispatcher:
    """Build the handler of consumer group ``ipm-projects-reference``, which keeps the reference data copy."""
    return EventDispatcher(REFERENCE_GROUP, database, REFERENCE_HANDLERS)
