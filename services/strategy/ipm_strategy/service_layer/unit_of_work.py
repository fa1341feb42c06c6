"""The write transaction of every command of the strategy service."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import IntegrityError

from ipm_common.errors import Conflict
from ipm_common.storage import Database, Transaction

logger = logging.getLogger(__name__)

SOURCE = "ipm-strategy"


@asynccontextmanager
async def writing(database: Database) -> AsyncIterator[Transaction]:
    """Open a write transaction that turns a unique key taken by a concurrent request into a ``Conflict``."""
    try:
        async with database.transaction() as transaction:
            yield transaction
    except IntegrityError as error:
        # On PostgreSQL two requests may both find a key free and both insert it. The later one fails here.
        logger.warning("write rolled back after an integrity error: %s", error.orig)
        raise Conflict(
            "the request clashed with a concurrent change of the same records; retry the request",
            reason="concurrent_update",
        ) from None
