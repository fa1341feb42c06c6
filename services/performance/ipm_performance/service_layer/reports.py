"""Variance reports, bridges, KPIs and scorecards read from the stored figures, and the commands that feed them."""

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_common.errors import InvalidInput, NotFound
from ipm_common.fx import Rate, RateTable, RateType
from ipm_common.periods import PeriodKey
from ipm_common.storage import Database, utcnow
from ipm_common.variance import ToleranceBand
from ipm_performance.adapters import report_store, repository
from ipm_performance.domain.bridge import Bridge, build_bridge
from ipm_performance.domain.formulas import parse_formula
from ipm_performance.domain.kpis import KpiDefinition, KpiTarget, KpiValue, kpi_values
from ipm_performance.domain.leaf_figures import LeafFigures
from ipm_performance.domain.lines import LineTree
from ipm_performance.domain.report_inputs import ReportInputs, ReportRequest, Translation
from ipm_performance.domain.reports import ReportLine, build_report

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Currency:
    """The report currency and rates: None for the entity's functional currency."""

    currency: str | None = None
    base_currency: str = "USD"
    actual_rate_type: RateType = "average"
    plan_rate_type: RateType = "budget"
    constant_currency: bool = False


@dataclass(frozen=True)
class ReportContext:
    """Everything a report of one entity needs, read in one go."""

    inputs: ReportInputs
    tree: LineTree
    directions: dict[str, str]
    translation: Translation
    target_bands: dict[str, ToleranceBand]


async def load_context(connection: AsyncConnection, entity_id: str, period: PeriodKey, hierarchy: str | None,
                       currency: Currency) -> ReportContext:
    """Load an entity's figures of the report's fiscal year and the year before, its tree and its rates."""
    entity = await repository.reference_store.entity(connection, entity_id)
    years = [period.fiscal_year - 1, period.fiscal_year]
    targets = await report_store.targets(connection, entity_id, period.fiscal_year)
    inputs = ReportInputs(
        entity_id=entity_id,
        calendar=entity.calendar,
        actuals=await report_store.actuals(connection, entity_id, years),
        budgets=await report_store.budgets(connection, entity_id, years),
        forecasts=await report_store.forecast_versions(connection, entity_id, years),
        targets={line: amount for line, (amount, _) in targets.items()},
        planned_benefits=await report_store.benefits(connection, entity_id, "planned"),
        realised_benefits=await report_store.benefits(connection, entity_id, "realised"),
        volume_drivers=await report_store.volume_drivers(connection),
    )
    return ReportContext(
        inputs=inputs,
        tree=await _tree(connection, hierarchy),
        directions=await repository.account_directions(connection),
        translation=await _translation(connection, entity.currency, currency),
        target_bands={line: band for line, (_, band) in targets.items()},
    )


async def _tree(connection: AsyncConnection, hierarchy: str | None) -> LineTree:
    """Return the named account hierarchy, or every account hierarchy merged when no name is given."""
    hierarchies = await repository.reference_store.hierarchies(connection, "account")
    if hierarchy is None:
        return LineTree.from_hierarchies(hierarchies)
    named = [item for item in hierarchies if item.name == hierarchy]
    if not named:
        known = ", ".join(item.name for item in hierarchies) or "none yet"
        raise NotFound(f"hierarchy {hierarchy!r} is not an account hierarchy; known: {known}")
    return LineTree.from_hierarchies(named)


async def _translation(connection: AsyncConnection, functional: str, currency: Currency) -> Translation:
    target = currency.currency or functional
    rates = None
    if target != functional:
        rates = RateTable(currency.base_currency, await report_store.load_rates(connection))
    return Translation(functional, target, rates, currency.actual_rate_type, currency.plan_rate_type,
                       currency.constant_currency)


async def variance_report(database: Database, entity_id: str, request: ReportRequest,
                          currency: Currency) -> list[ReportLine]:
    async with database.reading() as connection:
        context = await load_context(connection, entity_id, request.period, request.hierarchy, currency)
    lines = build_report(context.inputs, request, context.tree, context.directions, context.translation)
    logger.info("variance report of %s %s in %s: %s lines", entity_id, request.period,
                context.translation.currency, len(lines))
    return lines


async def variance_bridge(database: Database, entity_id: str, line: str, period: PeriodKey,
                          currency: Currency) -> Bridge:
    async with database.reading() as connection:
        context = await load_context(connection, entity_id, period, None, currency)
    return build_bridge(context.inputs, context.tree, line, period, context.translation)


async def kpi_report(database: Database, entity_id: str, period: PeriodKey, currency: Currency) -> list[KpiValue]:
    async with database.reading() as connection:
        context = await load_context(connection, entity_id, period, None, currency)
        definitions = await report_store.kpi_definitions(connection)
        targets = await report_store.kpi_targets(connection, entity_id, period.fiscal_year)
    return kpi_values(definitions, targets, LeafFigures(context.inputs, context.translation), context.tree, period)


# --- commands ----------------------------------------------------------------------------------


async def store_rates(database: Database, rates: list[Rate], base_currency: str) -> int:
    """Store report exchange rates, replacing the rate of the same key; all or none."""
    RateTable(base_currency, rates)
    async with database.transaction() as transaction:
        await report_store.store_rates(transaction.connection, rates, utcnow())
    logger.info("stored %s report exchange rates", len(rates))
    return len(rates)


async def list_rates(database: Database) -> list[Rate]:
    async with database.reading() as connection:
        return await report_store.load_rates(connection)


async def define_kpi(database: Database, definition: KpiDefinition) -> KpiDefinition:
    """Store a KPI after checking that its formula parses."""
    parse_formula(definition.formula)
    async with database.transaction() as transaction:
        await report_store.store_kpi(transaction.connection, definition, utcnow())
    logger.info("KPI %s defined as %s", definition.kpi_id, definition.formula)
    return definition


async def list_kpis(database: Database) -> list[KpiDefinition]:
    async with database.reading() as connection:
        return await report_store.kpi_definitions(connection)


async def set_kpi_target(database: Database, entity_id: str, target: KpiTarget) -> KpiTarget:
    async with database.transaction() as transaction:
        known = {item.kpi_id for item in await report_store.kpi_definitions(transaction.connection)}
        if target.kpi_id not in known:
            raise NotFound(f"KPI {target.kpi_id!r} is not defined; define it with PUT /v1/kpis/{target.kpi_id}")
        await report_store.store_kpi_target(transaction.connection, entity_id, target, utcnow())
    logger.info("KPI target of %s %s FY%s set to %s", entity_id, target.kpi_id, target.fiscal_year, target.target)
    return target


async def set_volume_driver(database: Database, line: str, volume_account: str) -> None:
    if line == volume_account:
        raise InvalidInput("volume_account: equals the line; expected the statistical account that counts its "
                           "units", field="volume_account")
    async with database.transaction() as transaction:
        await report_store.store_volume_driver(transaction.connection, line, volume_account, utcnow())
    logger.info("volume driver of %s set to %s", line, volume_account)

