"""Project KPIs: a baseline, a target and the measurements that show progress between them."""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Literal

from ipm_common.errors import InvalidInput

Direction = Literal["higher_is_better", "lower_is_better"]

# Progress is a ratio, not money, so it is rounded half-even to six decimal places.
PROGRESS_PLACES = Decimal("0.000001")


@dataclass(frozen=True)
class Measurement:
    measured_on: date
    value: Decimal


@dataclass(frozen=True)
class Kpi:
    kpi_id: str
    name: str
    unit: str
    baseline: Decimal
    target: Decimal
    direction: Direction


def define_kpi(kpi_id: str, name: str, unit: str, baseline: Decimal, target: Decimal, direction: Direction) -> Kpi:
    """Build a KPI whose target lies on the better side of its baseline, or equals it."""
    if direction == "higher_is_better" and target < baseline:
        raise InvalidInput(f"target: {target} is below the baseline {baseline}, but higher is better; raise the "
                           "target or set direction to lower_is_better", field="target")
    if direction == "lower_is_better" and target > baseline:
        raise InvalidInput(f"target: {target} is above the baseline {baseline}, but lower is better; lower the "
                           "target or set direction to higher_is_better", field="target")
    return Kpi(kpi_id, name, unit, baseline, target, direction)


def latest(measurements: list[Measurement]) -> Measurement | None:
    return max(measurements, key=lambda measurement: measurement.measured_on, default=None)


def progress(kpi: Kpi, measurement: Measurement | None) -> Decimal | None:
    """Return (latest − baseline) / (target − baseline); None without a measurement or when target = baseline."""
    if measurement is None or kpi.target == kpi.baseline:
        return None
    ratio = (measurement.value - kpi.baseline) / (kpi.target - kpi.baseline)
    return ratio.quantize(PROGRESS_PLACES, rounding=ROUND_HALF_EVEN)
