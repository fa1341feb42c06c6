from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from sqlalchemy import MetaData

from ipm_common.calendar import FiscalCalendar
from ipm_common.envelope import Envelope
from ipm_common.errors import NotFound
from ipm_common.events import AccountDefined, EntityRegistered, HierarchyChanged, HierarchyEdge
from ipm_common.reference import ReferenceStore, define_reference_tables
from ipm_common.storage import Database, create_engine, define_inbox, define_outbox

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

JULY_YEAR = FiscalCalendar(start_month=7, year_named_by="end")


@pytest_asyncio.fixture
async def reference(database_url: str) -> AsyncIterator[tuple[Database, ReferenceStore]]:
    """Open a database on each backend with the reference tables created."""
    metadata = MetaData()
    outbox = define_outbox(metadata)
    inbox = define_inbox(metadata)
    store = ReferenceStore(define_reference_tables(metadata))

    engine = create_engine(database_url)
    async with engine.begin() as connection:
        await connection.run_sync(metadata.create_all)

    database = Database(engine, outbox, inbox)
    try:
        yield database, store
    finally:
        await database.dispose()


def _envelope() -> Envelope:
    return Envelope(source="ipm/strategy", type="test", correlationid="c-1", schemaversion="1.0", data={})


def _entity(version: int, name: str = "ACME Ltd", currency: str = "EUR") -> EntityRegistered:
    return EntityRegistered(entity_id="ACME", name=name, currency=currency,
                            calendar=dict(JULY_YEAR.to_dict()), version=version)


def _account(version: int, name: str = "Revenue") -> AccountDefined:
    return AccountDefined(account_id="4000", name=name, account_type="revenue", statement="income_statement",
                          normal_balance="credit", direction="higher_is_better", version=version)


async def _register(database: Database, store: ReferenceStore, *entities: EntityRegistered) -> None:
    for entity in entities:
        async with database.transaction() as transaction:
            await store.on_entity_registered(transaction, _envelope(), entity)


async def _define(database: Database, store: ReferenceStore, *accounts: AccountDefined) -> None:
    for account in accounts:
        async with database.transaction() as transaction:
            await store.on_account_defined(transaction, _envelope(), account)


async def test_registered_entity_reads_back(reference: tuple[Database, ReferenceStore]) -> None:
    database, store = reference
    await _register(database, store, _entity(1))

    async with database.reading() as connection:
        entity = await store.entity(connection, "ACME")

    assert entity.currency == "EUR"
    assert entity.calendar == JULY_YEAR


async def test_newer_entity_version_wins(reference: tuple[Database, ReferenceStore]) -> None:
    database, store = reference
    await _register(database, store, _entity(1), _entity(2, currency="USD"))

    async with database.reading() as connection:
        entity = await store.entity(connection, "ACME")

    assert entity.currency == "USD"


async def test_stale_entity_version_ignored(reference: tuple[Database, ReferenceStore]) -> None:
    database, store = reference
    await _register(database, store, _entity(3, name="ACME Group"), _entity(2, name="ACME Ltd"),
                    _entity(3, name="ACME Replay"))

    async with database.reading() as connection:
        entities = await store.entities(connection)

    assert entities["ACME"].name == "ACME Group"


async def test_unknown_entity_not_found(reference: tuple[Database, ReferenceStore]) -> None:
    database, store = reference

    async with database.reading() as connection:
        with pytest.raises(NotFound, match="'GLOBEX' is not registered"):
            await store.entity(connection, "GLOBEX")


async def test_account_versions_and_lookup(reference: tuple[Database, ReferenceStore]) -> None:
    database, store = reference
    await _define(database, store, _account(2, name="Net revenue"), _account(1, name="Revenue"))

    async with database.reading() as connection:
        account = await store.account(connection, "4000")
        accounts = await store.accounts(connection)

    assert account.name == "Net revenue"
    assert account.is_balance is False
    assert list(accounts) == ["4000"]


async def test_unknown_account_not_found(reference: tuple[Database, ReferenceStore]) -> None:
    database, store = reference

    async with database.reading() as connection:
        with pytest.raises(NotFound, match="'9999' is not defined"):
            await store.account(connection, "9999")


async def test_hierarchy_reads_back_edges(reference: tuple[Database, ReferenceStore]) -> None:
    database, store = reference
    edges = (HierarchyEdge(child="4000", parent="REV"), HierarchyEdge(child="4100", parent="REV"),
             HierarchyEdge(child="REV", parent="EBIT"), HierarchyEdge(child="6000", parent="EBIT"))
    async with database.transaction() as transaction:
        changed = HierarchyChanged(hierarchy="pnl", dimension="account", edges=edges, version=1)
        await store.on_hierarchy_changed(transaction, _envelope(), changed)

    async with database.reading() as connection:
        [hierarchy] = await store.hierarchies(connection, "account")
        cost_centres = await store.hierarchies(connection, "cost_centre")

    # Depth first, children in sorted order: "6000" sorts before "REV".
    assert hierarchy.leaves_under("EBIT") == ["6000", "4000", "4100"]
    assert hierarchy.ancestors_of("4100") == ["REV", "EBIT"]
    assert cost_centres == []
