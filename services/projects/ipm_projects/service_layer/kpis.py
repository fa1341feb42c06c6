"""Define a project's KPIs and record their measurements."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_common.errors import InvalidInput, NotFound
from ipm_common.storage import Database, command_transaction
from ipm_projects.adapters import kpis as store
from ipm_projects.adapters import repository
from ipm_projects.domain.kpis import Direction, Kpi, Measurement, define_kpi, latest, progress

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class KpiProgress:
    kpi: Kpi
    measurements: list[Measurement]
    latest: Measurement | None
    progress: Decimal | None


async def save_kpi(database: Database, project_id: str, kpi_id: str, *, name: str, unit: str, baseline: Decimal,
                   target: Decimal, direction: Direction) -> KpiProgress:
    """Create or replace a KPI's definition; its measurements are kept."""
    kpi = define_kpi(kpi_id, name, unit, baseline, target, direction)
    async with command_transaction(database, subject="KPI") as transaction:
        await _check_project(transaction.connection, project_id)
        await store.replace_kpi(transaction.connection, project_id, kpi)
        measured = (await store.measurements(transaction.connection, project_id)).get(kpi_id, [])

    logger.info("project %s KPI %s saved: baseline %s target %s %s", project_id, kpi_id, baseline, target, unit)
    return _progress(kpi, measured)


async def record(database: Database, project_id: str, kpi_id: str,
                 values: Sequence[tuple[date, Decimal]]) -> KpiProgress:
    """Record measurements of one KPI and return its progress."""
    _check_unique_dates(values)
    async with command_transaction(database, subject="KPI") as transaction:
        connection = transaction.connection
        await _check_project(connection, project_id)
        kpi = next((item for item in await store.kpis(connection, project_id) if item.kpi_id == kpi_id), None)
        if kpi is None:
            raise NotFound(f"KPI {kpi_id!r} of project {project_id} not found; define it with "
                           f"PUT /v1/projects/{project_id}/kpis/{kpi_id}")
        await store.record_measurements(connection, project_id, kpi_id,
                                        [Measurement(measured_on, value) for measured_on, value in values])
        measured = (await store.measurements(connection, project_id)).get(kpi_id, [])

    logger.info("project %s KPI %s: %s measurements recorded", project_id, kpi_id, len(values))
    return _progress(kpi, measured)


async def kpi_progress(database: Database, project_id: str) -> list[KpiProgress]:
    async with database.reading() as connection:
        await _check_project(connection, project_id)
        defined = await store.kpis(connection, project_id)
        measured = await store.measurements(connection, project_id)
    return [_progress(kpi, measured.get(kpi.kpi_id, [])) for kpi in defined]


def _progress(kpi: Kpi, measured: list[Measurement]) -> KpiProgress:
    newest = latest(measured)
    return KpiProgress(kpi, measured, newest, progress(kpi, newest))


def _check_unique_dates(values: Sequence[tuple[date, Decimal]]) -> None:
    first: dict[date, int] = {}
    for index, (measured_on, _) in enumerate(values):
        if measured_on in first:
            raise InvalidInput(f"measurements[{index}].date: {measured_on} repeats measurements[{first[measured_on]}]; "
                               "give each date once", field=f"measurements[{index}].date")
        first[measured_on] = index


async def _check_project(connection: AsyncConnection, project_id: str) -> None:
    if await repository.project_header(connection, project_id) is None:
        raise NotFound(f"project {project_id!r} not found; list projects with GET /v1/projects")
