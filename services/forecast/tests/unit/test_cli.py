"""The forecast command line refuses invalid settings and names the variable."""

import pytest

from ipm_forecast.entrypoints.cli import main


def test_invalid_horizon_names_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IPM_FORECAST_HORIZON", "5")

    with pytest.raises(SystemExit) as stopped:
        main(["migrate"])

    assert "invalid setting IPM_FORECAST_HORIZON" in str(stopped.value.code)


def test_invalid_port_names_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IPM_FORECAST_PORT", "99999")

    with pytest.raises(SystemExit) as stopped:
        main(["migrate"])

    assert "invalid setting IPM_FORECAST_PORT" in str(stopped.value.code)
