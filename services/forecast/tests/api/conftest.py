"""An API client over the forecast router on a migrated, seeded database (SQLite file and PostgreSQL)."""

from collections.abc import AsyncIterator, Awaitable, Callable
from types import SimpleNamespace
from typing import Any

import httpx
import pytest_asyncio
from fastapi import FastAPI

from ipm_common.dispatch import new_event
from ipm_common.envelope import Envelope
from ipm_common.events import AccountDefined, EntityRegistered, EventData, HierarchyChanged, HierarchyEdge
from ipm_common.http import install_error_handlers
from ipm_common.migrations import upgrade
from ipm_common.runtime import get_database
from ipm_common.storage import Database, Transaction, create_engine
from ipm_forecast.adapters import repository, tables
from ipm_forecast.entrypoints import api, forecasts_api
from ipm_forecast.entrypoints.cli import MIGRATIONS
from ipm_forecast.settings import ForecastSettings

# ACME keeps calendar months. CITY's fiscal year starts on 1 July and is named by its end.
ENTITIES = (
    EntityRegistered(entity_id="ACME", name="Acme", currency="USD", calendar={}, version=1),
    EntityRegistered(entity_id="CITY", name="City", currency="USD",
                     calendar={"start_month": 7, "year_named_by": "end"}, version=1),
)
ACCOUNTS = tuple(
    AccountDefined(account_id=account_id, name=account_id.title(), account_type="revenue",
                   statement="income_statement", normal_balance="credit", direction="higher_is_better", version=1)
    for account_id in ("tax", "fees")
)
HIERARCHY = HierarchyChanged(hierarchy="revenue", dimension="account", version=1, edges=(
    HierarchyEdge(child="tax", parent="total"), HierarchyEdge(child="fees", parent="total")))


@pytest_asyncio.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """Open a migrated database that holds the reference data above."""
    upgrade(MIGRATIONS, database_url)
    opened = Database(create_engine(database_url), tables.outbox, tables.inbox)
    await seed_reference(opened)
    yield opened
    await opened.dispose()


async def seed_reference(database: Database) -> None:
    store = repository.reference
    events: list[tuple[Callable[[Transaction, Envelope, Any], Awaitable[None]], EventData]] = [
        *((store.on_entity_registered, entity) for entity in ENTITIES),
        *((store.on_account_defined, account) for account in ACCOUNTS),
        (store.on_hierarchy_changed, HIERARCHY),
    ]
    for handler, data in events:
        async with database.transaction() as transaction:
            await handler(transaction, new_event("test", data, correlation_id="seed"), data)


@pytest_asyncio.fixture
async def client(database: Database) -> AsyncIterator[httpx.AsyncClient]:
    """Serve the forecast router alone, because the full app's lifespan needs a broker."""
    app = FastAPI()
    app.include_router(api.router)
    app.include_router(forecasts_api.router)
    install_error_handlers(app)
    app.dependency_overrides[get_database] = lambda: database
    app.state.runtime = SimpleNamespace(settings=ForecastSettings(fx_base_currency="USD"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://forecast") as http:
        yield http
