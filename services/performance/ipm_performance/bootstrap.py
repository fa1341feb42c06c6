"""The composition root of the performance service: wires settings, storage, Kafka and the API."""

from fastapi import FastAPI

from ipm_common.messaging import KafkaPublisher
from ipm_common.runtime import ServiceRuntime, Subscription, service_app
from ipm_common.storage import Database, create_engine
from ipm_performance.adapters import tables
from ipm_performance.entrypoints import api, subscriptions
from ipm_performance.settings import PerformanceSettings

SERVICE = "performance"


def build_database(settings: PerformanceSettings) -> Database:
    return Database(create_engine(settings.database_url.get_secret_value()), tables.outbox, tables.inbox)


def build_runtime(settings: PerformanceSettings) -> ServiceRuntime:
    database = build_database(settings)
    return ServiceRuntime(
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
        routers=[api.router],
        settings=resolved,
    )
