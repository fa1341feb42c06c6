"""The composition root of the projects service: wires settings, storage, Kafka and the API."""

from fastapi import FastAPI

from ipm_common.events import Topics
from ipm_common.messaging import KafkaPublisher
from ipm_common.runtime import ServiceRuntime, Subscription, service_app
from ipm_common.storage import Database, create_engine
from ipm_projects.adapters import tables
from ipm_projects.entrypoints import api, subscriptions
from ipm_projects.settings import ProjectsSettings

SERVICE = "projects"


def build_database(settings: ProjectsSettings) -> Database:
    return Database(create_engine(settings.database_url.get_secret_value()), tables.outbox, tables.inbox)


def build_runtime(settings: ProjectsSettings) -> ServiceRuntime:
    database = build_database(settings)
    return ServiceRuntime(
        service=SERVICE,
        settings=settings,
        database=database,
        publisher=KafkaPublisher(settings.kafka_bootstrap, client_id=f"ipm-{SERVICE}"),
        subscriptions=[
            Subscription(subscriptions.REFERENCE_GROUP, (Topics.REFERENCE,),
                         subscriptions.reference_dispatcher(database)),
            Subscription(subscriptions.MEASUREMENT_GROUP, (Topics.FORECASTS, Topics.ACTUALS),
                         subscriptions.measurement_dispatcher(database)),
        ],
    )


def create_app(settings: ProjectsSettings | None = None) -> FastAPI:
    """Build the projects service's app. Uvicorn calls this factory."""
    resolved = settings or ProjectsSettings()
    return service_app(
        title="IPM projects",
        description="Improvement projects and the benefits they plan.",
        build=lambda: build_runtime(resolved),
        routers=[api.router],
        settings=resolved,
    )
