"""The demo's SEC comparison line, run against the strategy API in process on a SQLite file."""

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI

from ipm_cli.demo import sec_plan
from ipm_common.http import install_error_handlers
from ipm_common.migrations import upgrade
from ipm_common.runtime import get_database
from ipm_common.storage import Database, create_engine
from ipm_strategy.adapters import tables
from ipm_strategy.entrypoints import api, plans_api
from ipm_strategy.entrypoints.cli import MIGRATIONS

DATA = Path(os.environ.get("IPM_DATA_DIR", Path(__file__).resolve().parents[3] / "examples" / "data"))


@pytest_asyncio.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'strategy.db'}"
    upgrade(MIGRATIONS, url)
    database = Database(create_engine(url), tables.outbox, tables.inbox)
    app = FastAPI()
    app.include_router(api.router)
    app.include_router(plans_api.router)
    install_error_handlers(app)
    app.dependency_overrides[get_database] = lambda: database
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://strategy") as http:
        yield http
    await database.dispose()


def test_summary_line_shows_gap_with_currency() -> None:
    line = sec_plan.summary_line("Apple Inc.", {"largest_gap": "-30407000000", "currency": "USD",
                                                "periods_compared": 17})

    assert line == ("plan: Apple Inc. derived vs reported operating cash flow, largest gap -30,407,000,000 USD "
                    "over 17 periods")


@pytest.mark.asyncio
async def test_comparison_through_http(client: httpx.AsyncClient) -> None:
    async def call(method: str, service: str, path: str, **kwargs: Any) -> Any:
        response = await client.request(method, path, **kwargs)
        assert response.status_code < 400, response.text
        return response.json()

    first = await sec_plan.compare_cash_flows(call, DATA)
    again = await sec_plan.compare_cash_flows(call, DATA)

    assert first.startswith("plan: Apple Inc. derived vs reported operating cash flow, largest gap ")
    assert first.endswith(" USD over 17 periods")
    assert again == first
