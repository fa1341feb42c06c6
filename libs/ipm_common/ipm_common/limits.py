"""Request limits at the HTTP boundary: body size (413) and requests in flight (503).

A body over the limit is rejected before it is parsed, whether the client declared its length or
streamed it. A request beyond the concurrency limit gets 503 with ``Retry-After`` at once instead
of queueing. Health checks and metrics are exempt, so that probes still get through under load.
"""

import json
import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)

EXEMPT_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class BodyTooLarge(Exception):
    """Raised inside the middleware when a streamed body passes the limit."""


class RequestLimits:
    """ASGI middleware that bounds request bodies and concurrent requests."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_concurrent: int, retry_after: int = 1) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_concurrent = max_concurrent
        self.retry_after = retry_after
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in EXEMPT_PATHS:
            await self.app(scope, receive, send)
            return

        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await self._reject_too_large(scope, send)
            return
        if self.in_flight >= self.max_concurrent:
            logger.warning("%s %s rejected with 503: %s requests in flight", scope["method"], scope["path"],
                           self.in_flight)
            await _respond(send, 503, f"the service is busy with {self.in_flight} requests; retry later",
                           [(b"retry-after", str(self.retry_after).encode())])
            return

        self.in_flight += 1
        try:
            await self._call_limited(scope, receive, send)
        finally:
            self.in_flight -= 1

    async def _call_limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await self._reject_too_large(scope, send)

    async def _reject_too_large(self, scope: Scope, send: Send) -> None:
        logger.info("%s %s rejected with 413: body over %s bytes", scope["method"], scope["path"],
                    self.max_body_bytes)
        await _respond(send, 413, f"the request body exceeds {self.max_body_bytes} bytes; split it into "
                                  "smaller requests", [])


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _respond(send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps({"detail": detail}).encode()
    response_headers: list[Any] = [(b"content-type", b"application/json"),
                                   (b"content-length", str(len(body)).encode()), *headers]
    await send({"type": "http.response.start", "status": status, "headers": response_headers})
    await send({"type": "http.response.body", "body": body})
