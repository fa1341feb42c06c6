"""Validate a project's benefits on a line and set a line's baseline by hand."""

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_common.dispatch import publish_event
from ipm_common.errors import InvalidInput, NotFound
from ipm_common.events import BenefitPoint, BenefitsChanged
from ipm_common.money import parse_amount
from ipm_common.periods import PeriodKey
from ipm_common.storage import Database, command_transaction, utcnow
from ipm_projects.adapters import benefits as store
from ipm_projects.adapters import repository
from ipm_projects.adapters.benefits import BenefitLine
from ipm_projects.domain.projects import Line, Project
from ipm_projects.service_layer.realisation import remeasure

logger = logging.getLogger(__name__)

SOURCE = "ipm-projects"

PeriodParser = Callable[[str], PeriodKey]


@dataclass(frozen=True)
class ValidatedLine:
    line: BenefitLine
    changed: bool


async def validate_line(database: Database, project_id: str, line: Line, *, validated_by: str, comment: str,
                        correlation_id: str) -> ValidatedLine:
    """Record finance's validation of a line's planned benefits and publish ``BenefitsChanged``.

    A line validated before stays as it is, so a repeated request changes nothing.
    """
    async with command_transaction(database, subject="project") as transaction:
        connection = transaction.connection
        project, header, current = await _line(connection, project_id, line)
        if current.validated_by is not None:
            logger.info("project %s line %s/%s was validated before; nothing changed", project_id, *line)
            return ValidatedLine(current, changed=False)

        stage = "realised" if current.stage == "realised" else "validated"
        await store.set_stage(connection, project_id, line, stage, validated_by=validated_by, validated_at=utcnow())
        version = (await repository.touch_project(connection, project_id, header)).version
        reason = f"validated by {validated_by}" + (f": {comment}" if comment else "")
        await publish_event(transaction, SOURCE, _changed(project, line, version, current, reason),
                            correlation_id=correlation_id, subject=f"{project_id}/{line[0]}/{line[1]}")
        validated = next(item for item in await store.benefit_lines(connection, project_id) if item.line == line)

    logger.info("project %s line %s/%s validated by %s at project version %s", project_id, *line, validated_by,
                version)
    return ValidatedLine(validated, changed=True)


async def set_baseline(database: Database, project_id: str, line: Line, *, points: Sequence[tuple[str, object]],
                       set_by: str, correlation_id: str) -> dict[PeriodKey, Decimal]:
    """Replace a line's manual baseline (period, amount in natural sign) and measure the line again."""
    async with command_transaction(database, subject="project") as transaction:
        connection = transaction.connection
        await _line(connection, project_id, line)
        calendar = (await repository.reference.entity(connection, line[0])).calendar
        parsed = _parse_points(points, calendar.parse_period)

        await store.replace_manual_baseline(connection, project_id, line, parsed, set_by)
        await remeasure(transaction, project_id, line, correlation_id)

    logger.info("project %s line %s/%s baseline of %s periods set by %s", project_id, *line, len(parsed), set_by)
    return parsed


def _parse_points(points: Sequence[tuple[str, object]], parse_period: PeriodParser) -> dict[PeriodKey, Decimal]:
    parsed: dict[PeriodKey, Decimal] = {}
    for index, (text, amount) in enumerate(points):
        field = f"points[{index}]"
        try:
            period = parse_period(text)
        except InvalidInput as error:
            raise InvalidInput(f"{field}.{error}", field=f"{field}.period") from None
        if period in parsed:
            raise InvalidInput(f"{field}.period: {period} is given twice; give each period once",
                               field=f"{field}.period")
        parsed[period] = parse_amount(amount, field=f"{field}.amount")
    return parsed


async def _line(connection: AsyncConnection, project_id: str,
                line: Line) -> tuple[Project, repository.ProjectHeader, BenefitLine]:
    stored = await repository.project(connection, project_id)
    if stored is None:
        raise NotFound(f"project {project_id!r} not found; list projects with GET /v1/projects")
    current = next((item for item in await store.benefit_lines(connection, project_id) if item.line == line), None)
    if current is None:
        raise NotFound(f"project {project_id} plans no benefits on {line[0]}/{line[1]}; plan them with "
                       f"PUT /v1/projects/{project_id}")
    return stored[0], stored[1], current


def _changed(project: Project, line: Line, version: int, current: BenefitLine, reason: str) -> BenefitsChanged:
    points = tuple(BenefitPoint(period=str(benefit.period), amount=benefit.amount)
                   for benefit in project.benefit_lines().get(line, ()))
    return BenefitsChanged(project_id=project.project_id, name=project.name, entity_id=line[0], account_id=line[1],
                           version=version, benefits=points, benefit_type=current.benefit_type, stage="validated",
                           reason=reason)
