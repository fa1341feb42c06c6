"""Create, edit, adopt and revise three-statement operating plans, and build their statements."""

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_common.dispatch import publish_event
from ipm_common.errors import Conflict, InvalidInput, NotFound
from ipm_common.events import PlanAdopted, PlanStatementLine, TargetLine, TargetsSet
from ipm_common.storage import Database, Transaction, utcnow
from ipm_common.variance import BandScope
from ipm_strategy.adapters import operating_plans as store
from ipm_strategy.adapters import repository
from ipm_strategy.domain.accounts import Account
from ipm_strategy.domain.drivers import STANDARD_LINES
from ipm_strategy.domain.kpis import KPIS, kpis_by_year
from ipm_strategy.domain.operating_plans import (
    DriverSettings,
    OperatingPlan,
    OperatingTarget,
    PlanEntry,
    TargetCheck,
    TargetKind,
    check_targets,
    entry,
)
from ipm_strategy.domain.plans import target_band
from ipm_strategy.domain.sec import HISTORY_LINES
from ipm_strategy.domain.statements import (
    DIRECT_CASH_FLOW_LINES,
    CashFlowRole,
    LineDefinition,
    LineKind,
    YearStatements,
    build_statements,
    define_line,
)
from ipm_strategy.service_layer import investments
from ipm_strategy.service_layer.unit_of_work import SOURCE, writing

logger = logging.getLogger(__name__)

# Lines that every plan may use without an account of the chart of accounts.
CATALOGUE_LINES: dict[str, LineDefinition] = {**STANDARD_LINES, **HISTORY_LINES, **DIRECT_CASH_FLOW_LINES}

# A KPI target is a fraction or a number of days, so its default band has no absolute floor.
KPI_BAND_ABSOLUTE = Decimal(0)


@dataclass(frozen=True)
class LineRequest:
    line: str
    fiscal_year: int
    amount: Decimal
    role: CashFlowRole | None = None


@dataclass(frozen=True)
class TargetRequest:
    kind: TargetKind
    line: str
    fiscal_year: int
    amount: Decimal
    band_pct: Decimal | None = None
    band_absolute: Decimal | None = None
    band_scope: BandScope | None = None


@dataclass(frozen=True)
class PlanStatements:
    plan: OperatingPlan
    years: list[YearStatements]
    kpis: dict[int, dict[str, Decimal | None]]
    targets: list[TargetCheck]


async def create_plan(database: Database, *, plan_id: str, entity_id: str, name: str,
                      lines: Sequence[LineRequest]) -> OperatingPlan:
    """Store a new proposed operating plan with its entered lines."""
    async with writing(database) as transaction:
        connection = transaction.connection
        if await store.load(connection, plan_id) is not None:
            raise Conflict(f"operating plan {plan_id} already exists; edit it with PUT "
                           f"/v1/operating-plans/{plan_id}/lines or choose another plan_id", reason="plan_exists")
        await _check_entity(connection, entity_id)
        entries = await _entries(connection, lines)
        plan = OperatingPlan(plan_id, entity_id, name, "proposed", 0, ()).with_lines(entries)
        await store.insert_plan(connection, plan)

    logger.info("operating plan %s of %s created with %s lines", plan_id, entity_id, len(plan.entries))
    return plan


async def replace_lines(database: Database, plan_id: str, lines: Sequence[LineRequest]) -> OperatingPlan:
    """Replace the entered lines of a proposed plan; projected years follow from the drivers again."""
    async with writing(database) as transaction:
        stored = await _load(transaction.connection, plan_id)
        changed = stored.with_lines(await _entries(transaction.connection, lines))
        await investments.check_approved_envelopes(transaction.connection, changed)
        await store.save_plan(transaction.connection, changed, previous_version=stored.version)

    logger.info("operating plan %s: %s lines entered, version %s", plan_id, len(lines), changed.version)
    return changed


async def set_drivers(database: Database, plan_id: str, settings: DriverSettings) -> OperatingPlan:
    """Set a proposed plan's drivers and project the years after the base year."""
    async with writing(database) as transaction:
        stored = await _load(transaction.connection, plan_id)
        changed = stored.with_drivers(settings)
        await investments.check_approved_envelopes(transaction.connection, changed)
        await store.save_plan(transaction.connection, changed, previous_version=stored.version)

    logger.info("operating plan %s: drivers set from FY%s for %s years, version %s", plan_id, settings.base_year,
                settings.years, changed.version)
    return changed


async def set_targets(database: Database, plan_id: str, requests: Sequence[TargetRequest]) -> OperatingPlan:
    """Replace a proposed plan's strategic targets on lines and KPIs."""
    async with writing(database) as transaction:
        connection = transaction.connection
        stored = await _load(connection, plan_id)
        known = await repository.known_lines(connection, [item.line for item in requests if item.kind == "line"])
        targets = [_target(index, item, stored, known) for index, item in enumerate(requests)]
        changed = stored.with_targets(targets)
        await store.save_plan(connection, changed, previous_version=stored.version)

    logger.info("operating plan %s: %s targets set, version %s", plan_id, len(targets), changed.version)
    return changed


async def adopt_plan(database: Database, plan_id: str, *, by: str, correlation_id: str) -> OperatingPlan:
    """Adopt a proposed plan and publish ``PlanAdopted``, and ``TargetsSet`` under a new version when it has targets."""
    async with writing(database) as transaction:
        return await adopt_in(transaction, plan_id, by=by, correlation_id=correlation_id)


async def adopt_in(transaction: Transaction, plan_id: str, *, by: str, correlation_id: str,
                   entity_id: str | None = None) -> OperatingPlan:
    """Adopt a plan inside the caller's transaction, checking its entity when ``entity_id`` is given."""
    connection = transaction.connection
    stored = await _load(connection, plan_id)
    if entity_id is not None and stored.entity_id != entity_id:
        raise InvalidInput(f"revised_plan_id: operating plan {plan_id!r} belongs to {stored.entity_id}, not to "
                           f"{entity_id}; give a plan of the review's entity", field="revised_plan_id")
    adopted = stored.adopt(by, utcnow())
    targets_version = None
    if adopted.targets:
        targets_version = await repository.latest_targets_version(connection, adopted.entity_id) + 1
    await store.save_plan(connection, adopted, previous_version=stored.version, targets_version=targets_version)
    await _publish_adoption(transaction, adopted, targets_version, correlation_id)

    logger.info("operating plan %s of %s %s by %s, targets version %s", plan_id, adopted.entity_id, adopted.status,
                by, targets_version)
    return adopted


async def revise_plan(database: Database, plan_id: str, *, new_plan_id: str, name: str) -> OperatingPlan:
    """Start a proposed vintage that copies a plan, to be edited and adopted as its revision."""
    async with writing(database) as transaction:
        connection = transaction.connection
        stored = await _load(connection, plan_id)
        if await store.load(connection, new_plan_id) is not None:
            raise Conflict(f"operating plan {new_plan_id} already exists; choose another plan_id",
                           reason="plan_exists")
        revision = stored.revise(new_plan_id, name)
        await store.insert_plan(connection, revision)

    logger.info("operating plan %s started as a revision of %s", new_plan_id, plan_id)
    return revision


async def plan_statements(database: Database, plan_id: str) -> PlanStatements:
    """Build the plan's three statements with their checks, its KPIs per fiscal year, and its targets against them."""
    async with database.reading() as connection:
        plan = await _load(connection, plan_id)
    lines = plan.statement_lines
    kpis = kpis_by_year(lines)
    return PlanStatements(plan, build_statements(plan.definitions, lines), kpis, check_targets(plan, kpis))


async def load_plan(database: Database, plan_id: str) -> OperatingPlan:
    async with database.reading() as connection:
        return await _load(connection, plan_id)


async def _publish_adoption(transaction: Transaction, plan: OperatingPlan, targets_version: int | None,
                            correlation_id: str) -> None:
    status = "revised" if plan.status == "revised" else "adopted"
    lines = tuple(PlanStatementLine(line=item.definition.line, statement=item.definition.statement,
                                    fiscal_year=item.fiscal_year, amount=item.amount) for item in plan.entries)
    adopted = PlanAdopted(entity_id=plan.entity_id, plan_id=plan.plan_id, plan_name=plan.name, status=status,
                          revises=plan.revises, targets_version=targets_version, lines=lines)
    subject = f"{plan.entity_id}/{plan.plan_id}"
    await publish_event(transaction, SOURCE, adopted, correlation_id=correlation_id, subject=subject)
    if targets_version is None:
        return

    targets = tuple(TargetLine(line=target.line, fiscal_year=target.fiscal_year, amount=target.amount,
                               band_pct=target.band.pct, band_absolute=target.band.absolute,
                               band_scope=target.band.scope, kind=target.kind) for target in plan.targets)
    targets_set = TargetsSet(entity_id=plan.entity_id, plan_id=plan.plan_id, plan_name=plan.name,
                             version=targets_version, targets=targets)
    await publish_event(transaction, SOURCE, targets_set, correlation_id=correlation_id, subject=subject)


async def _load(connection: AsyncConnection, plan_id: str) -> OperatingPlan:
    loaded = await store.load(connection, plan_id)
    if loaded is None:
        raise NotFound(f"operating plan {plan_id!r} not found; list plans with GET /v1/operating-plans")
    return loaded[0]


async def _check_entity(connection: AsyncConnection, entity_id: str) -> None:
    if await repository.entity(connection, entity_id) is None:
        raise InvalidInput(
            f"entity_id: {entity_id!r} is not registered; register it with PUT /v1/entities/{entity_id} first",
            field="entity_id",
        )


async def _entries(connection: AsyncConnection, lines: Sequence[LineRequest]) -> list[PlanEntry]:
    """Place each line on its statement: a catalogue line, or an account of the chart of accounts."""
    accounts = await repository.accounts(connection, [line.line for line in lines if line.line not in CATALOGUE_LINES])
    return [entry(_definition(index, line, accounts), line.fiscal_year, line.amount, index=index)
            for index, line in enumerate(lines)]


def _definition(index: int, line: LineRequest, accounts: dict[str, tuple[Account, int]]) -> LineDefinition:
    field = f"lines[{index}].role"
    catalogue = CATALOGUE_LINES.get(line.line)
    if catalogue is not None:
        if line.role is not None and line.role != catalogue.role:
            raise InvalidInput(f"{field}: {line.line!r} is a standard line with role {catalogue.role!r}; "
                               "leave role out or send that role", field=field)
        return catalogue

    stored = accounts.get(line.line)
    if stored is None:
        name = f"lines[{index}].line"
        raise InvalidInput(f"{name}: {line.line!r} is neither a standard plan line nor a defined account; define "
                           f"it with PUT /v1/accounts/{line.line} or use a standard line such as 'revenue'", field=name)
    account = stored[0]
    if account.statement == "statistical":
        name = f"lines[{index}].line"
        raise InvalidInput(f"{name}: account {line.line!r} is statistical and belongs on no financial statement",
                           field=name)
    kind: LineKind = "flow" if account.statement == "cash_flow" else account.account_type  # type: ignore[assignment]
    return define_line(line.line, account.statement, kind, line.role, field=field)


def _target(index: int, request: TargetRequest, plan: OperatingPlan, known: Collection[str]) -> OperatingTarget:
    field = f"targets[{index}]"
    if request.kind == "kpi" and request.line not in KPIS:
        raise InvalidInput(f"{field}.line: {request.line!r} is not a KPI; expected one of {', '.join(KPIS)}",
                           field=f"{field}.line")
    if request.kind == "line" and request.line not in plan.definitions and request.line not in known:
        raise InvalidInput(f"{field}.line: {request.line!r} is neither a line of the plan nor a defined account",
                           field=f"{field}.line")
    years = {item.fiscal_year for item in plan.entries}
    if request.fiscal_year not in years:
        raise InvalidInput(f"{field}.fiscal_year: {request.fiscal_year} is not a year of the plan "
                           f"({min(years, default='none')}-{max(years, default='none')})", field=f"{field}.fiscal_year")

    if request.band_pct is not None and not Decimal(0) < request.band_pct <= 1:
        raise InvalidInput(f"{field}.band_pct: {request.band_pct} is outside 0-1; give a fraction of the target "
                           "such as 0.05 for 5 %", field=f"{field}.band_pct")

    absolute = request.band_absolute
    if absolute is None and request.kind == "kpi":
        absolute = KPI_BAND_ABSOLUTE
    try:
        band = target_band(request.band_pct, absolute, request.band_scope)
    except InvalidInput as error:
        name = f"{field}.band_{error.field}"
        raise InvalidInput(f"{name}: {str(error).split(': ', 1)[-1]}", field=name) from None
    return OperatingTarget(request.kind, request.line, request.fiscal_year, request.amount, band)
