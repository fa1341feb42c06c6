"""SQLAlchemy 2 async storage shared by the services: engines, exact money, outbox and inbox.

SQLite (the default) and PostgreSQL both store money exactly: PostgreSQL as ``NUMERIC`` without
scale, SQLite as decimal text, because SQLite has no exact decimal type and its ``SUM`` works in
floats. Sums of money are therefore taken in Python, never in SQL.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    event,
    insert,
    select,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.types import TypeDecorator, TypeEngine

from ipm_common import fault_points
from ipm_common.envelope import Envelope, encode
from ipm_common.errors import Conflict

logger = logging.getLogger(__name__)

READ_ONLY_OPTION = "ipm_read_only"

# Event ids per inbox query; far below SQLite's and PostgreSQL's bound-parameter limits.
INBOX_CHUNK = 500


class MoneyType(TypeDecorator[Decimal]):
    """Exact Decimal column: ``NUMERIC`` on PostgreSQL, decimal text on SQLite."""

    impl = String(64)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(asdecimal=True))
        return dialect.type_descriptor(String(64))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"money column expects Decimal, got {type(value).__name__}")
        return value if dialect.name == "postgresql" else format(value, "f")

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(value)


# SQLSTATE classes of errors that pass by themselves: 08 connection exception, 53 insufficient
# resources, 57 operator intervention (a server shutting down, or "cannot connect now" while it starts).
_UNAVAILABLE_SQLSTATE_CLASSES = frozenset({"08", "53", "57"})


def database_unavailable(error: BaseException) -> bool:
    """Tell whether a database error means the database is unreachable or restarting, not that the request is wrong.

    PostgreSQL reports a restart as errors of several classes, and asyncpg passes some of them on
    as plain ``DBAPIError`` rather than ``OperationalError``, so the SQLSTATE decides.
    """
    if isinstance(error, OperationalError | InterfaceError):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    state = getattr(error.orig, "sqlstate", None)
    return isinstance(state, str) and state[:2] in _UNAVAILABLE_SQLSTATE_CLASSES


def utcnow() -> datetime:
    return datetime.now(UTC)


def define_outbox(metadata: MetaData) -> Table:
    """Define the outbox: events written in the same transaction as the state they describe."""
    return Table(
        "outbox",
        metadata,
        Column("position", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
        Column("event_id", String(64), nullable=False, unique=True),
        Column("event_type", String(128), nullable=False),
        Column("topic", String(255), nullable=False),
        Column("key", String(255), nullable=False),
        Column("payload", Text, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("published_at", DateTime(timezone=True), nullable=True, index=True),
    )


def define_inbox(metadata: MetaData) -> Table:
    """Define the inbox: ids of consumed events, written in the same transaction as their effects."""
    return Table(
        "inbox",
        metadata,
        Column("consumer", String(128), primary_key=True),
        Column("event_id", String(64), primary_key=True),
        Column("event_type", String(128), nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False),
    )


def create_engine(url: str) -> AsyncEngine:
    """Create an async engine; SQLite gets WAL, a busy timeout and immediate write transactions."""
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})
        _configure_sqlite(engine)
        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=5)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Driver-level autocommit, so that the "begin" hook below controls the transaction start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if fault_points.sqlite_max_pages is not None:
            cursor.execute(f"PRAGMA max_page_count={fault_points.sqlite_max_pages}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A write transaction takes the write lock up front with BEGIN IMMEDIATE: a deferred
        # transaction that later writes can fail with "database is locked" instead of waiting.
        if connection.get_execution_options().get(READ_ONLY_OPTION):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """One service's database: the engine plus its outbox and inbox tables.

    Every state change runs in ``transaction()``. Events added there reach the outbox in the
    same commit, and ``committed`` wakes the relay so that it publishes without polling delay.
    """

    def __init__(self, engine: AsyncEngine, outbox: Table, inbox: Table) -> None:
        self.engine = engine
        self.outbox = outbox
        self.inbox = inbox
        self.committed = asyncio.Event()
        # NOTE: SQLite allows one writer at a time; serialising transactions inside the process
        # avoids busy waits between this service's own tasks.
        self._write_lock = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    @asynccontextmanager
    async def transaction(self, *, wake_relay: bool = True) -> AsyncIterator["Transaction"]:
        """Open a write transaction that commits on normal exit and rolls back on an exception."""
        if self._write_lock is None:
            async with self.engine.begin() as connection:
                yield Transaction(connection, self)
        else:
            async with self._write_lock, self.engine.begin() as connection:
                yield Transaction(connection, self)
        if wake_relay:
            fault_points.reached("storage.after_commit")
            self.committed.set()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        """Open a read-only connection; on SQLite it does not take the write lock."""
        async with self.engine.connect() as connection:
            connection = await connection.execution_options(**{READ_ONLY_OPTION: True})
            yield connection

    async def dispose(self) -> None:
        await self.engine.dispose()


class Transaction:
    """An open database transaction with outbox and inbox helpers."""

    def __init__(self, connection: AsyncConnection, database: Database) -> None:
        self.connection = connection
        self._database = database

    async def publish(self, topic: str, key: str, envelope: Envelope) -> None:
        """Add an event to the outbox; the relay sends it to ``topic`` after the commit."""
        await self.connection.execute(
            insert(self._database.outbox).values(
                event_id=envelope.id,
                event_type=envelope.type,
                topic=topic,
                key=key,
                payload=encode(envelope).decode("utf-8"),
                created_at=utcnow(),
            )
        )

    async def mark_processed(self, consumer: str, envelope: Envelope) -> bool:
        """Record ``envelope`` in the inbox; return False when ``consumer`` already processed it."""
        inbox = self._database.inbox
        seen = await self.connection.execute(
            select(inbox.c.event_id).where(inbox.c.consumer == consumer, inbox.c.event_id == envelope.id)
        )
        if seen.first() is not None:
            return False
        try:
            async with self.connection.begin_nested():
                await self.connection.execute(
                    insert(inbox).values(
                        consumer=consumer, event_id=envelope.id, event_type=envelope.type, processed_at=utcnow()
                    )
                )
        except IntegrityError:
            # A concurrent instance of the same consumer recorded it first.
            logger.info("event %s already processed by %s", envelope.id, consumer)
            return False
        return True

    async def mark_many_processed(self, consumer: str, envelopes: Sequence[Envelope]) -> set[str]:
        """Record many events in the inbox with two statements; return the ids not processed before.

        A concurrent instance that records one of them first makes the insert fail, and the caller
        then falls back to one event at a time.
        """
        inbox = self._database.inbox
        ids = list(dict.fromkeys(envelope.id for envelope in envelopes))
        seen: set[str] = set()
        for start in range(0, len(ids), INBOX_CHUNK):
            chunk = ids[start:start + INBOX_CHUNK]
            rows = await self.connection.execute(
                select(inbox.c.event_id).where(inbox.c.consumer == consumer, inbox.c.event_id.in_(chunk)))
            seen.update(row.event_id for row in rows)

        fresh: dict[str, Envelope] = {}
        for envelope in envelopes:
            if envelope.id not in seen and envelope.id not in fresh:
                fresh[envelope.id] = envelope
        if fresh:
            now = utcnow()
            await self.connection.execute(insert(inbox), [
                {"consumer": consumer, "event_id": envelope.id, "event_type": envelope.type, "processed_at": now}
                for envelope in fresh.values()
            ])
        return set(fresh)


@asynccontextmanager
async def command_transaction(database: Database, *, subject: str = "records") -> AsyncIterator[Transaction]:
    """Open a write transaction that turns a unique key taken by a concurrent request into a ``Conflict``.

    On PostgreSQL two requests may both find a key free and both insert it. The later one fails at
    commit, and its caller gets 409 with a request to retry.
    """
    try:
        async with database.transaction() as transaction:
            yield transaction
    except IntegrityError as error:
        logger.warning("write rolled back after an integrity error: %s", error.orig)
        raise Conflict(
            f"the request clashed with a concurrent change of the same {subject}; retry the request",
            reason="concurrent_update",
        ) from None


def sum_money(amounts: Any) -> Decimal:
    """Sum Decimals exactly; the place to add money instead of SQL ``SUM``."""
    total = Decimal(0)
    for amount in amounts:
        total += amount
    return total
