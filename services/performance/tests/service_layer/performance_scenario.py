"""Event builders and a feed that runs envelopes through the service's dispatcher and reads the outbox.

The scenario is one entity, PHL, in FY2024. Wage tax has a budget of 6,000,000 a month and a target
of 80,000,000 without a band of its own. BIRT has a budget of 3,000,000 a month. Both sit under the
node TAX, whose target is 110,000,000 with a band of 5 % and 1,000,000. Parking sits under OTHER.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import select

from ipm_common.dispatch import new_event, parse_data
from ipm_common.envelope import Envelope, decode, encode
from ipm_common.events import (
    CATALOGUE,
    SPEC_BY_MODEL,
    AccountDefined,
    ActualsPosted,
    BudgetApproved,
    BudgetLine,
    BudgetPeriod,
    EntityRegistered,
    EventData,
    ForecastPoint,
    ForecastRerolled,
    HierarchyChanged,
    HierarchyEdge,
    PeriodBalance,
    PostedLine,
    TargetLine,
    TargetsSet,
)
from ipm_common.messaging import ConsumedMessage
from ipm_common.periods import PeriodKey
from ipm_common.storage import Database
from ipm_performance.adapters import tables
from ipm_performance.domain.alerts import alert_id
from ipm_performance.entrypoints.subscriptions import build_batch_dispatcher, build_dispatcher

ENTITY = "PHL"
FY = 2024
EventType = TypeVar("EventType", bound=EventData)

WAGE_TARGET_ALERT = alert_id(ENTITY, "WAGE", "FY2024", "outlook_vs_target", "strategic_target_band")
TAX_TARGET_ALERT = alert_id(ENTITY, "TAX", "FY2024", "outlook_vs_target", "strategic_target_band")
BIRT_YTD_ALERT = alert_id(ENTITY, "BIRT", "FY2024-P01", "actual_vs_budget_ytd", "budget_variance")


def period(number: int, fiscal_year: int = FY) -> str:
    return f"FY{fiscal_year}-P{number:02d}"


# --- event builders ------------------------------------------------------------------------------


def reference_events() -> list[EventData]:
    calendar: dict[str, str | int | None] = {"start_month": 7, "year_named_by": "end"}
    events: list[EventData] = [EntityRegistered(entity_id=ENTITY, name="City of Philadelphia", currency="USD",
                                                calendar=calendar, version=1)]
    for account_id, name in (("WAGE", "Wage tax"), ("BIRT", "Business income and receipts tax"),
                             ("PARKING", "Parking tax")):
        events.append(AccountDefined(account_id=account_id, name=name, account_type="revenue",
                                     statement="income_statement", normal_balance="credit",
                                     direction="higher_is_better", version=1))
    events.append(AccountDefined(account_id="PAYROLL", name="Payroll", account_type="expense",
                                 statement="income_statement", normal_balance="debit", direction="lower_is_better",
                                 version=1))
    events.append(hierarchy({"WAGE": "TAX", "BIRT": "TAX", "PARKING": "OTHER"}, version=1))
    return events


def hierarchy(parent_of: dict[str, str], version: int) -> HierarchyChanged:
    edges = tuple(HierarchyEdge(child=child, parent=parent) for child, parent in parent_of.items())
    return HierarchyChanged(hierarchy="revenue", dimension="account", edges=edges, version=version)


def targets(version: int = 1, wage_target: str = "80000000", fiscal_year: int = FY) -> TargetsSet:
    lines = (
        TargetLine(line="WAGE", fiscal_year=fiscal_year, amount=Decimal(wage_target), band_pct=Decimal(0),
                   band_absolute=Decimal(0)),
        TargetLine(line="TAX", fiscal_year=fiscal_year, amount=Decimal("110000000"), band_pct=Decimal("0.05"),
                   band_absolute=Decimal("1000000")),
    )
    return TargetsSet(entity_id=ENTITY, plan_id="plan-2024", plan_name="Five-year plan", targets=lines,
                      version=version)


def budget(version: int = 1, wage_monthly: str = "6000000") -> BudgetApproved:
    def line(account: str, monthly: str) -> BudgetLine:
        periods = tuple(BudgetPeriod(period=period(number), amount=Decimal(monthly)) for number in range(1, 13))
        return BudgetLine(line=account, annual=Decimal(monthly) * 12, spread_method="even", periods=periods)

    return BudgetApproved(entity_id=ENTITY, budget_id=f"budget-{version}", fiscal_year=FY, version=version,
                          approved_by="budget office", lines=(line("WAGE", wage_monthly), line("BIRT", "3000000")))


def actuals(account: str, monthly: dict[int, str], *, ledger_version: int = 1, batch_id: str = "batch-1",
            series_count: int = 2, source_prefix: str | None = None, fiscal_year: int = FY,
            cost_centre: str | None = None) -> ActualsPosted:
    prefix = source_prefix or "-".join(part for part in (batch_id, account, cost_centre) if part)
    postings = tuple(
        PostedLine(source_id=f"{prefix}-{number}", period=period(number, fiscal_year), posting_date=date(2024, 1, 15),
                   amount=Decimal(amount), ledger_amount=-Decimal(amount), currency="USD")
        for number, amount in monthly.items()
    )
    balances = tuple(PeriodBalance(period=period(number, fiscal_year), amount=Decimal(amount),
                                   ledger_version=ledger_version) for number, amount in monthly.items())
    return ActualsPosted(entity_id=ENTITY, account_id=account, cost_centre=cost_centre, currency="USD",
                         batch_id=batch_id, batch_series_count=series_count, postings=postings, balances=balances)


def first_half(amount: str) -> dict[int, str]:
    return {number: amount for number in range(1, 7)}


def forecast(account: str, monthly: str, *, version: int = 1, origin: int = 6, batch_id: str = "batch-1",
             series_count: int = 2, ledger_version: int = 1, fiscal_year: int = FY,
             horizon: int | None = None, cost_centre: str | None = None) -> ForecastRerolled:
    """Forecast ``monthly`` for every period after the origin: to the year's end, or ``horizon`` periods."""
    start = PeriodKey(fiscal_year, origin)
    months = 12 - origin if horizon is None else horizon
    points = tuple(ForecastPoint(period=str(start.shift(step)), baseline=Decimal(monthly), value=Decimal(monthly),
                                 p10=Decimal(monthly), p90=Decimal(monthly)) for step in range(1, months + 1))
    return ForecastRerolled(entity_id=ENTITY, account_id=account, cost_centre=cost_centre,
                            forecast_id=f"{account}-{cost_centre or ''}-{version}",
                            version=version, origin=str(start), method="seasonal_naive", clamped=False,
                            ledger_version=ledger_version, batch_id=batch_id, batch_series_count=series_count,
                            points=points)


# --- the feed ------------------------------------------------------------------------------------


@dataclass
class Feed:
    """Deliver envelopes to the performance dispatcher and read what the service stored and published."""

    database: Database
    offset: int = 0

    def __post_init__(self) -> None:
        self.dispatcher = build_dispatcher(self.database)
        self.batch_dispatcher = build_batch_dispatcher(self.database)

    async def send(self, data: EventData, correlation_id: str = "corr-1") -> Envelope:
        envelope = new_event("test-producer", data, correlation_id=correlation_id)
        await self.deliver(envelope)
        return envelope

    async def send_all(self, events: list[EventData], correlation_id: str = "corr-setup") -> None:
        for data in events:
            await self.send(data, correlation_id)

    async def deliver(self, envelope: Envelope) -> None:
        self.offset += 1
        message = ConsumedMessage(CATALOGUE[envelope.type].topic, 0, self.offset, None, encode(envelope))
        await self.dispatcher(message)

    async def send_fetch(self, events: list[EventData], correlation_id: str = "corr-1") -> list[Envelope]:
        """Deliver events as one fetch through the batch dispatcher, as the consume loop does."""
        envelopes = [new_event("test-producer", data, correlation_id=correlation_id) for data in events]
        await self.deliver_fetch(envelopes)
        return envelopes

    async def deliver_fetch(self, envelopes: list[Envelope]) -> None:
        messages = []
        for envelope in envelopes:
            self.offset += 1
            messages.append(ConsumedMessage(CATALOGUE[envelope.type].topic, 0, self.offset, None, encode(envelope)))
        assert await self.batch_dispatcher(messages) == []

    async def seed(self) -> None:
        await self.send_all([*reference_events(), targets(), budget()])

    async def outbox(self) -> list[Envelope]:
        async with self.database.reading() as connection:
            rows = (await connection.execute(select(tables.outbox.c.payload).order_by(
                tables.outbox.c.position))).scalars().all()
        return [decode(payload.encode("utf-8")) for payload in rows]

    async def published(self, model: type[EventType]) -> list[EventType]:
        wanted = SPEC_BY_MODEL[model].type
        return [parse_data(envelope) for envelope in await self.outbox() if envelope.type == wanted]  # type: ignore[misc]

    async def variance(self, line: str, comparison: str, period_text: str) -> Any:
        table = tables.variance_lines
        async with self.database.reading() as connection:
            return (await connection.execute(select(table).where(
                table.c.entity_id == ENTITY, table.c.line == line, table.c.comparison == comparison,
                table.c.period == period_text))).first()

    async def rows(self, table_name: str) -> list[Any]:
        table = tables.metadata.tables[table_name]
        async with self.database.reading() as connection:
            return list((await connection.execute(select(table))).all())


async def run_first_batch(feed: Feed) -> None:
    """Post six months of wage tax and BIRT on budget, then both forecasts on budget too, as batch-1."""
    await feed.seed()
    await feed.send(actuals("WAGE", first_half("6000000")), "batch-1")
    await feed.send(actuals("BIRT", first_half("3000000")), "batch-1")
    await feed.send(forecast("WAGE", "6000000"), "batch-1")
    await feed.send(forecast("BIRT", "3000000"), "batch-1")
