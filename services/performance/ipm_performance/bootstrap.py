"""The composition root of the performance service: wires settings, storage, Kafka and the API."""

import asyncio
from dataclasses import dataclass, field

import httpx
from fastapi import FastAPI

from ipm_common.messaging import KafkaPublisher
from ipm_common.runtime import ServiceRuntime, Subscription, service_app
from ipm_common.storage import Database, create_engine
from ipm_performance.adapters import tables
from ipm_performance.entrypoints import alerts_api, api, reports_api, subscriptions
from ipm_performance.service_layer.webhooks import WebhookWorker
from ipm_performance.settings import PerformanceSettings

SERVICE = "performance"


def build_database(settings: PerformanceSettings) -> Database:
    return Database(create_engine(settings.database_url.get_secret_value()), tables.outbox, tables.inbox)


@dataclass
class PerformanceRuntime(ServiceRuntime):
    """The shared runtime plus the webhook worker and its HTTP client, which stop with the other tasks."""

    webhook_timeout: float = 10.0
    webhook_client: httpx.AsyncClient | None = field(default=None, init=False)

    async def start(self) -> None:
        await super().start()
        self.webhook_client = httpx.AsyncClient(timeout=self.webhook_timeout, follow_redirects=False)
        worker = WebhookWorker(self.database, self.webhook_client)
        self._tasks.append(asyncio.create_task(worker.run(), name=f"{self.service}-webhooks"))

    async def stop(self) -> None:
        try:
            await super().stop()
        finally:
            if self.webhook_client is not None:
                await self.webhook_client.aclose()


def build_runtime(settings: PerformanceSettings) -> ServiceRuntime:
    database = build_database(settings)
    return PerformanceRuntime(
        service=SERVICE,
        settings=settings,
        database=database,
        publisher=KafkaPublisher(settings.kafka_bootstrap, client_id=f"ipm-{SERVICE}"),
        subscriptions=[
            Subscription(subscriptions.CONSUMER, subscriptions.TOPICS, subscriptions.build_dispatcher(database),
                         subscriptions.build_batch_dispatcher(database)),
        ],
    )


def create_app(settings: PerformanceSettings | None = None) -> FastAPI:
    """Build the performance service's app; uvicorn calls this factory."""
    resolved = settings or PerformanceSettings()
    return service_app(
        title="IPM performance",
        description="Variances against budget and targets, full-year outlooks, alert rules and alerts.",
        build=lambda: build_runtime(resolved),
        routers=[api.router, alerts_api.router, reports_api.router],
        settings=resolved,
    )
