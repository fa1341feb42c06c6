from pathlib import Path

from ipm_common.cli import service_main
from ipm_forecast.settings import ForecastSettings

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def main(argv: list[str] | None = None) -> None:
    """Run ``ipm-forecast migrate`` or ``ipm-forecast serve``."""
    service_main("forecast", ForecastSettings, "ipm_forecast.bootstrap:create_app", MIGRATIONS, argv)


if __name__ == "__main__":
    main()
