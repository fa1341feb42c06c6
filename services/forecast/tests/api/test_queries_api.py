"""Query parameters of the forecast reads are bounded before they reach the database."""

import httpx
import pytest

pytestmark = pytest.mark.asyncio


@pytest.mark.parametrize("version", ["0", "-1", "2147483648", "99999999999999999999999"])
async def test_out_of_range_version_rejected(client: httpx.AsyncClient, version: str) -> None:
    response = await client.get("/v1/forecasts/ACME/tax", params={"version": version})

    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "query.version"


async def test_missing_version_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/forecasts/ACME/tax", params={"version": "2147483647"})

    assert response.status_code == 404
    assert response.json()["detail"].startswith("no forecast for ACME/tax version 2147483647;")
