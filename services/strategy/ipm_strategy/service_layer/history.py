"""Import reported annual statements from SEC company facts as a history plan, and compare cash flows."""

import json
import logging
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from ipm_common.errors import Conflict, InvalidInput, NotFound
from ipm_common.storage import Database
from ipm_strategy.adapters import operating_plans as store
from ipm_strategy.adapters import repository
from ipm_strategy.domain.operating_plans import OperatingPlan, PlanEntry
from ipm_strategy.domain.sec import (
    CashFlowComparison,
    compare_operating_cash_flow,
    history_lines,
    parse_company_facts,
)
from ipm_strategy.service_layer.operating_plans import CATALOGUE_LINES
from ipm_strategy.service_layer.unit_of_work import writing

logger = logging.getLogger(__name__)

# SEC company facts report amounts in US dollars.
REPORTED_CURRENCY = "USD"


def read_company_facts(data_dir: Path, relative_path: str) -> dict[str, Any]:
    """Read a company-facts JSON file from a path relative to ``data_dir``, which it may not leave."""
    root = data_dir.resolve()
    path = (root / relative_path).resolve()
    if not path.is_relative_to(root):
        raise InvalidInput(f"path: {relative_path!r} leaves the data folder; give a path inside IPM_DATA_DIR",
                           field="path")
    if not path.is_file():
        raise InvalidInput(f"path: {relative_path!r} is not a file in the data folder {root}; check IPM_DATA_DIR",
                           field="path")
    try:
        document = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidInput(f"path: {relative_path!r} is not JSON: {error}", field="path") from None
    if not isinstance(document, dict):
        raise InvalidInput(f"path: {relative_path!r} contains no JSON object; give a companyfacts document",
                           field="path")
    return document


async def import_company_facts(database: Database, *, plan_id: str, entity_id: str, name: str | None,
                               document: Mapping[str, Any], source: str) -> tuple[OperatingPlan, int]:
    """Store the reported annual statements as a history plan, with the derived-against-reported cash flow.

    Returns the plan and the number of years compared.
    """
    facts = parse_company_facts(document)
    lines = history_lines(facts)
    comparisons = compare_operating_cash_flow(facts)
    if not lines:
        raise InvalidInput("companyfacts: no annual net income was found in 10-K facts", field="companyfacts")
    entries = tuple(PlanEntry(CATALOGUE_LINES[line.line], line.fiscal_year, line.amount) for line in lines)
    plan = OperatingPlan(plan_id, entity_id, name or f"{facts.company} reported history", "history", 1, entries)

    async with writing(database) as transaction:
        connection = transaction.connection
        if await store.load(connection, plan_id) is not None:
            raise Conflict(f"operating plan {plan_id} already exists; import under another plan_id",
                           reason="plan_exists")
        await _check_entity_currency(connection, entity_id)
        await store.insert_plan(connection, plan, source=source)
        await store.insert_comparisons(connection, plan_id, comparisons)

    logger.info("history plan %s of %s imported from %s: %s lines, %s years compared", plan_id, entity_id, source,
                len(entries), len(comparisons))
    return plan, len(comparisons)


async def cash_flow_comparison(database: Database, plan_id: str) -> tuple[OperatingPlan, list[CashFlowComparison]]:
    async with database.reading() as connection:
        loaded = await store.load(connection, plan_id)
        if loaded is None:
            raise NotFound(f"operating plan {plan_id!r} not found; list plans with GET /v1/operating-plans")
        return loaded[0], await store.comparisons(connection, plan_id)


async def _check_entity_currency(connection: Any, entity_id: str) -> None:
    stored = await repository.entity(connection, entity_id)
    if stored is None:
        raise InvalidInput(
            f"entity_id: {entity_id!r} is not registered; register it with PUT /v1/entities/{entity_id} first",
            field="entity_id",
        )
    if stored[0].currency != REPORTED_CURRENCY:
        raise InvalidInput(
            f"entity_id: {entity_id!r} reports in {stored[0].currency}, but SEC company facts are in "
            f"{REPORTED_CURRENCY}; import into an entity whose currency is {REPORTED_CURRENCY}",
            field="entity_id",
        )
