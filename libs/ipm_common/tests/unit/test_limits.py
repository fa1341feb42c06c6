"""Request limits: 413 for large bodies, 503 with Retry-After beyond the concurrency limit."""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI, Request

from ipm_common.limits import RequestLimits

pytestmark = pytest.mark.asyncio


def build_app(release: asyncio.Event, entered: asyncio.Event) -> FastAPI:
    app = FastAPI()
    app.add_middleware(RequestLimits, max_body_bytes=1000, max_concurrent=2, retry_after=3)

    @app.post("/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"size": len(await request.body())}

    @app.get("/slow")
    async def slow() -> dict[str, str]:
        entered.set()
        await release.wait()
        return {"status": "done"}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


@pytest.fixture
def events() -> tuple[asyncio.Event, asyncio.Event]:
    return asyncio.Event(), asyncio.Event()


@pytest_asyncio.fixture
async def client(events: tuple[asyncio.Event, asyncio.Event]) -> AsyncIterator[httpx.AsyncClient]:
    release, entered = events
    transport = httpx.ASGITransport(app=build_app(release, entered))
    async with httpx.AsyncClient(transport=transport, base_url="http://ipm.test") as http:
        yield http


async def test_body_within_limit_passes(client: httpx.AsyncClient) -> None:
    response = await client.post("/echo", content=b"x" * 1000)

    assert response.status_code == 200
    assert response.json() == {"size": 1000}


async def test_declared_large_body_gets_413(client: httpx.AsyncClient) -> None:
    response = await client.post("/echo", content=b"x" * 1001)

    assert response.status_code == 413
    assert "exceeds 1000 bytes" in response.json()["detail"]


async def test_streamed_large_body_gets_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(5):
            yield b"x" * 400

    response = await client.post("/echo", content=chunks())

    assert response.status_code == 413


async def test_request_beyond_limit_gets_503(client: httpx.AsyncClient,
                                             events: tuple[asyncio.Event, asyncio.Event]) -> None:
    release, entered = events
    first = asyncio.create_task(client.get("/slow"))
    await asyncio.wait_for(entered.wait(), 5)
    entered.clear()
    second = asyncio.create_task(client.get("/slow"))
    await asyncio.wait_for(entered.wait(), 5)

    rejected = await client.get("/slow")
    health = await client.get("/healthz")
    release.set()
    finished = await asyncio.gather(first, second)

    assert rejected.status_code == 503
    assert rejected.headers["retry-after"] == "3"
    assert health.status_code == 200
    assert [response.status_code for response in finished] == [200, 200]


async def test_slots_free_after_requests_end(client: httpx.AsyncClient,
                                             events: tuple[asyncio.Event, asyncio.Event]) -> None:
    release, _ = events
    release.set()

    statuses = [(await client.get("/slow")).status_code for _ in range(5)]

    assert statuses == [200] * 5
