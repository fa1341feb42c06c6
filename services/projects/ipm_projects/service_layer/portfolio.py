"""Read the benefits portfolio: expected, validated and realised benefits per project and strategic target."""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_common.errors import NotFound
from ipm_common.periods import PeriodKey
from ipm_common.reference import Hierarchy
from ipm_common.storage import Database
from ipm_projects.adapters import benefits as store
from ipm_projects.adapters import repository
from ipm_projects.adapters.benefits import BenefitLine
from ipm_projects.domain.portfolio import Amounts, AmountsByCurrency, LineFigures, per_project, per_target, totals
from ipm_projects.domain.projects import LinkedTarget
from ipm_projects.domain.realisation import RealisedPoint, favourable_sign
from ipm_projects.service_layer.realisation import baseline_of, start_period


@dataclass(frozen=True)
class ProjectBenefits:
    project_id: str
    name: str
    phase: str
    amounts: list[Amounts]


@dataclass(frozen=True)
class TargetBenefits:
    target: LinkedTarget
    project_ids: list[str]
    amounts: list[Amounts]


@dataclass(frozen=True)
class Portfolio:
    projects: list[ProjectBenefits]
    targets: list[TargetBenefits]
    totals: list[Amounts]


async def portfolio(database: Database, entity_id: str | None = None) -> Portfolio:
    """Sum every project's benefits, optionally only those on one entity, per currency."""
    async with database.reading() as connection:
        lines = await line_figures(connection, entity_id)
        links = await repository.linked_targets(connection)
        hierarchies = await repository.reference.hierarchies(connection, "account")
        headers = {row.project_id: row for row in await repository.project_headers(connection, None)}

    if entity_id is not None:
        links = {project_id: [target for target in targets if target.entity_id == entity_id]
                 for project_id, targets in links.items()}
    by_project = per_project(lines)
    by_target = per_target(lines, links, _counts_toward(hierarchies))

    projects = [ProjectBenefits(project_id, headers[project_id].name, headers[project_id].phase,
                                by_project[project_id].sorted() if project_id in by_project else [])
                for project_id in sorted(headers)
                if project_id in by_project or entity_id is None or links.get(project_id)]
    linked_projects: dict[LinkedTarget, list[str]] = {}
    for project_id, project_targets in sorted(links.items()):
        for target in project_targets:
            linked_projects.setdefault(target, []).append(project_id)
    target_rows = [TargetBenefits(target, project_ids, by_target[target].sorted() if target in by_target else [])
                   for target, project_ids in sorted(linked_projects.items())]
    return Portfolio(projects, target_rows, totals(lines).sorted())


async def line_figures(connection: AsyncConnection, entity_id: str | None) -> list[LineFigures]:
    """Collect every benefit line with its planned and realised amounts in the favourable sign."""
    planned = await store.planned(connection)
    realised = await store.realisations(connection)
    entities = await repository.reference.entities(connection)
    accounts = await repository.reference.accounts(connection)

    figures = []
    for line in await store.benefit_lines(connection):
        if entity_id is not None and line.entity_id != entity_id:
            continue
        key = (line.project_id, line.entity_id, line.account_id)
        sign = favourable_sign(accounts[line.account_id].direction)
        figures.append(LineFigures(
            line.project_id, line.entity_id, line.account_id, entities[line.entity_id].currency,
            line.validated_by is not None,
            {period: amount * sign for period, amount in planned.get(key, {}).items()},
            {point.period: point.realised for point in realised.get(key, ())},
        ))
    return figures


def _counts_toward(hierarchies: list[Hierarchy]) -> Callable[[str, str], bool]:
    def counts(account_id: str, line: str) -> bool:
        return account_id == line or any(line in hierarchy.ancestors_of(account_id) for hierarchy in hierarchies)

    return counts


@dataclass(frozen=True)
class LineReport:
    """One line of a project: its stage, and per period the plan, the baseline and the measured figures."""

    line: BenefitLine
    currency: str
    direction: str
    start: PeriodKey | None
    planned: dict[PeriodKey, Decimal]  # natural sign
    baseline: dict[PeriodKey, Decimal]  # natural sign
    points: tuple[RealisedPoint, ...]
    amounts: Amounts


async def project_benefits(database: Database, project_id: str) -> list[LineReport]:
    """Report each benefit line of a project with its baseline, realisation and gap."""
    async with database.reading() as connection:
        if await repository.project_header(connection, project_id) is None:
            raise NotFound(f"project {project_id!r} not found; list projects with GET /v1/projects")
        figures = {(item.entity_id, item.account_id): item
                   for item in await line_figures(connection, None) if item.project_id == project_id}
        planned = await store.planned(connection, project_id)
        realised = await store.realisations(connection, project_id)
        accounts = await repository.reference.accounts(connection)

        reports = []
        for line in await store.benefit_lines(connection, project_id):
            key = (project_id, *line.line)
            line_planned = planned.get(key, {})
            amounts = AmountsByCurrency()
            amounts.add(figures[line.line])
            reports.append(LineReport(
                line, figures[line.line].currency, accounts[line.account_id].direction,
                await start_period(connection, project_id, line.line, line_planned), line_planned,
                await baseline_of(connection, project_id, line.line, line_planned), realised.get(key, ()),
                amounts.sorted()[0],
            ))
    return reports
