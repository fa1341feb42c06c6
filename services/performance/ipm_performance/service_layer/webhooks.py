"""Webhooks: registration, and the worker that fans alert changes out to deliveries and sends them signed.

Each delivery is a POST of the alert change's CloudEvents envelope (the same JSON as the Kafka
message) with the header ``IPM-Signature: t=<unix seconds>,v1=<hex>``, where ``<hex>`` is the
HMAC-SHA256 of ``<unix seconds>.<body>`` keyed with the webhook's secret. A receiver recomputes it
over the raw body, compares in constant time and rejects old timestamps to stop replays.

Deliveries are rows in the service's database, so a restart loses none: the worker fans out from
the alert change log by a cursor per webhook and retries failures with capped exponential backoff.
"""

import asyncio
import hashlib
import hmac
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
from sqlalchemy.exc import OperationalError

from ipm_common.errors import InvalidInput, NotFound
from ipm_common.storage import Database, utcnow
from ipm_performance.adapters import subscriptions
from ipm_performance.adapters.statements import AnyRow

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "IPM-Signature"


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff of failed deliveries: ``first`` seconds, doubling up to ``cap``, for at most ``attempts`` tries."""

    first: float = 1.0
    cap: float = 300.0
    attempts: int = 8

    def delay(self, attempt: int) -> float:
        """Return the seconds to wait after failed attempt number ``attempt`` (1 for the first)."""
        return float(min(self.cap, self.first * 2 ** (attempt - 1)))


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Build the signature header value over ``<timestamp>.<body>``."""
    digest = hmac.new(secret.encode("utf-8"), str(timestamp).encode("ascii") + b"." + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def verify(secret: str, header: str, body: bytes) -> bool:
    """Check a signature header against the body, as a receiver does (without the timestamp age check)."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    if "t" not in fields or "v1" not in fields or not fields["t"].isdigit():
        return False
    return hmac.compare_digest(sign(secret, int(fields["t"]), body), f"t={fields['t']},v1={fields['v1']}")


# --- commands and queries ------------------------------------------------------------------------


async def register(database: Database, url: str, secret: str, entity_id: str | None, min_severity: str) -> AnyRow:
    """Register a webhook; it receives the alert changes committed from now on."""
    _check_url(url)
    webhook_id = str(uuid.uuid4())
    async with database.transaction() as transaction:
        connection = transaction.connection
        cursor = await subscriptions.last_change_sequence(connection)
        await subscriptions.add_webhook(connection, {
            "webhook_id": webhook_id, "url": url, "secret": secret, "entity_id": entity_id,
            "min_severity": min_severity, "cursor": cursor, "created_at": utcnow()})
        row = await subscriptions.get_webhook(connection, webhook_id)
    assert row is not None
    logger.info("webhook %s registered for %s, entity %s, severity %s and up", webhook_id, _origin(url),
                entity_id or "any", min_severity)
    return row


async def remove(database: Database, webhook_id: str) -> None:
    async with database.transaction() as transaction:
        if not await subscriptions.delete_webhook(transaction.connection, webhook_id):
            raise _unknown(webhook_id)
    logger.info("webhook %s deleted", webhook_id)


async def deliveries(database: Database, webhook_id: str, limit: int) -> list[dict[str, object]]:
    async with database.reading() as connection:
        if await subscriptions.get_webhook(connection, webhook_id) is None:
            raise _unknown(webhook_id)
        return await subscriptions.list_deliveries(connection, webhook_id, limit)


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"url: {url!r} is not an http or https URL with a host", field="url")


def _origin(url: str) -> str:
    """Return scheme, host and port only, so that a token in the path or query never reaches the log."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


def _unknown(webhook_id: str) -> NotFound:
    return NotFound(f"webhook {webhook_id!r} does not exist; list the webhooks with GET /v1/webhooks")


# --- the worker ----------------------------------------------------------------------------------


class WebhookWorker:
    """Fan alert changes out to deliveries and send the due ones, until cancelled."""

    def __init__(self, database: Database, client: httpx.AsyncClient, *, retry: RetryPolicy | None = None,
                 poll_interval: float = 0.5, batch_size: int = 200) -> None:
        self._database = database
        self._client = client
        self._retry = retry or RetryPolicy()
        self._poll_interval = poll_interval
        self._batch_size = batch_size
        self.delivered = 0

    async def run(self) -> None:
        logger.info("webhook worker started")
        try:
            while True:
                try:
                    await self.run_once()
                except OperationalError as error:
                    logger.warning("webhook worker could not reach the database, retrying: %s", error)
                await asyncio.sleep(self._poll_interval)
        finally:
            logger.info("webhook worker stopped after %s deliveries", self.delivered)

    async def run_once(self) -> int:
        """Fan out the new alert changes, then send every due delivery once; return how many were sent.

        NOTE: two workers over one database may send the same due delivery twice. Receivers drop
        the copy by ``IPM-Delivery-Id`` or by the event id in the body.
        """
        await self._fan_out()
        async with self._database.reading() as connection:
            due = await subscriptions.due_deliveries(connection, utcnow(), self._batch_size)
        for delivery in due:
            await self._send(delivery)
        return len(due)

    async def _fan_out(self) -> None:
        """Queue deliveries for the webhooks behind the change log, writing only when one is behind."""
        async with self._database.reading() as connection:
            registered = await subscriptions.list_webhooks(connection)
            last = await subscriptions.last_change_sequence(connection) if registered else 0
        behind = [webhook.webhook_id for webhook in registered if webhook.cursor < last]
        if not behind:
            return
        async with self._database.transaction(wake_relay=False) as transaction:
            for webhook_id in behind:
                # The row lock keeps two workers over one PostgreSQL database from queueing a change twice.
                webhook = await subscriptions.get_webhook(transaction.connection, webhook_id, lock=True)
                if webhook is not None:
                    await subscriptions.fan_out(transaction.connection, webhook, utcnow(), self._batch_size)

    async def _send(self, delivery: subscriptions.DueDelivery) -> None:
        body = delivery.payload.encode("utf-8")
        headers = {"content-type": "application/cloudevents+json", "IPM-Webhook-Id": delivery.webhook_id,
                   "IPM-Delivery-Id": str(delivery.delivery_id),
                   SIGNATURE_HEADER: sign(delivery.secret, int(utcnow().timestamp()), body)}
        status_code: int | None = None
        error: str | None = None
        try:
            response = await self._client.post(delivery.url, content=body, headers=headers)
            status_code = response.status_code
            if not response.is_success:
                error = f"HTTP {status_code}"
        except httpx.HTTPError as failure:
            error = f"{type(failure).__name__}: {failure}"
        await self._record(delivery, status_code, error)

    async def _record(self, delivery: subscriptions.DueDelivery, status_code: int | None, error: str | None) -> None:
        now = utcnow()
        attempt = delivery.attempts + 1
        status = "delivered"
        if error is not None:
            status = "failed" if attempt >= self._retry.attempts else "pending"
        next_attempt_at: datetime = now + timedelta(seconds=self._retry.delay(attempt))
        async with self._database.transaction(wake_relay=False) as transaction:
            await subscriptions.record_attempt(transaction.connection, delivery, status=status,
                                               status_code=status_code, error=error,
                                               next_attempt_at=next_attempt_at, now=now)
        if error is None:
            self.delivered += 1
            logger.info("webhook %s delivery %s delivered on attempt %s", delivery.webhook_id, delivery.delivery_id,
                        attempt)
        else:
            logger.warning("webhook %s delivery %s attempt %s failed (%s): %s", delivery.webhook_id,
                           delivery.delivery_id, attempt, status, error)

