"""Turn consumed messages into typed events and apply each once per consumer.

A service lists what reacts to what in one table of ``{event type: handler}``. The dispatcher
decodes the raw bytes, upcasts older schema versions, validates the payload and runs the
handler inside one transaction together with the inbox record, so a redelivered event changes
nothing. Event types without a handler are skipped: a topic carries several types.
"""

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from ipm_common.envelope import Envelope, decode
from ipm_common.errors import Conflict, InvalidInput, NotFound, PoisonMessage
from ipm_common.events import CATALOGUE, SPEC_BY_MODEL, EventData, partition_key
from ipm_common.messaging import ConsumedMessage
from ipm_common.storage import Database, Transaction

logger = logging.getLogger(__name__)

EventHandler = Callable[[Transaction, Envelope, Any], Awaitable[None]]
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

# Upcasters by (event type, major version they read); each returns the next major version's data.
UPCASTERS: dict[tuple[str, int], Upcaster] = {}


class EventDispatcher:
    def __init__(self, consumer: str, database: Database, handlers: Mapping[str, EventHandler]) -> None:
        self.consumer = consumer
        self._database = database
        self._handlers = dict(handlers)

    @property
    def event_types(self) -> tuple[str, ...]:
        return tuple(self._handlers)

    async def __call__(self, message: ConsumedMessage) -> None:
        envelope = decode(message.value)
        handler = self._handlers.get(envelope.type)
        if handler is None:
            _check_known_type(envelope)
            logger.debug("%s skips %s %s", self.consumer, envelope.type, envelope.id)
            return

        data = parse_data(envelope)
        try:
            async with self._database.transaction() as transaction:
                if not await transaction.mark_processed(self.consumer, envelope):
                    logger.info("%s dropped duplicate %s %s", self.consumer, envelope.type, envelope.id)
                    return
                await handler(transaction, envelope, data)
        except Conflict as error:
            raise PoisonMessage(str(error), reason=error.reason) from None
        except (InvalidInput, NotFound) as error:
            raise PoisonMessage(str(error), reason="invalid_payload") from None

        logger.info(
            "%s processed %s %s correlation %s from %s[%s]@%s",
            self.consumer, envelope.type, envelope.id, envelope.correlationid,
            message.topic, message.partition, message.offset,
        )


def _check_known_type(envelope: Envelope) -> None:
    """Raise ``PoisonMessage`` for an event type that is in no catalogue, so that it is dead-lettered.

    A consumer skips catalogued types it has no handler for, since topics carry several types.
    """
    if envelope.type not in CATALOGUE:
        raise PoisonMessage(f"unknown event type {envelope.type!r}", reason="unknown_type")


def parse_data(envelope: Envelope) -> EventData:
    """Validate an envelope's payload against today's schema, upcasting older major versions."""
    spec = CATALOGUE.get(envelope.type)
    if spec is None:
        raise PoisonMessage(f"unknown event type {envelope.type!r}", reason="unknown_type")

    current_major = int(spec.schema_version.split(".", 1)[0])
    major = envelope.major_version
    if major > current_major:
        raise PoisonMessage(
            f"{envelope.type} schema version {envelope.schemaversion} is newer than {spec.schema_version}; "
            "upgrade this service before replaying it",
            reason="unknown_schema_version",
        )

    data = dict(envelope.data)
    while major < current_major:
        upcaster = UPCASTERS.get((envelope.type, major))
        if upcaster is None:
            raise PoisonMessage(
                f"no upcaster from {envelope.type} v{major}", reason="unknown_schema_version"
            )
        data = upcaster(data)
        major += 1

    try:
        return spec.model.model_validate(data)
    except ValidationError as error:
        raise PoisonMessage(f"invalid {envelope.type} payload: {error}", reason="invalid_payload") from None


def new_event(source: str, data: EventData, *, correlation_id: str, subject: str | None = None) -> Envelope:
    """Wrap a payload in a new envelope of its catalogued type and schema version."""
    spec = SPEC_BY_MODEL[type(data)]
    return Envelope(
        source=source,
        type=spec.type,
        subject=subject,
        correlationid=correlation_id,
        schemaversion=spec.schema_version,
        data=data.model_dump(mode="json"),
    )


async def publish_event(transaction: Transaction, source: str, data: EventData, *, correlation_id: str,
                        subject: str | None = None) -> Envelope:
    """Add an event to the outbox of ``transaction``, routed to its catalogued topic and key."""
    spec = SPEC_BY_MODEL[type(data)]
    envelope = new_event(source, data, correlation_id=correlation_id, subject=subject)
    await transaction.publish(spec.topic, partition_key(spec, data), envelope)
    return envelope


BatchEventHandler = Callable[[Transaction, list[tuple[Envelope, Any]]], Awaitable[None]]


class BatchEventDispatcher:
    """Apply many consumed events in one transaction, each event type through one batch handler.

    Used where handling events together is much cheaper than one by one, such as fitting many
    forecasts at once. Poison messages are returned for the dead-letter topic; any other error
    propagates, and the consume loop then falls back to the one-by-one ``EventDispatcher``.
    """

    def __init__(self, consumer: str, database: Database, handlers: Mapping[str, BatchEventHandler]) -> None:
        self.consumer = consumer
        self._database = database
        self._handlers = dict(handlers)

    async def __call__(self, messages: Sequence[ConsumedMessage]) -> list[tuple[ConsumedMessage, PoisonMessage]]:
        poisoned: list[tuple[ConsumedMessage, PoisonMessage]] = []
        parsed: list[tuple[Envelope, EventData]] = []
        for message in messages:
            try:
                envelope = decode(message.value)
                if envelope.type in self._handlers:
                    parsed.append((envelope, parse_data(envelope)))
                else:
                    _check_known_type(envelope)
            except PoisonMessage as error:
                poisoned.append((message, error))

        applied = 0
        async with self._database.transaction() as transaction:
            new_ids = await transaction.mark_many_processed(self.consumer, [envelope for envelope, _ in parsed])
            fresh: dict[str, list[tuple[Envelope, Any]]] = {}
            for envelope, data in parsed:
                if envelope.id in new_ids:
                    new_ids.discard(envelope.id)
                    fresh.setdefault(envelope.type, []).append((envelope, data))
                else:
                    logger.info("%s dropped duplicate %s %s", self.consumer, envelope.type, envelope.id)
            for event_type, items in fresh.items():
                await self._handlers[event_type](transaction, items)
                applied += len(items)

        logger.info("%s processed a batch of %s events (%s applied, %s poison)", self.consumer, len(messages),
                    applied, len(poisoned))
        return poisoned
