"""Local copies of the reference data that the strategy service publishes.

Every service that needs entities, accounts or hierarchies defines these tables in its own
metadata and applies the reference events with the handlers below. A stale version that
arrives late is logged and ignored: the newest version wins.
"""

import json
import logging
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table, Text, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ipm_common.calendar import FiscalCalendar
from ipm_common.envelope import Envelope
from ipm_common.errors import NotFound
from ipm_common.events import AccountDefined, EntityRegistered, HierarchyChanged
from ipm_common.storage import Transaction

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReferenceTables:
    entities: Table
    accounts: Table
    hierarchies: Table


def define_reference_tables(metadata: MetaData) -> ReferenceTables:
    entities = Table(
        "entities",
        metadata,
        Column("entity_id", String(64), primary_key=True),
        Column("name", String(255), nullable=False),
        Column("currency", String(3), nullable=False),
        Column("calendar", Text, nullable=False),
        Column("version", Integer, nullable=False),
    )
    accounts = Table(
        "accounts",
        metadata,
        Column("account_id", String(64), primary_key=True),
        Column("name", String(255), nullable=False),
        Column("account_type", String(32), nullable=False),
        Column("statement", String(32), nullable=False),
        Column("normal_balance", String(8), nullable=False),
        Column("direction", String(32), nullable=False),
        Column("non_negative", Boolean, nullable=False),
        Column("version", Integer, nullable=False),
    )
    hierarchies = Table(
        "hierarchies",
        metadata,
        Column("hierarchy", String(64), primary_key=True),
        Column("dimension", String(32), nullable=False),
        Column("edges", Text, nullable=False),
        Column("version", Integer, nullable=False),
    )
    return ReferenceTables(entities, accounts, hierarchies)


@dataclass(frozen=True)
class Entity:
    entity_id: str
    name: str
    currency: str
    calendar: FiscalCalendar


@dataclass(frozen=True)
class Account:
    account_id: str
    name: str
    account_type: str
    statement: str
    normal_balance: str
    direction: str
    non_negative: bool

    @property
    def is_balance(self) -> bool:
        return self.statement == "balance_sheet"


@dataclass(frozen=True)
class Hierarchy:
    name: str
    dimension: str
    parent_of: dict[str, str]

    @cached_property
    def _children(self) -> dict[str, list[str]]:
        children: dict[str, list[str]] = {}
        for child, parent in sorted(self.parent_of.items()):
            children.setdefault(parent, []).append(child)
        return children

    def children_of(self, node: str) -> list[str]:
        return list(self._children.get(node, ()))

    def leaves_under(self, node: str) -> list[str]:
        """List the leaves below ``node``; a node without children is its own leaf.

        The walk visits each node once, so an edge list with a cycle ends instead of recursing.
        """
        leaves: list[str] = []
        visited: set[str] = set()
        pending = [node]
        while pending:
            current = pending.pop()
            if current in visited:
                continue
            visited.add(current)
            children = self.children_of(current)
            if children:
                pending.extend(reversed(children))
            else:
                leaves.append(current)
        return leaves

    def ancestors_of(self, node: str) -> list[str]:
        """List the parents of ``node`` from the nearest to the root."""
        ancestors = []
        seen = {node}
        current = self.parent_of.get(node)
        while current is not None and current not in seen:
            ancestors.append(current)
            seen.add(current)
            current = self.parent_of.get(current)
        return ancestors

    @property
    def nodes(self) -> set[str]:
        return set(self.parent_of) | set(self.parent_of.values())


class ReferenceStore:
    """Apply reference events to one service's tables and read them back."""

    def __init__(self, tables: ReferenceTables) -> None:
        self.tables = tables

    async def on_entity_registered(self, transaction: Transaction, envelope: Envelope, data: EntityRegistered) -> None:
        values = {"name": data.name, "currency": data.currency, "calendar": json.dumps(data.calendar),
                  "version": data.version}
        await self._upsert(transaction, self.tables.entities, "entity_id", data.entity_id, values, envelope)

    async def on_account_defined(self, transaction: Transaction, envelope: Envelope, data: AccountDefined) -> None:
        values = {"name": data.name, "account_type": data.account_type, "statement": data.statement,
                  "normal_balance": data.normal_balance, "direction": data.direction,
                  "non_negative": data.non_negative, "version": data.version}
        await self._upsert(transaction, self.tables.accounts, "account_id", data.account_id, values, envelope)

    async def on_hierarchy_changed(self, transaction: Transaction, envelope: Envelope, data: HierarchyChanged) -> None:
        edges = json.dumps([{"child": edge.child, "parent": edge.parent} for edge in data.edges])
        values = {"dimension": data.dimension, "edges": edges, "version": data.version}
        await self._upsert(transaction, self.tables.hierarchies, "hierarchy", data.hierarchy, values, envelope)

    async def _upsert(self, transaction: Transaction, table: Table, key_column: str, key: str,
                      values: dict[str, Any], envelope: Envelope) -> None:
        connection = transaction.connection
        key_field = table.c[key_column]
        current = (await connection.execute(select(table.c.version).where(key_field == key))).scalar()
        if current is None:
            await connection.execute(table.insert().values({key_column: key, **values}))
        elif values["version"] > current:
            await connection.execute(table.update().where(key_field == key).values(values))
        else:
            logger.info("ignored stale %s %s version %s (stored %s), event %s",
                        table.name, key, values["version"], current, envelope.id)

    async def entity(self, connection: AsyncConnection, entity_id: str) -> Entity:
        row = (await connection.execute(select(self.tables.entities).where(
            self.tables.entities.c.entity_id == entity_id))).first()
        if row is None:
            raise NotFound(f"entity {entity_id!r} is not registered; register it in the strategy service first")
        return Entity(row.entity_id, row.name, row.currency, FiscalCalendar.from_dict(json.loads(row.calendar)))

    async def entities(self, connection: AsyncConnection) -> dict[str, Entity]:
        rows = (await connection.execute(select(self.tables.entities))).all()
        return {row.entity_id: Entity(row.entity_id, row.name, row.currency,
                                      FiscalCalendar.from_dict(json.loads(row.calendar))) for row in rows}

    async def accounts(self, connection: AsyncConnection) -> dict[str, Account]:
        rows = (await connection.execute(select(self.tables.accounts))).all()
        return {row.account_id: Account(row.account_id, row.name, row.account_type, row.statement,
                                        row.normal_balance, row.direction, row.non_negative) for row in rows}

    async def account(self, connection: AsyncConnection, account_id: str) -> Account:
        row = (await connection.execute(select(self.tables.accounts).where(
            self.tables.accounts.c.account_id == account_id))).first()
        if row is None:
            raise NotFound(f"account {account_id!r} is not defined; define it in the strategy service first")
        return Account(row.account_id, row.name, row.account_type, row.statement, row.normal_balance,
                       row.direction, row.non_negative)

    async def hierarchies(self, connection: AsyncConnection, dimension: str = "account") -> list[Hierarchy]:
        rows = (await connection.execute(select(self.tables.hierarchies).where(
            self.tables.hierarchies.c.dimension == dimension).order_by(self.tables.hierarchies.c.hierarchy))).all()
        return [Hierarchy(row.hierarchy, row.dimension,
                          {edge["child"]: edge["parent"] for edge in json.loads(row.edges)}) for row in rows]
