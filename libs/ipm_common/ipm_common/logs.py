"""Logging set-up for service entrypoints; library modules only create loggers."""

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def configure_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level.upper(), format=FORMAT)
    # aiokafka logs every coordinator round trip at INFO; warnings are what operators need.
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, logging.getLogger().level))
