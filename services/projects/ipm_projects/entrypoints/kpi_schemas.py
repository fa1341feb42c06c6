"""Request and response bodies of the KPI routes; KPI values are exact decimals sent as strings."""

from datetime import date
from decimal import Decimal
from typing import Self

from pydantic import BaseModel, Field, field_validator

from ipm_common.money import Money
from ipm_projects.domain.kpis import Direction
from ipm_projects.entrypoints.schemas import Body, NonBlank
from ipm_projects.service_layer.kpis import KpiProgress


class KpiIn(Body):
    name: NonBlank = Field(min_length=1, max_length=255)
    unit: str = Field(min_length=1, max_length=32, examples=["days", "%", "USD"])
    baseline: Money
    target: Money
    direction: Direction


class MeasurementIn(Body):
    date: date
    value: Money


class MeasurementsIn(Body):
    measurements: list[MeasurementIn] = Field(min_length=1)

    @field_validator("measurements")
    @classmethod
    def _unique_dates(cls, measurements: list[MeasurementIn]) -> list[MeasurementIn]:
        dates = [measurement.date for measurement in measurements]
        repeated = sorted({day for day in dates if dates.count(day) > 1})
        if repeated:
            raise ValueError(f"{repeated[0]} is measured more than once; give each date once")
        return measurements


class MeasurementOut(BaseModel):
    date: date
    value: Money


class KpiOut(BaseModel):
    kpi_id: str
    name: str
    unit: str
    baseline: Money
    target: Money
    direction: Direction
    latest: MeasurementOut | None
    progress: Decimal | None = Field(description="(latest − baseline) / (target − baseline), rounded half-even to "
                                                 "six places; null without a measurement or when target = baseline")
    measurements: list[MeasurementOut]

    @classmethod
    def of(cls, item: KpiProgress) -> Self:
        kpi = item.kpi
        latest = None if item.latest is None else MeasurementOut(date=item.latest.measured_on, value=item.latest.value)
        return cls(kpi_id=kpi.kpi_id, name=kpi.name, unit=kpi.unit, baseline=kpi.baseline, target=kpi.target,
                   direction=kpi.direction, latest=latest, progress=item.progress,
                   measurements=[MeasurementOut(date=measurement.measured_on, value=measurement.value)
                                 for measurement in item.measurements])
