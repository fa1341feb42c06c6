"""``ipm reconcile``: compare what an ERP sent with what every service stored.

The sent side is a log of posting batches exactly as the ERP sent them (one JSON batch body per
line, the body of ``POST /v1/actuals`` or a message of the ERP topic). The stored side is read from
the services' databases: the forecast ledger, the performance service's copy of the postings and
its period balances, and every service's outbox. A posting counts once per source id, as the
services count it, so an ERP that retried a batch has not sent anything twice.

Per service and per (entity, account, period) the report gives the count and sum sent and stored.
It counts a posting as lost when it was sent and not stored, and as duplicated when it was stored
but never sent, or stored with another amount. For performance it also counts the period balances
that differ from the sum of their postings. Outbox rows not yet published are counted per service.
"""

import argparse
import asyncio
import json
import os
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import Table, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ipm_common.calendar import FiscalCalendar
from ipm_common.errors import InvalidInput
from ipm_common.events import SERVICES
from ipm_common.money import parse_amount
from ipm_common.reference import ReferenceStore
from ipm_common.storage import create_engine

SeriesPeriod = tuple[str, str, str]
"""Entity, account and period of a posting."""

LEDGER_SERVICES = ("forecast", "performance")


@dataclass(frozen=True)
class SentPosting:
    source_id: str
    entity_id: str
    account_id: str
    period: str  # the posting date as sent, until a service derived the period
    ledger_amount: Decimal


@dataclass(frozen=True)
class StoredPosting:
    source_id: str
    entity_id: str
    account_id: str
    cost_centre: str
    period: str
    ledger_amount: Decimal
    amount: Decimal  # natural sign, functional currency


@dataclass(frozen=True)
class StoredLedger:
    """Ledger of one service: its stored postings and, where it keeps them, its period balances."""

    postings: Sequence[StoredPosting]
    balances: Mapping[tuple[str, str, str, str], Decimal] = field(default_factory=dict)


@dataclass
class Tally:
    sent_count: int = 0
    sent_sum: Decimal = Decimal(0)
    stored_count: int = 0
    stored_sum: Decimal = Decimal(0)
    lost: int = 0
    duplicated: int = 0
    balance_differences: int = 0

    @property
    def clean(self) -> bool:
        return self.lost == 0 and self.duplicated == 0 and self.balance_differences == 0


@dataclass
class Report:
    tallies: dict[str, dict[SeriesPeriod, Tally]]
    unpublished: dict[str, int]

    def totals(self, service: str) -> Tally:
        total = Tally()
        for tally in self.tallies.get(service, {}).values():
            total.sent_count += tally.sent_count
            total.sent_sum += tally.sent_sum
            total.stored_count += tally.stored_count
            total.stored_sum += tally.stored_sum
            total.lost += tally.lost
            total.duplicated += tally.duplicated
            total.balance_differences += tally.balance_differences
        return total

    @property
    def lost(self) -> int:
        return sum(self.totals(service).lost for service in self.tallies)

    @property
    def duplicated(self) -> int:
        return sum(self.totals(service).duplicated + self.totals(service).balance_differences
                   for service in self.tallies)

    @property
    def clean(self) -> bool:
        return self.lost == 0 and self.duplicated == 0 and not any(self.unpublished.values())


def read_sent_log(path: Path) -> list[SentPosting]:
    """Read a log of ERP posting batches, one JSON body per line; a repeated source id counts once."""
    postings: dict[str, SentPosting] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            batch = json.loads(line, parse_float=Decimal, parse_int=Decimal)
            for posting in batch["postings"]:
                sent = SentPosting(str(posting["source_id"]), str(posting["entity_id"]), str(posting["account_id"]),
                                   str(posting.get("period") or posting["posting_date"]),
                                   parse_amount(posting["amount"]))
                postings.setdefault(sent.source_id, sent)
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{path}:{number}: not a posting batch ({error}); each line must be the JSON body "
                             f"of one batch with postings[].source_id, entity_id, account_id, posting_date, "
                             f"amount") from error
    return list(postings.values())


def with_periods(sent: Sequence[SentPosting], calendars: Mapping[str, FiscalCalendar]) -> list[SentPosting]:
    """Replace each posting date by its fiscal period where the entity's calendar is known."""
    return [_with_period(posting, calendars.get(posting.entity_id)) for posting in sent]


def _with_period(posting: SentPosting, calendar: FiscalCalendar | None) -> SentPosting:
    if calendar is None:
        return posting
    try:
        period = calendar.period_of(date.fromisoformat(posting.period))
    except (ValueError, InvalidInput):
        return posting
    return replace(posting, period=str(period))


def reconcile(sent: Sequence[SentPosting], stored: Mapping[str, StoredLedger],
              unpublished: Mapping[str, int]) -> Report:
    """Compare the sent postings with each service's stored ledger."""
    by_id = {posting.source_id: posting for posting in sent}
    tallies = {service: _tally_service(by_id, ledger) for service, ledger in stored.items()}
    return Report(tallies, dict(unpublished))


def _tally_service(sent: Mapping[str, SentPosting], ledger: StoredLedger) -> dict[SeriesPeriod, Tally]:
    tallies: dict[SeriesPeriod, Tally] = defaultdict(Tally)
    stored_by_id: dict[str, list[StoredPosting]] = defaultdict(list)
    for stored in ledger.postings:
        stored_by_id[stored.source_id].append(stored)

    for source_id, posting in sent.items():
        copies = stored_by_id.get(source_id, [])
        tally = tallies[_key(copies[0] if copies else posting)]
        tally.sent_count += 1
        tally.sent_sum += posting.ledger_amount
        if not copies:
            tally.lost += 1

    for source_id, copies in stored_by_id.items():
        tally = tallies[_key(copies[0])]
        tally.stored_count += len(copies)
        tally.stored_sum += sum((copy.ledger_amount for copy in copies), Decimal(0))
        expected = sent.get(source_id)
        extra = len(copies) - 1 if expected is not None else len(copies)
        mismatched = sum(copy.ledger_amount != expected.ledger_amount for copy in copies) if expected else 0
        tally.duplicated += extra + mismatched

    for key, difference in _balance_differences(ledger).items():
        tallies[key].balance_differences += difference
    return dict(tallies)


def _key(posting: SentPosting | StoredPosting) -> SeriesPeriod:
    return posting.entity_id, posting.account_id, posting.period


def _balance_differences(ledger: StoredLedger) -> dict[SeriesPeriod, int]:
    """Count the period balances that differ from the sum of the stored postings of their series and period."""
    if not ledger.balances:
        return {}
    sums: dict[tuple[str, str, str, str], Decimal] = defaultdict(Decimal)
    for posting in ledger.postings:
        sums[posting.entity_id, posting.account_id, posting.cost_centre, posting.period] += posting.amount
    differences: dict[SeriesPeriod, int] = defaultdict(int)
    for key, total in sums.items():
        if ledger.balances.get(key, Decimal(0)) != total:
            differences[key[0], key[1], key[3]] += 1
    return dict(differences)


async def read_ledger(service: str, url: str) -> StoredLedger:
    """Read the postings (and, for performance, the period balances) that ``service`` stored at ``url``."""
    engine = create_engine(url)
    try:
        if service == "forecast":
            from ipm_forecast.adapters import tables as forecast_tables

            return StoredLedger(await _postings(engine, forecast_tables.postings))

        from ipm_performance.adapters import tables as performance_tables

        balances = performance_tables.balances
        async with engine.connect() as connection:
            rows = (await connection.execute(select(
                balances.c.entity_id, balances.c.account_id, balances.c.cost_centre, balances.c.period,
                balances.c.amount))).all()
        return StoredLedger(await _postings(engine, performance_tables.postings),
                            {(row[0], row[1], row[2], row[3]): row[4] for row in rows})
    finally:
        await engine.dispose()


async def _postings(engine: AsyncEngine, table: Table) -> list[StoredPosting]:
    columns = table.c
    async with engine.connect() as connection:
        rows = (await connection.execute(select(
            columns.source_id, columns.entity_id, columns.account_id, columns.cost_centre, columns.period,
            columns.ledger_amount, columns.amount))).all()
    return [StoredPosting(*row) for row in rows]


async def count_unpublished(url: str) -> int:
    """Count the outbox rows at ``url`` that the relay has not published yet."""
    from ipm_forecast.adapters.tables import outbox  # every service's outbox has the same shape

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            count = (await connection.execute(
                select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None)))).scalar_one()
        return int(count)
    finally:
        await engine.dispose()


def format_report(report: Report, *, detail: bool) -> Iterable[str]:
    """Yield the report's lines: one per service, the (entity, account, period) rows that are not clean."""
    for service, tallies in report.tallies.items():
        total = report.totals(service)
        yield (f"{service}: sent {total.sent_count} postings {total.sent_sum}, stored {total.stored_count} "
               f"{total.stored_sum}, lost {total.lost}, duplicated {total.duplicated}, "
               f"balances off {total.balance_differences}")
        for (entity_id, account_id, period), tally in sorted(tallies.items()):
            if detail or not tally.clean:
                yield (f"  {entity_id} {account_id} {period}: sent {tally.sent_count} {tally.sent_sum}, stored "
                       f"{tally.stored_count} {tally.stored_sum}, lost {tally.lost}, duplicated {tally.duplicated}, "
                       f"balances off {tally.balance_differences}")
    for service, count in report.unpublished.items():
        yield f"{service}: {count} outbox events unpublished"
    verdict = "clean" if report.clean else "NOT clean"
    yield (f"reconcile: {report.lost} lost, {report.duplicated} duplicated, "
           f"{sum(report.unpublished.values())} unpublished: {verdict}")


def add_parser(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    parser = commands.add_parser("reconcile", help="compare the postings an ERP sent with what each service stored")
    parser.add_argument("--sent", type=Path, required=True,
                        help="log of the posting batches sent, one JSON batch body per line")
    parser.add_argument("--database", action="append", default=[], metavar="SERVICE=URL",
                        help="a service's database URL (default: $IPM_<SERVICE>_DATABASE_URL, "
                             "else sqlite+aiosqlite:///./data/<service>.db)")
    parser.add_argument("--detail", action="store_true", help="print every (entity, account, period), not only "
                                                              "those with a difference")


def database_urls(overrides: Sequence[str], environment: Mapping[str, str]) -> dict[str, str]:
    """Return each service's database URL: ``SERVICE=URL`` overrides, then the environment, then the default."""
    urls = {service: environment.get(f"IPM_{service.upper()}_DATABASE_URL",
                                      f"sqlite+aiosqlite:///./data/{service}.db") for service in SERVICES}
    for override in overrides:
        service, separator, url = override.partition("=")
        if not separator or service not in urls or not url:
            raise ValueError(f"--database {override!r} is invalid; write SERVICE=URL with SERVICE one of "
                             f"{', '.join(SERVICES)}")
        urls[service] = url
    return urls


def run(arguments: argparse.Namespace) -> int:
    """Print the reconciliation report; return 1 when anything was lost, duplicated or left unpublished."""
    try:
        urls = database_urls(arguments.database, os.environ)
        sent = read_sent_log(arguments.sent)
    except (OSError, ValueError) as error:
        print(f"ipm reconcile: {error}")
        return 2

    report = asyncio.run(_read_and_reconcile(sent, urls))
    for line in format_report(report, detail=arguments.detail):
        print(line)
    return 0 if report.clean else 1


async def read_calendars(url: str) -> dict[str, FiscalCalendar]:
    """Read the fiscal calendars of the entities registered in the forecast database."""
    from ipm_forecast.adapters import tables as forecast_tables

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            entities = await ReferenceStore(forecast_tables.reference).entities(connection)
        return {entity_id: entity.calendar for entity_id, entity in entities.items()}
    finally:
        await engine.dispose()


async def reconcile_when_published(sent: Sequence[SentPosting], urls: Mapping[str, str], *,
                                   wait_seconds: float = 30.0) -> Report:
    """Wait until every outbox is empty, for at most ``wait_seconds``, then reconcile ``sent`` with the databases."""
    deadline = asyncio.get_running_loop().time() + wait_seconds
    while asyncio.get_running_loop().time() < deadline:
        if not any([await count_unpublished(url) for url in urls.values()]):
            break
        await asyncio.sleep(0.2)
    return await _read_and_reconcile(sent, urls)


async def _read_and_reconcile(sent: Sequence[SentPosting], urls: Mapping[str, str]) -> Report:
    sent = with_periods(sent, await read_calendars(urls["forecast"]))
    stored = {service: await read_ledger(service, urls[service]) for service in LEDGER_SERVICES}
    unpublished = {service: await count_unpublished(url) for service, url in urls.items()}
    return reconcile(sent, stored, unpublished)
