"""Inputs that reports keep from events: every forecast version, and the projects' planned and realised benefits."""

from decimal import Decimal

import pytest

from ipm_common.events import BenefitPoint, BenefitsChanged, BenefitsPlanned
from ipm_common.storage import Database

from .performance_scenario import ENTITY, Feed, forecast, period


def planned(version: int, amount: str, changed: bool = False) -> BenefitsPlanned:
    points = (BenefitPoint(period="2023-12", amount=Decimal(amount)),
              BenefitPoint(period=period(7), amount=Decimal(amount)))
    if changed:
        return BenefitsChanged(project_id="P-1", name="Collections", entity_id=ENTITY, account_id="WAGE",
                               version=version, benefits=points, reason="re-planned")
    return BenefitsPlanned(project_id="P-1", name="Collections", entity_id=ENTITY, account_id="WAGE",
                           version=version, benefits=points)


@pytest.mark.asyncio
async def test_benefit_versions_replace_and_stale_ignored(database: Database) -> None:
    feed = Feed(database)
    await feed.seed()

    await feed.send(planned(2, "200"))
    await feed.send(planned(1, "100"))
    after_stale = {(row.period, row.amount, row.version) for row in await feed.rows("project_benefits")}
    await feed.send(planned(3, "300", changed=True))
    after_change = {(row.period, row.amount, row.version) for row in await feed.rows("project_benefits")}

    # 2023-12 is P06 of the July-June year named by its end, FY2024.
    assert after_stale == {(period(6), Decimal("200"), 2), (period(7), Decimal("200"), 2)}
    assert after_change == {(period(6), Decimal("300"), 3), (period(7), Decimal("300"), 3)}


@pytest.mark.asyncio
async def test_every_forecast_version_is_kept(database: Database) -> None:
    feed = Feed(database)
    await feed.seed()

    await feed.send(forecast("WAGE", "6000000", version=2, origin=6))
    await feed.send(forecast("WAGE", "5000000", version=1, origin=5))
    await feed.send(forecast("WAGE", "6000000", version=2, origin=6))

    rows = await feed.rows("forecast_history")
    # Version 2 covers P07-P12 and version 1, which came late, P06-P12; the redelivery adds nothing.
    assert sorted({row.version for row in rows}) == [1, 2]
    assert len(rows) == 6 + 7
    assert {row.origin for row in rows if row.version == 1} == {period(5)}
