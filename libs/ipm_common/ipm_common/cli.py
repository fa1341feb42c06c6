"""The console entry point shared by the services: ``<service> migrate`` and ``<service> serve``."""

import argparse
import logging
from pathlib import Path

import uvicorn
from pydantic import ValidationError

from ipm_common.logs import configure_logging
from ipm_common.migrations import upgrade
from ipm_common.settings import ServiceSettings

logger = logging.getLogger(__name__)


def service_main(service: str, settings_class: type[ServiceSettings], app_path: str,
                 migrations: Path, argv: list[str] | None = None) -> None:
    """Parse the command line of one service and run the chosen command."""
    parser = argparse.ArgumentParser(prog=f"ipm-{service}", description=f"IPM {service} service")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="upgrade the database schema to the latest revision")
    serve = commands.add_parser("serve", help="run the HTTP API and the event consumers")
    serve.add_argument("--migrate", action="store_true", help="upgrade the schema before serving")
    arguments = parser.parse_args(argv)

    settings = _load_settings(settings_class)
    configure_logging(settings.log_level)
    database_url = settings.database_url.get_secret_value()

    if arguments.command == "migrate" or arguments.migrate:
        upgrade(migrations, database_url)
        logger.info("%s schema migrated at %s", service, settings.masked_database_url)
    if arguments.command == "serve":
        uvicorn.run(app_path, factory=True, host=settings.host, port=settings.port, log_config=None,
                    access_log=False)


def _load_settings(settings_class: type[ServiceSettings]) -> ServiceSettings:
    """Read the settings, or exit with one line per invalid variable naming it and the fix."""
    try:
        return settings_class()
    except ValidationError as error:
        lines = []
        for item in error.errors():
            field = str(item["loc"][0]) if item["loc"] else "?"
            name = settings_class.environment_name(field) if field in settings_class.model_fields else field
            lines.append(f"invalid setting {name}: {item['msg'].removeprefix('Value error, ')}")
        raise SystemExit("\n".join(lines)) from None
