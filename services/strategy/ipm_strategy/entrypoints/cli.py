from pathlib import Path

from ipm_common.cli import service_main
from ipm_strategy.settings import StrategySettings

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def main(argv: list[str] | None = None) -> None:
    """Run ``ipm-strategy migrate`` or ``ipm-strategy serve``."""
    service_main("strategy", StrategySettings, "ipm_strategy.bootstrap:create_app", MIGRATIONS, argv)


if __name__ == "__main__":
    main()
