"""Database errors sorted into "not now" and "wrong", and unknown event types sent to dead letters."""

from collections.abc import AsyncIterator
from typing import cast

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

from ipm_common.dispatch import EventDispatcher
from ipm_common.envelope import Envelope, encode
from ipm_common.errors import PoisonMessage
from ipm_common.http import install_error_handlers
from ipm_common.messaging import ConsumedMessage
from ipm_common.storage import Database, database_unavailable


class DriverError(Exception):
    """An error of the database driver, carrying the SQLSTATE as asyncpg's adapter does."""

    def __init__(self, sqlstate: str | None) -> None:
        super().__init__(f"driver error {sqlstate}")
        self.sqlstate = sqlstate


def _wrapped(sqlstate: str | None, kind: type[DBAPIError] = DBAPIError) -> DBAPIError:
    return kind("SELECT 1", None, DriverError(sqlstate))


@pytest.mark.parametrize(("error", "unavailable"), [
    (_wrapped("57P03"), True),  # cannot connect now: the server is starting
    (_wrapped("57P01"), True),  # admin shutdown
    (_wrapped("08006"), True),  # connection failure
    (_wrapped("53300"), True),  # too many connections
    (_wrapped("23505"), False),  # unique violation
    (_wrapped("42P01"), False),  # undefined table
    (_wrapped(None), False),
    (_wrapped(None, OperationalError), True),
    (_wrapped(None, InterfaceError), True),
    (ValueError("not a database error"), False),
])
def test_database_unavailable_by_sqlstate(error: BaseException, unavailable: bool) -> None:
    assert database_unavailable(error) is unavailable


def test_invalidated_connection_is_unavailable() -> None:
    error = DBAPIError("SELECT 1", None, DriverError(None), connection_invalidated=True)

    assert database_unavailable(error)


@pytest_asyncio.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    install_error_handlers(app)
    errors = {"restarting": _wrapped("57P03"), "duplicate": _wrapped("23505", IntegrityError),
              "broken": _wrapped("42P01"), "null": _wrapped("23502", IntegrityError)}

    @app.post("/{name}")
    async def fail(name: str) -> None:
        raise errors[name]

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://ipm.test") as http_client:
        yield http_client


@pytest.mark.asyncio
async def test_restarting_database_gets_503(client: httpx.AsyncClient) -> None:
    response = await client.post("/restarting")

    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"


@pytest.mark.asyncio
async def test_concurrent_duplicate_gets_409(client: httpx.AsyncClient) -> None:
    response = await client.post("/duplicate")

    assert response.status_code == 409
    assert response.json()["reason"] == "concurrent_update"


@pytest.mark.asyncio
@pytest.mark.parametrize("name", ["broken", "null"])
async def test_other_database_error_gets_500(client: httpx.AsyncClient, name: str) -> None:
    response = await client.post(f"/{name}")

    assert response.status_code == 500
    assert response.json() == {"detail": "internal error"}


def _message(event_type: str) -> ConsumedMessage:
    envelope = Envelope(source="test", type=event_type, correlationid="c-1", schemaversion="1.0", data={})
    return ConsumedMessage(topic="ipm.test", partition=0, offset=7, key=b"ACME", value=encode(envelope))


@pytest.mark.asyncio
async def test_unknown_type_is_poison() -> None:
    # The dispatcher rejects the type before it opens a transaction, so it needs no database.
    dispatcher = EventDispatcher("test", cast(Database, None), {})

    with pytest.raises(PoisonMessage) as caught:
        await dispatcher(_message("ipm.nobody.thing.happened"))

    assert caught.value.reason == "unknown_type"


@pytest.mark.asyncio
async def test_catalogued_type_without_handler_is_skipped() -> None:
    dispatcher = EventDispatcher("test", cast(Database, None), {})

    assert await dispatcher(_message("ipm.performance.batch.evaluated")) is None
