from pathlib import Path

from ipm_common.cli import service_main
from ipm_projects.settings import ProjectsSettings

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def main(argv: list[str] | None = None) -> None:
    """Run ``ipm-projects migrate`` or ``ipm-projects serve``."""
    service_main("projects", ProjectsSettings, "ipm_projects.bootstrap:create_app", MIGRATIONS, argv)


if __name__ == "__main__":
    main()
