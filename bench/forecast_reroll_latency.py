"""Time the re-roll of one series through the forecast service layer on a temporary SQLite file.

The database is migrated and seeded with one entity and one revenue account, then 60 months of
actuals are ingested. Each repetition ingests one new actual into month 61, untimed. It reverses
the previous repetition's actual, so month 61 keeps one value. Then it times ``reroll_batch`` for
that series in its own transaction, which loads the ledger and the other forecast inputs, fits 61
months, stores the new forecast version and writes the ``forecast re-rolled`` event to the
outbox. No broker is involved, because the relay publishes the outbox separately.
"""

import calendar
import tempfile
import time
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ipm_common.dispatch import new_event
from ipm_common.events import AccountDefined, EntityRegistered
from ipm_common.migrations import upgrade
from ipm_common.storage import Database, create_engine
from ipm_forecast.adapters import repository, tables
from ipm_forecast.domain.ledger import PostingRequest
from ipm_forecast.entrypoints.cli import MIGRATIONS
from ipm_forecast.service_layer.ingestion import ingest_batch
from ipm_forecast.service_layer.rerolling import RerollRequest, Trigger, reroll_batch

ENTITY = "BENCH"
ACCOUNT = "sales"
FIRST_MONTH = date(2018, 7, 1)
CALENDAR = {"start_month": 7, "start_day": 1, "year_named_by": "end"}

ENTITY_EVENT = EntityRegistered(entity_id=ENTITY, name="Benchmark entity", currency="USD", calendar=CALENDAR,
                                version=1)
ACCOUNT_EVENT = AccountDefined(account_id=ACCOUNT, name="Sales", account_type="revenue",
                               statement="income_statement", normal_balance="credit",
                               direction="higher_is_better", version=1)


async def time_service_reroll(window: npt.NDArray[np.float64], repetitions: int, horizon: int) -> list[float]:
    """Return the milliseconds of each re-roll after one new actual; ``window`` gives 61 monthly values."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'forecast.db'}"
        upgrade(MIGRATIONS, url)
        database = Database(create_engine(url), tables.outbox, tables.inbox)
        try:
            await _seed(database, window[:-1])
            return [await _post_and_reroll(database, Decimal(f"{window[-1]:.2f}"), number, horizon)
                    for number in range(repetitions)]
        finally:
            await database.dispose()


async def _seed(database: Database, history: npt.NDArray[np.float64]) -> None:
    store = repository.reference
    async with database.transaction() as transaction:
        await store.on_entity_registered(transaction, new_event("bench", ENTITY_EVENT, correlation_id="seed"),
                                         ENTITY_EVENT)
    async with database.transaction() as transaction:
        await store.on_account_defined(transaction, new_event("bench", ACCOUNT_EVENT, correlation_id="seed"),
                                       ACCOUNT_EVENT)

    postings = [_posting(f"history-{month}", Decimal(f"{value:.2f}"), month) for month, value in enumerate(history)]
    await ingest_batch(database, postings, batch_id="history", channel="http")


async def _post_and_reroll(database: Database, amount: Decimal, number: int, horizon: int) -> float:
    batch_id = f"new-actual-{number}"
    postings = [_posting(batch_id, amount, 60)]
    if number > 0:
        previous = f"new-actual-{number - 1}"
        postings.insert(0, replace(_posting(f"reversal-{number}", -amount, 60), reverses=previous))
    await ingest_batch(database, postings, batch_id=batch_id, channel="http")

    # The re-roll records only the id, type and correlation id of the event that requested it.
    envelope = new_event("bench", ACCOUNT_EVENT, correlation_id=batch_id)
    request = RerollRequest(Trigger.of(envelope), ENTITY, ACCOUNT, "", batch_id, 1)
    started = time.perf_counter()
    async with database.transaction() as transaction:
        await reroll_batch(transaction, [request], horizon=horizon)
    return (time.perf_counter() - started) * 1000.0


def _posting(source_id: str, amount: Decimal, month: int) -> PostingRequest:
    """Post ``amount`` of revenue on the last day of month number ``month`` after ``FIRST_MONTH``."""
    year, month_of_year = divmod(FIRST_MONTH.month - 1 + month, 12)
    year += FIRST_MONTH.year
    day = date(year, month_of_year + 1, calendar.monthrange(year, month_of_year + 1)[1])
    # Revenue is credit-normal: the ERP posts it as a negative (credit) amount.
    return PostingRequest(source_id, ENTITY, ACCOUNT, "", day, -amount, "USD")
