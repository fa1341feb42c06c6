"""The long-lived resources of one service process and the lifespan that owns them.

The lifespan opens the database and the Kafka producer, creates missing topics, starts the
outbox relay and every consumer loop, and closes all of them in ``finally``. Migrations are not
run here: they are their own step (``<service> migrate``).
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import PlainTextResponse
from sqlalchemy import text

from ipm_common.consumer import ConsumerSettings, KafkaConsumerLoop
from ipm_common.events import ALL_TOPICS, SERVICES, Topics
from ipm_common.http import health_router, install_error_handlers
from ipm_common.limits import RequestLimits
from ipm_common.messaging import BatchHandler, KafkaPublisher, MessageHandler, ensure_topics, wait_for_broker
from ipm_common.relay import OutboxRelay
from ipm_common.settings import ServiceSettings
from ipm_common.storage import Database

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Subscription:
    """One consumer group of a service: the topics it reads and the handler of its messages."""

    group_id: str
    topics: tuple[str, ...]
    handler: MessageHandler
    batch_handler: BatchHandler | None = None


@dataclass
class ServiceRuntime:
    service: str
    settings: ServiceSettings
    database: Database
    publisher: KafkaPublisher
    subscriptions: Sequence[Subscription]
    relay: OutboxRelay = field(init=False)
    consumers: list[KafkaConsumerLoop] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.relay = OutboxRelay(self.database, self.publisher)

    async def start(self) -> None:
        await wait_for_broker(self.settings.kafka_bootstrap)
        topics = [*ALL_TOPICS, *(Topics.dead_letter(service) for service in SERVICES)]
        await ensure_topics(self.settings.kafka_bootstrap, topics, self.settings.topic_partitions)
        await self.publisher.start()
        self._tasks.append(asyncio.create_task(self.relay.run(), name=f"{self.service}-relay"))
        for subscription in self.subscriptions:
            loop = KafkaConsumerLoop(self._consumer_settings(subscription), subscription.handler, self.publisher,
                                     subscription.batch_handler)
            self.consumers.append(loop)
            self._tasks.append(asyncio.create_task(loop.run(), name=subscription.group_id))
        await self._wait_for_assignment()
        logger.info("%s started with database %s", self.service, self.settings.masked_database_url)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        results = await asyncio.gather(*self._tasks, return_exceptions=True)
        for task, result in zip(self._tasks, results, strict=True):
            if isinstance(result, Exception) and not isinstance(result, asyncio.CancelledError):
                logger.error("task %s ended with %r", task.get_name(), result)
        await self.publisher.stop()
        await self.database.dispose()
        logger.info("%s stopped", self.service)

    async def database_ready(self) -> bool:
        """Check that the database is reachable and migrated (``ipm-<service> migrate``)."""
        async with self.database.reading() as connection:
            revision = (await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar()
        if revision is None:
            logger.warning("%s database has no schema revision; run ipm-%s migrate", self.service, self.service)
        return revision is not None

    async def metrics(self) -> str:
        """Render the delivery metrics in the Prometheus text format."""
        service = f'service="{self.service}"'
        lines = [
            "# TYPE ipm_outbox_backlog gauge",
            f"ipm_outbox_backlog{{{service}}} {await self.relay.backlog()}",
            "# TYPE ipm_outbox_published_total counter",
            f"ipm_outbox_published_total{{{service}}} {self.relay.published}",
            "# TYPE ipm_consumer_processed_total counter",
            *(f'ipm_consumer_processed_total{{{service},group="{consumer.settings.group_id}"}} {consumer.processed}'
              for consumer in self.consumers),
            "# TYPE ipm_dead_letters_total counter",
            *(f'ipm_dead_letters_total{{{service},group="{consumer.settings.group_id}"}} {consumer.dead_lettered}'
              for consumer in self.consumers),
            "# TYPE ipm_consumer_lag gauge",
        ]
        for consumer in self.consumers:
            for partition, lag in sorted((await consumer.lag()).items()):
                lines.append(f'ipm_consumer_lag{{{service},group="{consumer.settings.group_id}",'
                             f'topic="{partition.topic}",partition="{partition.partition}"}} {lag}')
        return "\n".join(lines) + "\n"

    async def broker_ready(self) -> bool:
        await asyncio.wait_for(wait_for_broker(self.settings.kafka_bootstrap, timeout=2.0), 3.0)
        return all(not task.done() for task in self._tasks)

    def _consumer_settings(self, subscription: Subscription) -> ConsumerSettings:
        return ConsumerSettings(
            bootstrap_servers=self.settings.kafka_bootstrap,
            group_id=subscription.group_id,
            topics=subscription.topics,
            dead_letter_topic=Topics.dead_letter(self.service),
        )

    async def _wait_for_assignment(self) -> None:
        waits = [consumer.assigned.wait() for consumer in self.consumers]
        try:
            await asyncio.wait_for(asyncio.gather(*waits), self.settings.kafka_group_join_timeout)
        except TimeoutError:
            logger.warning("consumer groups of %s not assigned after %s s", self.service,
                           self.settings.kafka_group_join_timeout)


def runtime_lifespan(build: Callable[[], ServiceRuntime]) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Make a FastAPI lifespan that starts the runtime that ``build`` wires and stops it on exit."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = build()
        app.state.runtime = runtime
        try:
            await runtime.start()
            yield
        finally:
            await runtime.stop()

    return lifespan


def service_app(title: str, description: str, build: Callable[[], ServiceRuntime],
                routers: Sequence[APIRouter], settings: ServiceSettings) -> FastAPI:
    """Assemble a service's FastAPI app: lifespan, error map, request limits, health checks, routers."""
    app = FastAPI(title=title, description=description, version="0.1.0", lifespan=runtime_lifespan(build))
    install_error_handlers(app)
    app.add_middleware(RequestLimits, max_body_bytes=settings.max_body_bytes,
                       max_concurrent=settings.max_concurrent_requests)

    async def database_ready() -> bool:
        return await _runtime(app).database_ready()

    async def broker_ready() -> bool:
        return await _runtime(app).broker_ready()

    app.include_router(health_router({"database": database_ready, "broker": broker_ready}))

    @app.get("/metrics", response_class=PlainTextResponse, tags=["health"])
    async def metrics() -> str:
        """Report outbox backlog, events processed and dead-lettered, and consumer lag (Prometheus text)."""
        return await _runtime(app).metrics()

    for router in routers:
        app.include_router(router)
    return app


def _runtime(app: FastAPI) -> ServiceRuntime:
    runtime = getattr(app.state, "runtime", None)
    if runtime is None:
        raise RuntimeError("the service is still starting")
    return runtime  # type: ignore[no-any-return]


def get_runtime(request: Request) -> ServiceRuntime:
    """FastAPI dependency: the runtime of the running service."""
    return _runtime(request.app)


def get_database(request: Request) -> Database:
    """FastAPI dependency: the service's database."""
    return _runtime(request.app).database
