from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import pytest

from ipm_common.dispatch import new_event
from ipm_common.envelope import Envelope, encode
from ipm_common.errors import Conflict, NotFound
from ipm_common.events import StrategyReviewRequested, Topics
from ipm_common.messaging import ConsumedMessage
from ipm_common.storage import Database
from ipm_strategy.adapters import repository
from ipm_strategy.entrypoints.subscriptions import reviews_dispatcher
from ipm_strategy.service_layer.reviews import acknowledge_review, decide_review, review_with_trail

OutboxReader = Callable[[], Awaitable[list[dict[str, Any]]]]

REQUEST = StrategyReviewRequested(
    alert_id="PHL|wage_tax|FY2025|outlook_vs_target", entity_id="PHL", line="wage_tax", fiscal_year=2025,
    outlook=Decimal("2090000000.50"), target=Decimal("2203000000"), variance=Decimal("-112999999.50"),
    variance_pct=Decimal("-0.051294"),
    threshold="band 5% and 1000000, both directions",
)


def request_event(data: StrategyReviewRequested = REQUEST) -> Envelope:
    return new_event("ipm-performance", data, correlation_id="batch-42", subject=data.alert_id)


def as_message(envelope: Envelope, offset: int = 0) -> ConsumedMessage:
    return ConsumedMessage(Topics.REVIEW_REQUESTS, 0, offset, b"PHL", encode(envelope))


async def open_one(database: Database) -> str:
    await reviews_dispatcher(database)(as_message(request_event()))
    async with database.reading() as connection:
        (review,) = await repository.reviews(connection, None, None)
    return review.review_id


@pytest.mark.asyncio
async def test_request_opens_review(database: Database, read_outbox: OutboxReader) -> None:
    review_id = await open_one(database)

    review, trail = await review_with_trail(database, review_id)
    assert review.status == "opened"
    assert str(review.breach.outlook) == "2090000000.50"
    assert str(review.breach.variance_pct) == "-0.051294"
    assert review.breach.threshold == "band 5% and 1000000, both directions"
    assert [(entry.action, entry.by) for entry in trail] == [("opened", "ipm-performance")]

    (row,) = await read_outbox()
    assert (row["event_type"], row["topic"], row["key"]) == ("ipm.strategy.review.opened", Topics.REVIEWS, "PHL")
    assert row["payload"]["correlationid"] == "batch-42"
    assert row["payload"]["data"] == {"review_id": review_id, "alert_id": REQUEST.alert_id, "entity_id": "PHL",
                                      "line": "wage_tax", "fiscal_year": 2025}


@pytest.mark.asyncio
async def test_redelivered_request_opens_one_review(database: Database, read_outbox: OutboxReader) -> None:
    dispatcher = reviews_dispatcher(database)
    envelope = request_event()

    await dispatcher(as_message(envelope, offset=0))
    await dispatcher(as_message(envelope, offset=0))

    async with database.reading() as connection:
        assert len(await repository.reviews(connection, None, None)) == 1
    assert len(await read_outbox()) == 1


@pytest.mark.asyncio
async def test_second_request_for_alert_ignored(database: Database, read_outbox: OutboxReader) -> None:
    dispatcher = reviews_dispatcher(database)
    first, second = request_event(), request_event(REQUEST.model_copy(update={"outlook": Decimal("2000000000")}))
    assert first.id != second.id

    await dispatcher(as_message(first, offset=0))
    await dispatcher(as_message(second, offset=1))

    async with database.reading() as connection:
        (review,) = await repository.reviews(connection, None, None)
    assert str(review.breach.outlook) == "2090000000.50"
    assert len(await read_outbox()) == 1


@pytest.mark.asyncio
async def test_decision_publishes_review_decided(database: Database, read_outbox: OutboxReader) -> None:
    review_id = await open_one(database)

    await acknowledge_review(database, review_id, by="controller", comment="checking wage tax receipts")
    decided = await decide_review(database, review_id, decision="revise_plan", by="cfo",
                                  reason="wage growth slowed", correlation_id="decision-1")

    assert decided.status == "decided"
    rows = await read_outbox()
    assert [row["event_type"] for row in rows] == ["ipm.strategy.review.opened", "ipm.strategy.review.decided"]
    assert (rows[1]["topic"], rows[1]["key"]) == (Topics.REVIEWS, "PHL")
    assert rows[1]["payload"]["correlationid"] == "decision-1"
    assert rows[1]["payload"]["data"] == {"review_id": review_id, "alert_id": REQUEST.alert_id,
                                          "entity_id": "PHL", "decision": "revise_plan", "decided_by": "cfo",
                                          "reason": "wage growth slowed", "revised_plan_id": None}
    _, trail = await review_with_trail(database, review_id)
    assert [(entry.action, entry.by, entry.from_status) for entry in trail] == [
        ("opened", "ipm-performance", None), ("acknowledged", "controller", "opened"),
        ("decided", "cfo", "acknowledged"),
    ]


@pytest.mark.asyncio
async def test_second_decision_conflicts(database: Database, read_outbox: OutboxReader) -> None:
    review_id = await open_one(database)
    await decide_review(database, review_id, decision="keep_plan", by="cfo", reason="one-off", correlation_id="d1")

    with pytest.raises(Conflict):
        await decide_review(database, review_id, decision="revise_plan", by="cfo", reason="again",
                            correlation_id="d2")
    with pytest.raises(Conflict):
        await acknowledge_review(database, review_id, by="cfo", comment=None)

    assert len(await read_outbox()) == 2


@pytest.mark.asyncio
async def test_retry_naming_a_revised_plan_conflicts(database: Database, read_outbox: OutboxReader) -> None:
    # The stored decision adopted no plan, so a retry that names one would report an adoption that never happened.
    review_id = await open_one(database)
    await decide_review(database, review_id, decision="revise_plan", by="cfo", reason="wage growth slowed",
                        correlation_id="d1")

    with pytest.raises(Conflict):
        await decide_review(database, review_id, decision="revise_plan", by="cfo", reason="wage growth slowed",
                            correlation_id="d1-retry", revised_plan_id="op-2026")

    assert len(await read_outbox()) == 2


@pytest.mark.asyncio
async def test_unknown_review_not_found(database: Database) -> None:
    with pytest.raises(NotFound):
        await acknowledge_review(database, "no-such-review", by="cfo", comment=None)


@pytest.mark.asyncio
async def test_repeated_decision_changes_nothing(database: Database, read_outbox: OutboxReader) -> None:
    review_id = await open_one(database)
    first = await decide_review(database, review_id, decision="keep_plan", by="cfo", reason="one-off",
                                correlation_id="d1")

    retry = await decide_review(database, review_id, decision="keep_plan", by="cfo", reason="one-off",
                                correlation_id="d1-retry")

    assert retry == first
    assert [row["event_type"] for row in await read_outbox()] == ["ipm.strategy.review.opened",
                                                                  "ipm.strategy.review.decided"]
    _, trail = await review_with_trail(database, review_id)
    assert [entry.action for entry in trail] == ["opened", "decided"]
