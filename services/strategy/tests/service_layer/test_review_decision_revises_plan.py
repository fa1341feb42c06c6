"""A revise_plan decision that adopts a revised operating plan, on SQLite and PostgreSQL."""

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest
import pytest_asyncio

from ipm_common.dispatch import new_event
from ipm_common.envelope import encode
from ipm_common.errors import InvalidInput
from ipm_common.events import StrategyReviewRequested, Topics
from ipm_common.messaging import ConsumedMessage
from ipm_common.storage import Database
from ipm_strategy.adapters import repository
from ipm_strategy.entrypoints.subscriptions import reviews_dispatcher
from ipm_strategy.service_layer.operating_plans import (
    LineRequest,
    TargetRequest,
    adopt_plan,
    create_plan,
    load_plan,
    revise_plan,
    set_targets,
)
from ipm_strategy.service_layer.organisation import put_entity
from ipm_strategy.service_layer.reviews import decide_review, review_with_trail

OutboxReader = Callable[[], Awaitable[list[dict[str, Any]]]]

LINES = [LineRequest("revenue", 2025, Decimal("1000")), LineRequest("cost_of_sales", 2025, Decimal("600"))]


@pytest_asyncio.fixture
async def review_id(database: Database) -> str:
    for entity_id in ("ACME", "OTHER"):
        await put_entity(database, entity_id, entity_id, "USD", {}, correlation_id="setup")
    request = StrategyReviewRequested(alert_id="ACME|revenue|FY2025", entity_id="ACME", line="revenue",
                                      fiscal_year=2025, outlook=Decimal("900"), target=Decimal("1000"),
                                      variance=Decimal("-100"), variance_pct=Decimal("-0.1"), threshold="5% and 0")
    envelope = new_event("ipm-performance", request, correlation_id="batch-1")
    await reviews_dispatcher(database)(ConsumedMessage(Topics.REVIEW_REQUESTS, 0, 0, b"ACME", encode(envelope)))
    async with database.reading() as connection:
        (review,) = await repository.reviews(connection, None, None)

    await create_plan(database, plan_id="op", entity_id="ACME", name="Plan", lines=LINES)
    await adopt_plan(database, "op", by="cfo", correlation_id="setup")
    await revise_plan(database, "op", new_plan_id="op-r1", name="Revised plan")
    await set_targets(database, "op-r1", [TargetRequest("line", "revenue", 2025, Decimal("950"))])
    return review.review_id


@pytest.mark.asyncio
async def test_revise_decision_adopts_plan(database: Database, review_id: str, read_outbox: OutboxReader) -> None:
    review = await decide_review(database, review_id, decision="revise_plan", by="cfo", reason="demand fell",
                                 correlation_id="decision-1", revised_plan_id="op-r1")

    rows = [row for row in await read_outbox() if row["payload"]["correlationid"] == "decision-1"]
    assert review.revised_plan_id == "op-r1"
    assert (await load_plan(database, "op-r1")).status == "revised"
    assert [row["event_type"] for row in rows] == ["ipm.strategy.plan.adopted", "ipm.strategy.targets.set",
                                                   "ipm.strategy.review.decided"]
    assert rows[1]["payload"]["data"]["targets"][0]["amount"] == "950"
    assert rows[2]["payload"]["data"]["revised_plan_id"] == "op-r1"


@pytest.mark.asyncio
async def test_plan_of_other_entity_stores_nothing(database: Database, review_id: str) -> None:
    await create_plan(database, plan_id="other", entity_id="OTHER", name="Other", lines=LINES)

    with pytest.raises(InvalidInput) as raised:
        await decide_review(database, review_id, decision="revise_plan", by="cfo", reason="demand fell",
                            correlation_id="decision-1", revised_plan_id="other")

    review, trail = await review_with_trail(database, review_id)
    assert raised.value.field == "revised_plan_id"
    assert review.status == "opened"
    assert (await load_plan(database, "other")).status == "proposed"
    assert [entry.action for entry in trail] == ["opened"]
