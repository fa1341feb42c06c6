"""Measure realised benefits whenever a line's actuals, baseline or plan change, and publish them.

Each measurement compares the line's planned periods with its baseline and actuals. When the
figures differ from the stored ones, they replace them and ``BenefitsRealised`` is published with
every measured period and the next realisation version, so the newest event replaces the earlier ones.
"""

import logging
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_common.dispatch import publish_event
from ipm_common.errors import NotFound
from ipm_common.events import BenefitsRealised, RealisedBenefitPoint
from ipm_common.periods import PeriodKey
from ipm_common.storage import Transaction
from ipm_projects.adapters import benefits as store
from ipm_projects.adapters import repository
from ipm_projects.domain.projects import Line
from ipm_projects.domain.realisation import frozen_baseline, realised_points

logger = logging.getLogger(__name__)

SOURCE = "ipm-projects"


async def baseline_of(connection: AsyncConnection, project_id: str, line: Line,
                      planned: dict[PeriodKey, Decimal]) -> dict[PeriodKey, Decimal]:
    """Return the line's baseline without the project: the frozen forecast, overridden by a manual baseline."""
    start = await start_period(connection, project_id, line, planned)
    baseline = {} if start is None else frozen_baseline(await store.forecasts(connection, *line), start)
    baseline.update(await store.manual_baseline(connection, project_id, line))
    return baseline


async def start_period(connection: AsyncConnection, project_id: str, line: Line,
                       planned: dict[PeriodKey, Decimal]) -> PeriodKey | None:
    """Return the period in which the project starts on this line's entity.

    That is the period of the charter's start date, or without one the line's first planned period.
    """
    start_date = await repository.start_date(connection, project_id)
    if start_date is not None:
        entity = await repository.reference.entity(connection, line[0])
        return entity.calendar.period_of(start_date)
    return min(planned, default=None)


async def remeasure(transaction: Transaction, project_id: str, line: Line, correlation_id: str) -> bool:
    """Measure one project's line again; store and publish the figures when they changed."""
    connection = transaction.connection
    planned = (await store.planned(connection, project_id)).get((project_id, *line), {})
    if not planned:
        return False
    try:
        account = await repository.reference.account(connection, line[1])
        baseline = await baseline_of(connection, project_id, line, planned)
    except NotFound as error:
        logger.warning("project %s line %s/%s not measured: %s", project_id, *line, error)
        return False

    points = realised_points(planned, baseline, await store.actuals(connection, *line), account.direction)
    stored = (await store.realisations(connection, project_id, line)).get((project_id, *line), ())
    current = next(item for item in await store.benefit_lines(connection, project_id) if item.line == line)
    stage = _stage(len(points) == len(planned), current.validated_by is not None)
    if points == stored:
        if stage != current.stage:
            await store.set_stage(connection, project_id, line, stage)
        return False

    version = current.realisation_version + 1
    await store.replace_realisations(connection, project_id, line, points, version, stage)

    event = BenefitsRealised(
        project_id=project_id, entity_id=line[0], account_id=line[1], version=version,
        benefit_type=current.benefit_type,
        points=tuple(RealisedBenefitPoint(period=str(point.period), planned=point.planned, baseline=point.baseline,
                                          actual=point.actual, realised=point.realised) for point in points),
    )
    await publish_event(transaction, SOURCE, event, correlation_id=correlation_id,
                        subject=f"{project_id}/{line[0]}/{line[1]}")
    logger.info("project %s line %s/%s realisation version %s: %s of %s planned periods measured", project_id,
                line[0], line[1], version, len(points), len(planned))
    return True


def _stage(fully_measured: bool, validated: bool) -> str:
    """Return a line's stage: realised once every planned period is measured, else validated or expected."""
    if fully_measured:
        return "realised"
    return "validated" if validated else "expected"


async def remeasure_line(transaction: Transaction, line: Line, correlation_id: str) -> int:
    """Measure every project that plans on ``line`` again; return how many published new figures."""
    published = 0
    for project_id in await store.projects_on_line(transaction.connection, *line):
        if await remeasure(transaction, project_id, line, correlation_id):
            published += 1
    return published
