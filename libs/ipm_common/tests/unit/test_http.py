from collections.abc import AsyncIterator
from decimal import Decimal

import httpx
import pytest
import pytest_asyncio
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

from ipm_common.errors import Conflict, InvalidInput, MissingRate, NotFound, PeriodClosed
from ipm_common.http import ExactJSONRoute, field_path, health_router, install_error_handlers
from ipm_common.money import Money


class PostingLine(BaseModel):
    account: str
    amount: Money


class PostingBatch(BaseModel):
    postings: list[PostingLine]


class Received:
    """The batches that the test app's endpoints received, as pydantic parsed them."""

    def __init__(self) -> None:
        self.batches: list[PostingBatch] = []

    def amounts(self) -> list[Decimal]:
        return [line.amount for line in self.batches[-1].postings]


def _exact_router(received: Received) -> APIRouter:
    router = APIRouter(route_class=ExactJSONRoute)

    @router.post("/postings")
    async def post_postings(batch: PostingBatch) -> PostingBatch:
        received.batches.append(batch)
        return batch

    @router.post("/invalid")
    async def post_invalid() -> None:
        raise InvalidInput("currency: 'EURO' is not an ISO 4217 code", field="currency")

    @router.post("/invalid-lines")
    async def post_invalid_lines() -> None:
        details = [{"field": "postings[2].period", "message": "closed", "type": "period"}]
        raise InvalidInput("2 invalid lines", details=details)

    @router.get("/missing")
    async def get_missing() -> None:
        raise NotFound("entity 'ACME' is not registered")

    @router.post("/closed")
    async def post_closed() -> None:
        raise PeriodClosed("FY2024-P01 of ACME is closed")

    @router.post("/conflict")
    async def post_conflict() -> None:
        raise Conflict("budget version 3 is already approved", reason="already_approved")

    @router.post("/rate")
    async def post_rate() -> None:
        raise MissingRate("no budget rate EUR/USD for FY2024-P01", field="currency")

    return router


def _plain_router(received: Received) -> APIRouter:
    router = APIRouter()

    @router.post("/plain/postings")
    async def post_plain(batch: PostingBatch) -> None:
        received.batches.append(batch)

    return router


@pytest.fixture
def received() -> Received:
    return Received()


@pytest_asyncio.fixture
async def client(received: Received) -> AsyncIterator[httpx.AsyncClient]:
    """Drive an app with the IPM error map through httpx without a server."""
    app = FastAPI()
    install_error_handlers(app)
    app.include_router(_exact_router(received))
    app.include_router(_plain_router(received))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ipm.test") as http_client:
        yield http_client


def _batch(*amounts: str) -> bytes:
    """Build a posting batch with each amount written into the JSON text as it is given."""
    lines = ", ".join(f'{{"account": "4000", "amount": {amount}}}' for amount in amounts)
    return f'{{"postings": [{lines}]}}'.encode()


async def _post_json(client: httpx.AsyncClient, path: str, body: bytes) -> httpx.Response:
    return await client.post(path, content=body, headers={"content-type": "application/json"})


@pytest.mark.asyncio
async def test_json_number_stays_decimal(client: httpx.AsyncClient, received: Received) -> None:
    response = await _post_json(client, "/postings", _batch("0.1"))

    assert response.status_code == 200
    assert received.amounts() == [Decimal("0.1")]


@pytest.mark.asyncio
async def test_long_json_number_stays_exact(client: httpx.AsyncClient, received: Received) -> None:
    await _post_json(client, "/postings", _batch("123456789012345678.123456789"))

    assert str(received.amounts()[0]) == "123456789012345678.123456789"


@pytest.mark.asyncio
async def test_float_like_number_not_rounded(client: httpx.AsyncClient, received: Received) -> None:
    # As a binary double this would read back as 0.30000000000000004 or 0.3.
    await _post_json(client, "/postings", _batch("0.30000000000000004441", "1.10"))

    assert [str(amount) for amount in received.amounts()] == ["0.30000000000000004441", "1.10"]


@pytest.mark.asyncio
async def test_json_integer_becomes_decimal(client: httpx.AsyncClient, received: Received) -> None:
    await _post_json(client, "/postings", _batch("-250"))

    assert received.amounts() == [Decimal(-250)]


@pytest.mark.asyncio
async def test_response_writes_amounts_as_strings(client: httpx.AsyncClient) -> None:
    response = await _post_json(client, "/postings", _batch("0.1", '"-7.50"'))

    assert response.json() == {"postings": [{"account": "4000", "amount": "0.1"},
                                            {"account": "4000", "amount": "-7.50"}]}


@pytest.mark.asyncio
@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
async def test_non_finite_literals_rejected(client: httpx.AsyncClient, received: Received, literal: str) -> None:
    response = await _post_json(client, "/postings", _batch(literal))

    assert response.status_code == 422
    # Rejected while parsing the JSON text, before a float could reach any field.
    assert response.json()["detail"][0]["type"] == "json_invalid"
    assert received.batches == []


@pytest.mark.asyncio
async def test_huge_exponent_rejected(client: httpx.AsyncClient) -> None:
    response = await _post_json(client, "/postings", _batch("1e1000000000"))

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "postings[0].amount"


@pytest.mark.asyncio
async def test_plain_route_rejects_json_number(client: httpx.AsyncClient, received: Received) -> None:
    # Without ExactJSONRoute the number arrives as a float, which Money rejects.
    response = await _post_json(client, "/plain/postings", _batch("0.1"))

    assert response.status_code == 422
    assert received.batches == []


@pytest.mark.asyncio
async def test_validation_error_names_nested_field(client: httpx.AsyncClient) -> None:
    response = await _post_json(client, "/postings", _batch('"1.00"', '"abc"'))

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "postings[1].amount"


@pytest.mark.asyncio
async def test_validation_error_lists_every_field(client: httpx.AsyncClient) -> None:
    response = await _post_json(client, "/postings", _batch('"x"', '"1"', '"y"'))

    fields = [item["field"] for item in response.json()["detail"]]
    assert fields == ["postings[0].amount", "postings[2].amount"]


@pytest.mark.asyncio
async def test_invalid_input_maps_to_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/invalid")

    assert response.status_code == 422
    assert response.json() == {"detail": "currency: 'EURO' is not an ISO 4217 code", "field": "currency"}


@pytest.mark.asyncio
async def test_invalid_input_details_replace_detail(client: httpx.AsyncClient) -> None:
    response = await client.post("/invalid-lines")

    assert response.json() == {"detail": [{"field": "postings[2].period", "message": "closed", "type": "period"}]}


@pytest.mark.asyncio
async def test_missing_rate_maps_to_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/rate")

    assert response.status_code == 422
    assert response.json()["field"] == "currency"


@pytest.mark.asyncio
async def test_not_found_maps_to_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/missing")

    assert response.status_code == 404
    assert response.json() == {"detail": "entity 'ACME' is not registered"}


@pytest.mark.asyncio
async def test_period_closed_maps_to_409(client: httpx.AsyncClient) -> None:
    response = await client.post("/closed")

    assert response.status_code == 409
    assert response.json() == {"detail": "FY2024-P01 of ACME is closed", "reason": "period_closed"}


@pytest.mark.asyncio
async def test_conflict_keeps_its_reason(client: httpx.AsyncClient) -> None:
    response = await client.post("/conflict")

    assert response.status_code == 409
    assert response.json()["reason"] == "already_approved"


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        (("body", "postings", 1, "amount"), "postings[1].amount"),
        (("body", "amount"), "amount"),
        (("query", "period"), "query.period"),
        (("body", 0), "[0]"),
    ],
)
def test_field_path_renders_location(location: tuple[object, ...], expected: str) -> None:
    assert field_path(location) == expected


async def _ready() -> bool:
    return True


async def _broken() -> bool:
    raise ConnectionRefusedError("database unreachable")


@pytest.mark.asyncio
async def test_readyz_reports_failed_check() -> None:
    app = FastAPI()
    app.include_router(health_router({"database": _ready, "broker": _broken}))

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ipm.test") as client:
        response = await client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": True, "broker": False}


@pytest.mark.asyncio
async def test_readyz_passes_when_all_ready() -> None:
    app = FastAPI()
    app.include_router(health_router({"database": _ready}))

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ipm.test") as client:
        response = await client.get("/readyz")

    assert response.status_code == 200
