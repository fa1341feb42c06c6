"""The write transaction of every command of the strategy service."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from ipm_common.storage import Database, Transaction, command_transaction

SOURCE = "ipm-strategy"


@asynccontextmanager
async def writing(database: Database) -> AsyncIterator[Transaction]:
    """Open a write transaction that turns a unique key taken by a concurrent request into a ``Conflict``."""
    async with command_transaction(database) as transaction:
        yield transaction
