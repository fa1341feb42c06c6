"""The composition root of the forecast service: wires settings, storage, Kafka and the API."""

from fastapi import FastAPI

from ipm_common.events import Topics
from ipm_common.messaging import KafkaPublisher
from ipm_common.runtime import ServiceRuntime, Subscription, service_app
from ipm_common.storage import Database, create_engine
from ipm_forecast.adapters import tables
from ipm_forecast.entrypoints import api, budgets_api, forecasts_api, subscriptions
from ipm_forecast.settings import ForecastSettings

SERVICE = "forecast"


def build_database(settings: ForecastSettings) -> Database:
    return Database(create_engine(settings.database_url.get_secret_value()), tables.outbox, tables.inbox)


def build_runtime(settings: ForecastSettings) -> ServiceRuntime:
    database = build_database(settings)
    handlers = subscriptions.Handlers(database, settings)
    return ServiceRuntime(
        service=SERVICE,
        settings=settings,
        database=database,
        publisher=KafkaPublisher(settings.kafka_bootstrap, client_id=f"ipm-{SERVICE}"),
        subscriptions=[
            Subscription(f"ipm-{SERVICE}-reference", (Topics.REFERENCE, Topics.BENEFITS), handlers.reference),
            Subscription(f"ipm-{SERVICE}-reroll", (Topics.ACTUALS,), handlers.reroll, handlers.reroll_batch),
            Subscription(f"ipm-{SERVICE}-erp", (Topics.ERP_POSTINGS,), handlers.erp_postings),
        ],
    )


def create_app(settings: ForecastSettings | None = None) -> FastAPI:
    """Build the forecast service's app; uvicorn calls this factory."""
    resolved = settings or ForecastSettings()
    return service_app(
        title="IPM forecast",
        description="Actuals ledger, budgets and rolling forecasts.",
        build=lambda: build_runtime(resolved),
        routers=[api.router, budgets_api.router, forecasts_api.router],
        settings=resolved,
    )
