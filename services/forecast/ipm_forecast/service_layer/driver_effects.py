"""Load a driver-based line's regression and driver path, the inputs of its driver effect layer."""

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_common.errors import InvalidInput
from ipm_common.periods import PeriodKey
from ipm_forecast.adapters import forecast_store, repository
from ipm_forecast.adapters.forecast_store import DriverLine, Series
from ipm_forecast.domain.drivers import driver_path, month_of_period, overlap, shift_month, trailing_run
from ipm_forecast.domain.regression import Regression, fit_ols
from ipm_forecast.domain.statistics import MAX_HORIZON, forecast_baselines

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DriverInputs:
    """Inputs of a driver-based line's layer, and the part of them that the version's lineage records."""

    regression: Regression | None
    path: list[Decimal | None]
    lineage: dict[str, Any]
    note: str | None


async def load_driver_inputs(connection: AsyncConnection, series: Series, line: DriverLine | None,
                             history_periods: list[PeriodKey], history: list[Decimal],
                             forecast_periods: list[PeriodKey]) -> DriverInputs | None:
    """Fit the line on its driver and pick the driver's path over the forecast periods; None without a driver."""
    if line is None:
        return None
    calendar = (await repository.reference.entity(connection, series[0])).calendar

    record = await forecast_store.driver(connection, line.driver_id)
    lineage: dict[str, Any] = {"driver_id": line.driver_id, "line_version": line.version, "scenario": line.scenario,
                               "driver_version": None if record is None else record.version}
    actual = await forecast_store.driver_values(connection, line.driver_id)
    scenario = {} if line.scenario is None else await forecast_store.scenario_values(connection, line.driver_id,
                                                                                       line.scenario)
    xs, ys = overlap([month_of_period(calendar, period) for period in history_periods], history, actual)
    try:
        regression = fit_ols(xs, ys)
    except InvalidInput as error:
        logger.info("line %s/%s/%s gets no driver effect: %s", *series, error)
        return DriverInputs(None, [], lineage, str(error))

    months = [month_of_period(calendar, period) for period in forecast_periods]
    path = driver_path(months, actual, scenario, own_driver_forecast(actual, months[-1]))
    return DriverInputs(regression, path, lineage, None)


def own_driver_forecast(actual: dict[str, Decimal], last_month: str) -> dict[str, Decimal]:
    """Forecast the driver from its newest run of consecutive months up to ``last_month``, at most 36 months."""
    run = trailing_run(actual)
    if run is None:
        return {}
    first, values = run
    last_known = shift_month(first, len(values) - 1)
    months_ahead = _months_between(last_known, last_month)
    if months_ahead < 1:
        return {}

    horizon = min(months_ahead, MAX_HORIZON)
    baseline = forecast_baselines([values], horizon)[0]
    return {shift_month(last_known, step + 1): value for step, value in enumerate(baseline.p50)}


def _months_between(first: str, last: str) -> int:
    return (int(last[:4]) - int(first[:4])) * 12 + int(last[5:7]) - int(first[5:7])
