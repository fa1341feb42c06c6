"""Property tests: duplicated, reordered and reversed deliveries count each posting exactly once.

The ledger model applies batches as the forecast service does: ``plan_batch`` decides, and a
batch without errors is stored whole, marking the originals that its reversals cancel. An ERP
resends a rejected batch later, so every delivery plan ends with one delivery of everything in
source order, and a posting plus its reversal must then net to zero exactly once.
"""

import asyncio
import shutil
import tempfile
from dataclasses import replace
from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import MetaData, func, select

from ipm_common.calendar import FiscalCalendar
from ipm_common.envelope import Envelope
from ipm_common.fx import RateTable
from ipm_common.reference import Account, Entity
from ipm_common.storage import Database, create_engine, define_inbox, define_outbox
from ipm_forecast.domain.ledger import LedgerContext, PostingRequest, StoredPosting, plan_batch

CITY = Entity("CITY", "City", "USD", FiscalCalendar(start_month=7, year_named_by="end"))
REVENUE = Account("tax", "Tax", "revenue", "income_statement", "credit", "higher_is_better", True)

PostingIndex = int
Delivery = list[tuple[PostingIndex, bool]]  # (posting number, reversal or original) in delivery order


def _original(number: int, cents: int) -> PostingRequest:
    return PostingRequest(f"gl-{number}", "CITY", "tax", "", date(2022, 7, 31), Decimal(cents) / 100, "USD")


def _reversal(original: PostingRequest) -> PostingRequest:
    return replace(original, source_id=f"{original.source_id}-rev", amount=-original.amount,
                   reverses=original.source_id)


class LedgerModel:
    """Stored postings by source id, changed only by batches that ``plan_batch`` accepts whole."""

    def __init__(self) -> None:
        self.stored: dict[str, StoredPosting] = {}
        self.accepted_rows: list[PostingRequest] = []

    def deliver(self, batch: list[PostingRequest]) -> bool:
        context = LedgerContext(entities={"CITY": CITY}, accounts={"tax": REVENUE}, closed_periods=set(),
                                stored=self.stored, latest_period={}, rates=RateTable("USD", []))
        plan = plan_batch(batch, context)
        if plan.errors:
            return False
        for posting in plan.accepted:
            line = posting.request
            self.accepted_rows.append(line)
            self.stored[line.source_id] = StoredPosting(line.source_id, line.entity_id, line.account_id,
                                                        line.cost_centre, line.posting_date, line.amount,
                                                        line.currency, line.reverses, None)
            if line.reverses is not None:
                self.stored[line.reverses] = replace(self.stored[line.reverses], reversed_by=line.source_id)
        return True


amounts = st.integers(min_value=-10_000_000, max_value=10_000_000).filter(lambda cents: cents != 0)


@st.composite
def postings_and_deliveries(draw: st.DrawFn) -> tuple[list[PostingRequest], set[int], list[list[PostingRequest]]]:
    """Draw postings, which of them are reversed, and batches with duplicates in random order."""
    originals = [_original(number, cents) for number, cents in enumerate(draw(st.lists(amounts, min_size=1,
                                                                                       max_size=8)))]
    reversed_numbers = draw(st.sets(st.integers(0, len(originals) - 1)))
    lines = [*originals, *(_reversal(originals[number]) for number in sorted(reversed_numbers))]
    batches = draw(st.lists(st.lists(st.sampled_from(lines), min_size=1, max_size=12), max_size=10))
    # The ERP's final resend: everything once, originals before their reversals.
    return originals, reversed_numbers, [*batches, lines]


@settings(max_examples=300, deadline=None)
@given(postings_and_deliveries())
def test_each_source_id_counts_once(case: tuple[list[PostingRequest], set[int], list[list[PostingRequest]]]) -> None:
    originals, reversed_numbers, batches = case
    ledger = LedgerModel()

    for batch in batches:
        ledger.deliver(batch)

    source_ids = [row.source_id for row in ledger.accepted_rows]
    assert len(source_ids) == len(set(source_ids))
    assert len(source_ids) == len(originals) + len(reversed_numbers)


@settings(max_examples=300, deadline=None)
@given(postings_and_deliveries())
def test_posting_and_reversal_net_to_zero(case: tuple[list[PostingRequest], set[int], list[list[PostingRequest]]]
                                          ) -> None:
    originals, reversed_numbers, batches = case
    ledger = LedgerModel()

    for batch in batches:
        ledger.deliver(batch)

    total = sum((row.amount for row in ledger.accepted_rows), Decimal(0))
    # Reversed postings cancel; the balance is the sum of the originals that stay.
    expected = sum((original.amount for number, original in enumerate(originals) if number not in reversed_numbers),
                   Decimal(0))
    assert total == expected
    for number in reversed_numbers:
        pair = [row.amount for row in ledger.accepted_rows if row.source_id in (f"gl-{number}", f"gl-{number}-rev")]
        assert len(pair) == 2
        assert sum(pair, Decimal(0)) == 0


@settings(max_examples=200, deadline=None)
@given(st.lists(amounts, min_size=1, max_size=6))
def test_second_reversal_of_one_posting_is_rejected(cents: list[int]) -> None:
    ledger = LedgerModel()
    originals = [_original(number, amount) for number, amount in enumerate(cents)]
    ledger.deliver(originals)
    first = _reversal(originals[0])
    second = replace(first, source_id="gl-0-rev-again")

    assert ledger.deliver([first])
    assert not ledger.deliver([second])
    assert sum((row.amount for row in ledger.accepted_rows if row.source_id.startswith("gl-0")), Decimal(0)) == 0


def _envelope(number: int) -> Envelope:
    return Envelope(id=f"event-{number}", source="ipm.tests", type="ipm.tests.happened", correlationid="c",
                    schemaversion="1.0", data={})


async def _apply_to_inbox(deliveries: list[int]) -> tuple[list[int], int]:
    """Deliver events by number through ``mark_processed`` on SQLite; return those applied and the inbox size."""
    metadata = MetaData()
    folder = tempfile.mkdtemp(prefix="ipm-inbox-")
    database = Database(create_engine(f"sqlite+aiosqlite:///{folder}/inbox.db"), define_outbox(metadata),
                        define_inbox(metadata))
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
        applied = []
        for number in deliveries:
            async with database.transaction() as transaction:
                if await transaction.mark_processed("tests.consumer", _envelope(number)):
                    applied.append(number)
        async with database.reading() as connection:
            rows = (await connection.execute(select(func.count()).select_from(database.inbox))).scalar_one()
        return applied, int(rows)
    finally:
        await database.dispose()
        shutil.rmtree(folder, ignore_errors=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(0, 15), max_size=40))
def test_inbox_applies_each_event_once(deliveries: list[int]) -> None:
    applied, inbox_rows = asyncio.run(_apply_to_inbox(deliveries))

    # Each distinct event applies once, at its first delivery, whatever the order and repeats.
    assert applied == list(dict.fromkeys(deliveries))
    assert inbox_rows == len(set(deliveries))
