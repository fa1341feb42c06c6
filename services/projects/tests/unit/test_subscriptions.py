from ipm_projects.entrypoints.subscriptions import MEASUREMENT_HANDLERS


def test_measurement_handles_forecasts_and_actuals() -> None:
    assert sorted(MEASUREMENT_HANDLERS) == ["ipm.forecast.actuals.posted", "ipm.forecast.forecast.rerolled"]
