"""Exchange rates over HTTP: only rates that every later posting can use are stored."""

from decimal import Decimal
from typing import Any

import httpx
import pytest

from ipm_common.storage import Database
from ipm_forecast.adapters import tables

pytestmark = pytest.mark.asyncio

EUR_USD = {"from_currency": "EUR", "to_currency": "USD", "rate_type": "actual", "period": "FY2024-P01",
           "rate": "1.0850"}
POSTING = {"source_id": "s1", "entity_id": "ACME", "account_id": "tax", "posting_date": "2024-01-31",
           "amount": "-10.00", "currency": "USD"}


def rate(**change: str) -> dict[str, str]:
    return {**EUR_USD, **change}


def key(item: dict[str, str]) -> dict[str, str]:
    return {name: value for name, value in item.items() if name != "rate"}


def fields(response: httpx.Response) -> list[str]:
    body = response.json()
    if isinstance(body["detail"], list):
        return [item["field"] for item in body["detail"]]
    return [body["field"]]


async def delete(client: httpx.AsyncClient, keys: list[dict[str, str]]) -> httpx.Response:
    return await client.request("DELETE", "/v1/fx-rates", json=keys)


async def post_actuals(client: httpx.AsyncClient, **change: Any) -> httpx.Response:
    return await client.post("/v1/actuals", json={"postings": [{**POSTING, **change}]})


async def test_stored_rate_is_listed(client: httpx.AsyncClient) -> None:
    stored = await client.put("/v1/fx-rates", json=[EUR_USD])
    listed = await client.get("/v1/fx-rates")

    assert stored.json() == {"stored": 1}
    assert listed.json() == [EUR_USD]


async def test_same_currency_rate_rejected(client: httpx.AsyncClient) -> None:
    response = await client.put("/v1/fx-rates", json=[EUR_USD, rate(from_currency="USD")])

    assert response.status_code == 422
    assert fields(response) == ["[1].to_currency"]
    assert "USD equals from_currency" in response.json()["detail"][0]["message"]


async def test_thirteenth_period_rate_rejected(client: httpx.AsyncClient) -> None:
    response = await client.put("/v1/fx-rates", json=[rate(period="FY2024-P13")])

    assert response.status_code == 422
    assert fields(response) == ["[0].period"]


@pytest.mark.parametrize("value", ["1234567890.1234567890123", "1.1234567890123", "123456789012345678901"])
async def test_overly_precise_rate_rejected(client: httpx.AsyncClient, value: str) -> None:
    response = await client.put("/v1/fx-rates", json=[rate(rate=value)])

    assert response.status_code == 422
    assert fields(response) == ["[0].rate"]


async def test_precision_message_states_limits(client: httpx.AsyncClient) -> None:
    response = await client.put("/v1/fx-rates", json=[rate(rate="1.1234567890123")])

    message = response.json()["detail"][0]["message"]
    assert "13 decimal places" in message
    assert "at most 20 significant digits and 12 decimal places" in message


async def test_rejected_rates_store_nothing(client: httpx.AsyncClient) -> None:
    await client.put("/v1/fx-rates", json=[EUR_USD, rate(to_currency="EUR")])

    listed = await client.get("/v1/fx-rates")

    assert listed.json() == []


async def test_rejected_rate_keeps_postings_working(client: httpx.AsyncClient) -> None:
    await client.put("/v1/fx-rates", json=[rate(from_currency="USD")])

    response = await post_actuals(client)

    assert response.status_code == 200


async def test_conflicting_rates_in_one_request(client: httpx.AsyncClient) -> None:
    response = await client.put("/v1/fx-rates", json=[EUR_USD, rate(rate="1.09")])

    assert response.status_code == 422
    assert fields(response) == ["[1].rate"]


async def test_repeated_rate_in_one_request_stored_once(client: httpx.AsyncClient) -> None:
    await client.put("/v1/fx-rates", json=[EUR_USD, rate(rate="1.085")])

    listed = await client.get("/v1/fx-rates")

    assert listed.json() == [EUR_USD]


async def test_new_rate_replaces_stored_rate(client: httpx.AsyncClient) -> None:
    await client.put("/v1/fx-rates", json=[EUR_USD])
    await client.put("/v1/fx-rates", json=[rate(rate="1.09")])

    listed = await client.get("/v1/fx-rates")

    assert listed.json() == [rate(rate="1.09")]


async def test_deleted_rate_no_longer_listed(client: httpx.AsyncClient) -> None:
    other = rate(period="FY2024-P02")
    await client.put("/v1/fx-rates", json=[EUR_USD, other])

    deleted = await delete(client, [key(EUR_USD)])
    listed = await client.get("/v1/fx-rates")

    assert deleted.json() == {"deleted": 1}
    assert listed.json() == [other]


async def test_deleting_unknown_rate_not_found(client: httpx.AsyncClient) -> None:
    await client.put("/v1/fx-rates", json=[EUR_USD])

    response = await delete(client, [key(EUR_USD), key(rate(rate_type="budget"))])
    listed = await client.get("/v1/fx-rates")

    assert response.status_code == 404
    assert "no budget rate EUR/USD for FY2024-P01" in response.json()["detail"]
    assert listed.json() == [EUR_USD]


async def test_deleting_broken_rate_restores_postings(client: httpx.AsyncClient, database: Database) -> None:
    broken = rate(from_currency="USD", period="FY2024-P13")
    async with database.transaction() as transaction:
        await transaction.connection.execute(tables.fx_rates.insert().values(**{**broken, "rate": Decimal(1)}))
    blocked = await post_actuals(client)

    deleted = await delete(client, [key(broken)])
    posted = await post_actuals(client)

    assert blocked.status_code == 422
    assert deleted.json() == {"deleted": 1}
    assert posted.status_code == 200


async def test_broken_stored_rate_named_on_put(client: httpx.AsyncClient, database: Database) -> None:
    async with database.transaction() as transaction:
        await transaction.connection.execute(tables.fx_rates.insert().values(
            **{**rate(from_currency="USD"), "rate": Decimal(1)}))

    response = await client.put("/v1/fx-rates", json=[rate(period="FY2024-P02")])

    assert response.status_code == 422
    assert "DELETE /v1/fx-rates" in response.json()["detail"]


async def test_converted_posting_uses_stored_rate(client: httpx.AsyncClient) -> None:
    await client.put("/v1/fx-rates", json=[EUR_USD])

    posted = await post_actuals(client, currency="EUR")
    actuals = await client.get("/v1/actuals/ACME/tax")

    assert posted.status_code == 200
    assert actuals.json()["periods"] == [{"period": "FY2024-P01", "amount": "10.850000"}]
