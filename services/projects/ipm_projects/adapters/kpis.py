"""Queries of project KPIs and their measurements. Callers open the connection."""

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_projects.adapters import tables
from ipm_projects.domain.kpis import Kpi, Measurement


async def kpis(connection: AsyncConnection, project_id: str) -> list[Kpi]:
    table = tables.kpis
    rows = await connection.execute(select(table).where(table.c.project_id == project_id).order_by(table.c.kpi_id))
    return [Kpi(row.kpi_id, row.name, row.unit, row.baseline, row.target, row.direction) for row in rows]


async def replace_kpi(connection: AsyncConnection, project_id: str, kpi: Kpi) -> None:
    table = tables.kpis
    await connection.execute(delete(table).where(table.c.project_id == project_id, table.c.kpi_id == kpi.kpi_id))
    await connection.execute(insert(table).values(project_id=project_id, kpi_id=kpi.kpi_id, name=kpi.name,
                                                  unit=kpi.unit, baseline=kpi.baseline, target=kpi.target,
                                                  direction=kpi.direction))


async def measurements(connection: AsyncConnection, project_id: str) -> dict[str, list[Measurement]]:
    """Map each KPI of the project to its measurements, oldest first."""
    table = tables.kpi_measurements
    rows = await connection.execute(
        select(table).where(table.c.project_id == project_id).order_by(table.c.kpi_id, table.c.measured_on))
    by_kpi: dict[str, list[Measurement]] = defaultdict(list)
    for row in rows:
        by_kpi[row.kpi_id].append(Measurement(row.measured_on, row.value))
    return dict(by_kpi)


async def record_measurements(connection: AsyncConnection, project_id: str, kpi_id: str,
                              recorded: Sequence[Measurement]) -> None:
    """Store measurements; one on a date already measured replaces the earlier value."""
    table = tables.kpi_measurements
    dates = [measurement.measured_on for measurement in recorded]
    await connection.execute(delete(table).where(table.c.project_id == project_id, table.c.kpi_id == kpi_id,
                                                 table.c.measured_on.in_(dates)))
    await connection.execute(insert(table), [
        {"project_id": project_id, "kpi_id": kpi_id, "measured_on": measurement.measured_on,
         "value": measurement.value}
        for measurement in recorded
    ])
