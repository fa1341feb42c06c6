"""Maintain the organisation model and publish every change as a reference event.

Each entity, account and hierarchy carries a version that grows by one with every change of its
content, and the other services keep the newest version they have seen. A request that repeats
the stored content changes nothing and publishes nothing.
"""

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from ipm_common.dispatch import publish_event
from ipm_common.errors import InvalidInput
from ipm_common.events import AccountDefined, AccountType, EntityRegistered, HierarchyChanged, HierarchyEdge
from ipm_common.storage import Database, Transaction
from ipm_strategy.adapters import repository, tables
from ipm_strategy.domain.accounts import (
    Account,
    Direction,
    NormalBalance,
    Statement,
    check_account_change,
    define_account,
)
from ipm_strategy.domain.entities import Entity, check_entity_change, register_entity
from ipm_strategy.domain.hierarchies import Dimension, Edge, HierarchyDefinition, define_hierarchy
from ipm_strategy.service_layer.unit_of_work import SOURCE, writing

logger = logging.getLogger(__name__)

Record = TypeVar("Record")


@dataclass(frozen=True)
class Saved(Generic[Record]):
    """A stored record with its version. ``changed`` is False when the request repeated the stored content."""

    record: Record
    version: int
    changed: bool


@dataclass(frozen=True)
class AccountRequest:
    account_id: str
    name: str
    account_type: AccountType
    statement: Statement | None = None
    normal_balance: NormalBalance | None = None
    direction: Direction | None = None
    non_negative: bool = False


async def put_entity(database: Database, entity_id: str, name: str, currency: str, calendar: Mapping[str, object],
                     *, correlation_id: str) -> Saved[Entity]:
    """Register or rename an entity and publish ``EntityRegistered`` when its content changed.

    A registered entity keeps its currency and fiscal calendar, so a change of either is a ``Conflict``.
    """
    entity = register_entity(entity_id, name, currency, calendar)

    async with writing(database) as transaction:
        stored = await repository.entity(transaction.connection, entity_id)
        previous = stored[1] if stored else None
        if stored and stored[0] == entity:
            return Saved(entity, stored[1], changed=False)
        if stored:
            check_entity_change(stored[0], entity)

        version = (previous or 0) + 1
        await repository.save_versioned(transaction.connection, tables.entities, {"entity_id": entity_id},
                                        repository.entity_values(entity, version), previous)
        event = EntityRegistered(entity_id=entity_id, name=name, currency=currency,
                                 calendar=dict(entity.calendar.to_dict()), version=version)
        await publish_event(transaction, SOURCE, event, correlation_id=correlation_id, subject=entity_id)

    logger.info("entity %s registered at version %s (%s)", entity_id, version, currency)
    return Saved(entity, version, changed=True)


async def put_account(database: Database, request: AccountRequest, *, correlation_id: str) -> Saved[Account]:
    """Define or change one account. Errors name the bare field, such as ``direction``.

    A defined account keeps its type, statement and normal balance, so a change of one is a ``Conflict``.
    """
    saved = await _put_accounts(database, [request], correlation_id=correlation_id, indexed=False)
    return saved[0]


async def put_accounts(database: Database, requests: Sequence[AccountRequest], *,
                       correlation_id: str) -> list[Saved[Account]]:
    """Define or change a list of accounts at once. Errors name the item, such as ``[2].direction``.

    One invalid or conflicting item rejects the whole list, and nothing is stored.
    """
    return await _put_accounts(database, requests, correlation_id=correlation_id, indexed=True)


async def _put_accounts(database: Database, requests: Sequence[AccountRequest], *, correlation_id: str,
                        indexed: bool) -> list[Saved[Account]]:
    """Store accounts in one transaction and publish ``AccountDefined`` for each one whose content changed."""
    accounts = _define_accounts(requests, indexed=indexed)

    async with writing(database) as transaction:
        stored = await repository.accounts(transaction.connection, [account.account_id for account in accounts])
        _check_changes(accounts, stored, indexed=indexed)
        results = [await _save_account(transaction, account, stored.get(account.account_id), correlation_id)
                   for account in accounts]

    changed = [saved.record.account_id for saved in results if saved.changed]
    logger.info("accounts defined: %s of %s changed (%s)", len(changed), len(results), ", ".join(changed) or "none")
    return results


def _define_accounts(requests: Sequence[AccountRequest], *, indexed: bool) -> list[Account]:
    first_index: dict[str, int] = {}
    accounts = []
    for index, request in enumerate(requests):
        prefix = f"[{index}]." if indexed else ""
        if request.account_id in first_index:
            raise InvalidInput(
                f"{prefix}account_id: {request.account_id!r} repeats [{first_index[request.account_id]}]; "
                "give each account once",
                field=f"{prefix}account_id",
            )
        first_index[request.account_id] = index
        try:
            accounts.append(define_account(
                request.account_id, request.name, request.account_type, statement=request.statement,
                normal_balance=request.normal_balance, direction=request.direction,
                non_negative=request.non_negative))
        except InvalidInput as error:
            if not prefix:
                raise
            raise InvalidInput(f"{prefix}{error}", field=f"{prefix}{error.field}") from None
    return accounts


def _check_changes(accounts: Sequence[Account], stored: Mapping[str, tuple[Account, int]], *, indexed: bool) -> None:
    """Raise ``Conflict`` before anything is stored when one account changes a field that is fixed once defined."""
    for index, account in enumerate(accounts):
        if account.account_id in stored:
            prefix = f"[{index}]." if indexed else ""
            check_account_change(stored[account.account_id][0], account, prefix=prefix)


async def _save_account(transaction: Transaction, account: Account, stored: tuple[Account, int] | None,
                        correlation_id: str) -> Saved[Account]:
    if stored and stored[0] == account:
        return Saved(account, stored[1], changed=False)

    previous = stored[1] if stored else None
    version = (previous or 0) + 1
    await repository.save_versioned(transaction.connection, tables.accounts, {"account_id": account.account_id},
                                    repository.account_values(account, version), previous)
    event = AccountDefined(
        account_id=account.account_id, name=account.name, account_type=account.account_type,
        statement=account.statement, normal_balance=account.normal_balance, direction=account.direction,
        non_negative=account.non_negative, version=version,
    )
    await publish_event(transaction, SOURCE, event, correlation_id=correlation_id, subject=account.account_id)
    return Saved(account, version, changed=True)


async def put_hierarchy(database: Database, name: str, dimension: Dimension, edges: Sequence[Edge], *,
                        correlation_id: str) -> Saved[HierarchyDefinition]:
    """Replace a hierarchy after checking it is a forest, and publish ``HierarchyChanged`` when it changed."""
    definition = define_hierarchy(name, dimension, edges)

    async with writing(database) as transaction:
        connection = transaction.connection
        stored = await repository.hierarchy(connection, name)
        if stored and _same_hierarchy(stored[0], definition):
            return Saved(stored[0], stored[1], changed=False)

        previous = stored[1] if stored else None
        version = (previous or 0) + 1
        await repository.save_versioned(connection, tables.hierarchies, {"hierarchy": name},
                                        {"dimension": dimension, "version": version}, previous)
        await repository.replace_edges(connection, definition)
        event = HierarchyChanged(
            hierarchy=name, dimension=dimension, version=version,
            edges=tuple(HierarchyEdge(child=edge.child, parent=edge.parent) for edge in definition.edges),
        )
        await publish_event(transaction, SOURCE, event, correlation_id=correlation_id, subject=name)

    logger.info("hierarchy %s (%s) replaced at version %s with %s edges", name, dimension, version, len(edges))
    return Saved(definition, version, changed=True)


def _same_hierarchy(stored: HierarchyDefinition, new: HierarchyDefinition) -> bool:
    # The order of the edges carries no meaning: the same set of edges is the same tree.
    return stored.dimension == new.dimension and set(stored.edges) == set(new.edges)
