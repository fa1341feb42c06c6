"""The HTTP boundary shared by the services: exact JSON bodies, the error map and health checks.

FastAPI parses JSON numbers into floats before pydantic validates them. ``ExactJSONRoute`` parses
request bodies with ``Decimal`` for every non-integer number instead, so an amount sent as a
JSON number is kept exactly as written, and rejects the ``NaN`` and ``Infinity`` literals.
"""

import json
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from sqlalchemy.exc import DBAPIError, IntegrityError

from ipm_common.errors import Conflict, InvalidInput, IPMError, MissingRate, NotFound, PeriodClosed
from ipm_common.storage import database_unavailable

logger = logging.getLogger(__name__)

# Most specific class first: the first match wins.
STATUS_BY_ERROR: tuple[tuple[type[IPMError], int], ...] = (
    (PeriodClosed, 409),
    (Conflict, 409),
    (MissingRate, 422),
    (InvalidInput, 422),
    (NotFound, 404),
)


def _reject_constant(name: str) -> None:
    raise json.JSONDecodeError(f"{name} is not a finite number; send amounts as decimal strings", name, 0)


class ExactJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            self._json = json.loads(body, parse_float=Decimal, parse_constant=_reject_constant)
        return self._json


class ExactJSONRoute(APIRoute):
    """A route whose JSON body keeps decimal numbers exact."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def exact_handler(request: Request) -> Response:
            return await handler(ExactJSONRequest(request.scope, request.receive))

        return exact_handler


def field_path(location: tuple[Any, ...] | list[Any]) -> str:
    """Render a pydantic error location as ``postings[3].amount``, dropping the leading ``body``."""
    path = ""
    for part in location:
        if part == "body" and not path:
            continue
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def status_for(error: IPMError) -> int:
    for error_class, status in STATUS_BY_ERROR:
        if isinstance(error, error_class):
            return status
    return 500


def install_error_handlers(app: FastAPI) -> None:
    """Map IPM's exception tree and request validation errors to ``{"detail": ...}`` responses."""

    async def on_ipm_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, IPMError)
        status = status_for(error)
        logger.info("%s %s rejected with %s: %s", request.method, request.url.path, status, error)
        body: dict[str, Any] = {"detail": str(error)}
        if isinstance(error, InvalidInput) and error.field:
            body["field"] = error.field
        if isinstance(error, (InvalidInput, Conflict)) and error.details:
            body["detail"] = error.details
        if isinstance(error, Conflict):
            body["reason"] = error.reason
        return JSONResponse(body, status_code=status)

    async def on_validation_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, RequestValidationError)
        details = [_validation_detail(item) for item in error.errors()]
        logger.info("%s %s rejected with 422: %s", request.method, request.url.path, details[:3])
        return JSONResponse({"detail": details}, status_code=422)

    async def on_database_error(request: Request, error: Exception) -> JSONResponse:
        if isinstance(error, IntegrityError) and _duplicate_key(error):
            # Two requests wrote the same key at once, such as one batch sent twice in parallel.
            logger.warning("%s %s conflicted with a concurrent request: %s", request.method, request.url.path,
                           error)
            return JSONResponse({"detail": "another request changed the same records at the same time; retry "
                                           "the request", "reason": "concurrent_update"}, status_code=409)
        if not database_unavailable(error):
            logger.error("%s %s failed", request.method, request.url.path, exc_info=error)
            return JSONResponse({"detail": "internal error"}, status_code=500)
        logger.error("%s %s failed, database unavailable: %s", request.method, request.url.path, error)
        return JSONResponse({"detail": "the database is unavailable; retry later"}, status_code=503,
                            headers={"Retry-After": "5"})

    app.add_exception_handler(IPMError, on_ipm_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    # Library errors that mean "not now" rather than "bad request" become 503 at this one boundary.
    app.add_exception_handler(DBAPIError, on_database_error)


def _duplicate_key(error: IntegrityError) -> bool:
    """Tell whether an integrity error is a unique-key violation (SQLSTATE 23505, or SQLite's UNIQUE failure)."""
    return getattr(error.orig, "sqlstate", None) == "23505" or "UNIQUE constraint failed" in str(error.orig)


def _validation_detail(item: Mapping[str, Any]) -> dict[str, str]:
    if item["type"] == "json_invalid":
        reason = item.get("ctx", {}).get("error", "invalid JSON")
        return {"field": "body", "message": f"the body is not valid JSON: {reason}", "type": "json_invalid"}
    return {"field": field_path(item["loc"]), "message": item["msg"].removeprefix("Value error, "),
            "type": item["type"]}


ReadinessCheck = Callable[[], Awaitable[bool]]


def health_router(checks: Mapping[str, ReadinessCheck]) -> APIRouter:
    """Build ``/healthz`` (the process runs) and ``/readyz`` (every dependency is reachable)."""
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        """Report that the process is up."""
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz(response: Response) -> dict[str, Any]:
        """Report whether the database and the broker are reachable."""
        results = {name: await _run_check(name, check) for name, check in checks.items()}
        ready = all(results.values())
        response.status_code = 200 if ready else 503
        return {"status": "ready" if ready else "not ready", "checks": results}

    return router


async def _run_check(name: str, check: ReadinessCheck) -> bool:
    try:
        return await check()
    except Exception as error:
        # Any failure means "not ready", and is logged.
        logger.warning("readiness check %s failed: %s", name, error)
        return False
