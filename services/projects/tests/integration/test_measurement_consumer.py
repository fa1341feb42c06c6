"""The measurement subscription on a real broker: forecasts and actuals in, realised benefits out."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio

from ipm_common.consumer import ConsumerSettings, KafkaConsumerLoop
from ipm_common.dispatch import new_event
from ipm_common.envelope import encode
from ipm_common.events import ActualsPosted, ForecastPoint, ForecastRerolled, PeriodBalance
from ipm_common.messaging import KafkaPublisher, ensure_topics
from ipm_common.storage import Database
from ipm_projects.domain.charter import Charter
from ipm_projects.domain.projects import BenefitRequest
from ipm_projects.entrypoints.subscriptions import measurement_dispatcher
from ipm_projects.service_layer.projects import create_project

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]

OutboxReader = Callable[[], Awaitable[list[dict[str, Any]]]]

# A new consumer group's first join on Tansu takes a few seconds; the rest leaves room for a slow machine.
DELIVERY_TIMEOUT = 60.0


@pytest_asyncio.fixture
async def publisher(kafka_bootstrap: str) -> AsyncIterator[KafkaPublisher]:
    started = KafkaPublisher(kafka_bootstrap, client_id="ipm-projects-test")
    await started.start()
    try:
        yield started
    finally:
        await started.stop()


def forecast() -> ForecastRerolled:
    point = ForecastPoint(period="FY2024-P01", baseline=Decimal("10000000.00"), value=Decimal("11000000"),
                          p10=Decimal("9000000"), p90=Decimal("12000000"))
    return ForecastRerolled(entity_id="PHL", account_id="4100", forecast_id="f-7", version=7, origin="FY2023-P12",
                            method="ets", clamped=False, ledger_version=12, batch_id="june", batch_series_count=1,
                            points=(point,))


def actuals() -> ActualsPosted:
    return ActualsPosted(entity_id="PHL", account_id="4100", currency="USD", batch_id="july", batch_series_count=1,
                         postings=(), balances=(PeriodBalance(period="FY2024-P01", amount=Decimal("10750000.50"),
                                                              ledger_version=13),))


async def wait_for(condition: Callable[[], Awaitable[bool]]) -> bool:
    deadline = asyncio.get_running_loop().time() + DELIVERY_TIMEOUT
    while not await condition():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def test_realised_benefit_from_broker_once(referenced: Database, read_outbox: OutboxReader,
                                                 kafka_bootstrap: str, publisher: KafkaPublisher) -> None:
    await create_project(referenced, project_id="collections", name="Faster wage tax collection", owner="revenue",
                         phase="improve", linked_targets=[], correlation_id="create-1",
                         benefits=[BenefitRequest("PHL", "4100", "FY2024-P01", Decimal("1000000"))],
                         charter=Charter(start_date=date(2023, 7, 1)))
    suffix = uuid.uuid4().hex[:12]
    forecasts_topic, actuals_topic = f"ipm.test.forecasts.{suffix}", f"ipm.test.actuals.{suffix}"
    await ensure_topics(kafka_bootstrap, [forecasts_topic, actuals_topic, f"ipm.test.dlt.{suffix}"], 1)
    settings = ConsumerSettings(bootstrap_servers=kafka_bootstrap, group_id=f"ipm-test-{suffix}",
                                topics=(forecasts_topic, actuals_topic), dead_letter_topic=f"ipm.test.dlt.{suffix}")
    posted = new_event("ipm-forecast", actuals(), correlation_id="july")
    await publisher.send(forecasts_topic, "PHL|4100", encode(new_event("ipm-forecast", forecast(),
                                                                      correlation_id="june")))
    await publisher.send(actuals_topic, "PHL|4100", encode(posted))
    await publisher.send(actuals_topic, "PHL|4100", encode(posted))  # a redelivery of the same event
    # The group reads from the earliest offset, so it finds the three messages once it has joined.
    loop = KafkaConsumerLoop(settings, measurement_dispatcher(referenced), publisher)
    task = asyncio.create_task(loop.run())

    async def realised() -> list[dict[str, Any]]:
        return [row for row in await read_outbox() if row["event_type"] == "ipm.projects.benefits.realised"]

    async def all_consumed() -> bool:
        if task.done():
            task.result()
        return loop.processed >= 3

    try:
        assert await wait_for(all_consumed)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    rows = await realised()
    assert len(rows) == 1
    # 10,750,000.50 − 10,000,000.00 = 750,000.50 above the forecast made before the project started.
    assert rows[0]["payload"]["data"]["points"][0]["realised"] == "750000.50"
    # The two topics are read in either order, and the event that completes the figures carries its correlation on.
    assert rows[0]["payload"]["correlationid"] in {"june", "july"}
