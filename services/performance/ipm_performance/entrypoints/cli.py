from pathlib import Path

from ipm_common.cli import service_main
from ipm_performance.settings import PerformanceSettings

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def main(argv: list[str] | None = None) -> None:
    """Run ``ipm-performance migrate`` or ``ipm-performance serve``."""
    service_main("performance", PerformanceSettings, "ipm_performance.bootstrap:create_app", MIGRATIONS, argv)


if __name__ == "__main__":
    main()
