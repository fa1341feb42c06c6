"""Posting ids and cost centres: blank or padded text and control characters are rejected."""

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.asyncio

POSTING = {"source_id": "s1", "entity_id": "ACME", "account_id": "tax", "cost_centre": "north",
           "posting_date": "2024-01-31", "amount": "-10.00", "currency": "USD"}
PADDED = ["", " ", " s1", "s1 ", "s1\t", "s\u00001", "s\n1"]


async def post(client: httpx.AsyncClient, **change: Any) -> httpx.Response:
    return await client.post("/v1/actuals", json={"postings": [{**POSTING, **change}]})


def fields(response: httpx.Response) -> list[str]:
    return [item["field"] for item in response.json()["detail"]]


async def test_clean_posting_accepted(client: httpx.AsyncClient) -> None:
    response = await post(client, source_id="ERP 2024/0001")

    assert response.status_code == 200


@pytest.mark.parametrize("source_id", PADDED)
async def test_padded_source_id_rejected(client: httpx.AsyncClient, source_id: str) -> None:
    response = await post(client, source_id=source_id)

    assert response.status_code == 422
    assert fields(response) == ["postings[0].source_id"]


@pytest.mark.parametrize("cost_centre", PADDED)
async def test_padded_cost_centre_rejected(client: httpx.AsyncClient, cost_centre: str) -> None:
    response = await post(client, cost_centre=cost_centre)

    assert response.status_code == 422
    assert fields(response) == ["postings[0].cost_centre"]


async def test_padded_reversed_id_rejected(client: httpx.AsyncClient) -> None:
    response = await post(client, reverses="s0 ")

    assert response.status_code == 422
    assert fields(response) == ["postings[0].reverses"]
    assert "whitespace" in response.json()["detail"][0]["message"]


async def test_whitespace_message_names_fix(client: httpx.AsyncClient) -> None:
    response = await post(client, source_id=" s1")

    assert response.json()["detail"][0]["message"] == (
        "' s1' has leading or trailing whitespace; remove it")
