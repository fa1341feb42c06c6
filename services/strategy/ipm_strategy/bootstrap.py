"""The composition root of the strategy service: wires settings, storage, Kafka and the API."""

from fastapi import FastAPI

from ipm_common.events import Topics
from ipm_common.messaging import KafkaPublisher
from ipm_common.runtime import ServiceRuntime, Subscription, service_app
from ipm_common.storage import Database, create_engine
from ipm_strategy.adapters import tables
from ipm_strategy.entrypoints import api, plans_api, subscriptions
from ipm_strategy.settings import StrategySettings

SERVICE = "strategy"


def build_database(settings: StrategySettings) -> Database:
    return Database(create_engine(settings.database_url.get_secret_value()), tables.outbox, tables.inbox)


def build_runtime(settings: StrategySettings) -> ServiceRuntime:
    database = build_database(settings)
    return ServiceRuntime(
        service=SERVICE,
        settings=settings,
        database=database,
        publisher=KafkaPublisher(settings.kafka_bootstrap, client_id=f"ipm-{SERVICE}"),
        subscriptions=[
            Subscription(subscriptions.REVIEWS_GROUP, (Topics.REVIEW_REQUESTS,),
                         subscriptions.reviews_dispatcher(database)),
        ],
    )


def create_app(settings: StrategySettings | None = None) -> FastAPI:
    """Build the strategy service's app. Uvicorn calls this factory."""
    resolved = settings or StrategySettings()
    return service_app(
        title="IPM strategy",
        description="Organisation model, plans, strategic targets and strategy reviews.",
        build=lambda: build_runtime(resolved),
        routers=[api.router, plans_api.router],
        settings=resolved,
    )
