"""``ipm reconcile``: lost, duplicated and miscounted postings, per service and per series and period."""

import asyncio
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import insert

from ipm_cli.main import main
from ipm_cli.reconcile import (
    SentPosting,
    StoredLedger,
    StoredPosting,
    database_urls,
    read_sent_log,
    reconcile,
)
from ipm_common.calendar import FiscalCalendar
from ipm_common.storage import create_engine
from ipm_forecast.adapters import tables as forecast_tables
from ipm_performance.adapters import tables as performance_tables


def _batch(*postings: tuple[str, str]) -> str:
    return json.dumps({"batch_id": "B1", "postings": [
        {"source_id": source_id, "entity_id": "PHL", "account_id": "wage", "posting_date": "2023-08-15",
         "amount": amount, "currency": "USD"} for source_id, amount in postings]})


def _stored(source_id: str, ledger_amount: str, period: str = "FY2024-P02") -> StoredPosting:
    # "wage" is a credit-normal revenue account, so the natural amount is the ledger amount negated.
    return StoredPosting(source_id, "PHL", "wage", "", period, Decimal(ledger_amount), -Decimal(ledger_amount))


def test_sent_log_counts_a_retried_batch_once(tmp_path: Path) -> None:
    log = tmp_path / "sent.jsonl"
    log.write_text("\n".join([_batch(("a", "-100.10"), ("b", "-0.90")), _batch(("a", "-100.10")), ""]))

    sent = read_sent_log(log)

    assert [(posting.source_id, posting.ledger_amount) for posting in sent] == [
        ("a", Decimal("-100.10")), ("b", Decimal("-0.90"))]


def test_sent_log_rejects_line_without_postings(tmp_path: Path) -> None:
    log = tmp_path / "sent.jsonl"
    log.write_text('{"batch_id": "B1"}\n')

    with pytest.raises(ValueError, match=r"sent\.jsonl:1: not a posting batch"):
        read_sent_log(log)


def test_reconcile_counts_lost_and_duplicated() -> None:
    sent = [SentPosting(source_id, "PHL", "wage", "2023-08-15", Decimal(amount))
            for source_id, amount in (("a", "-100.10"), ("b", "-0.90"), ("c", "-5"))]
    # Forecast lost "c", stored "b" with another amount and "x", which was never sent: 1 lost, 2 duplicated.
    forecast = StoredLedger([_stored("a", "-100.10"), _stored("b", "-9.00"), _stored("x", "-1")])

    report = reconcile(sent, {"forecast": forecast}, {"forecast": 0})
    total = report.totals("forecast")

    assert (total.sent_count, total.sent_sum) == (3, Decimal("-106.00"))
    assert (total.stored_count, total.stored_sum) == (3, Decimal("-110.10"))
    assert (total.lost, total.duplicated) == (1, 2)
    assert not report.clean


def test_reconcile_flags_balance_counted_twice() -> None:
    sent = [SentPosting("a", "PHL", "wage", "2023-08-15", Decimal("-100.10"))]
    # The period balance should be the natural amount 100.10; 200.20 counts the posting twice.
    performance = StoredLedger([_stored("a", "-100.10")], {("PHL", "wage", "", "FY2024-P02"): Decimal("200.20")})

    report = reconcile(sent, {"performance": performance}, {"performance": 0})

    assert report.totals("performance").balance_differences == 1
    assert report.duplicated == 1


def test_reconcile_clean_needs_empty_outboxes() -> None:
    sent = [SentPosting("a", "PHL", "wage", "2023-08-15", Decimal("-100.10"))]
    ledger = StoredLedger([_stored("a", "-100.10")], {("PHL", "wage", "", "FY2024-P02"): Decimal("100.10")})

    assert reconcile(sent, {"performance": ledger}, {"performance": 0}).clean
    assert not reconcile(sent, {"performance": ledger}, {"performance": 2}).clean


def test_database_urls_rejects_unknown_service() -> None:
    with pytest.raises(ValueError, match="SERVICE=URL"):
        database_urls(["ledger=sqlite+aiosqlite:///x.db"], {})

    urls = database_urls(["forecast=sqlite+aiosqlite:///f.db"], {"IPM_PROJECTS_DATABASE_URL": "postgresql+asyncpg://p"})
    assert (urls["forecast"], urls["projects"]) == ("sqlite+aiosqlite:///f.db", "postgresql+asyncpg://p")
    assert urls["strategy"] == "sqlite+aiosqlite:///./data/strategy.db"


async def _create(urls: dict[str, str], stored: list[tuple[str, str]], balance: str, unpublished: int) -> None:
    now = datetime.now(UTC)
    for service, metadata in (("forecast", forecast_tables.metadata), ("performance", performance_tables.metadata)):
        engine = create_engine(urls[service])
        async with engine.begin() as connection:
            await connection.run_sync(metadata.create_all)
            common = [{"source_id": source_id, "entity_id": "PHL", "account_id": "wage", "cost_centre": "",
                       "period": "FY2024-P02", "posting_date": date(2023, 8, 15), "amount": -Decimal(amount),
                       "ledger_amount": Decimal(amount), "currency": "USD", "late": False, "batch_id": "B1",
                       "received_at": now} for source_id, amount in stored]
            if metadata is forecast_tables.metadata:
                # Fiscal years run July to June and are named by their end year: 15 August 2023 is FY2024-P02.
                calendar = FiscalCalendar(start_month=7, year_named_by="end").to_dict()
                await connection.execute(insert(forecast_tables.reference.entities), [{
                    "entity_id": "PHL", "name": "City", "currency": "USD", "calendar": json.dumps(calendar),
                    "version": 1}])
                await connection.execute(insert(forecast_tables.postings), [{**row, "channel": "http"}
                                                                            for row in common])
                await connection.execute(insert(forecast_tables.outbox), [
                    {"event_id": f"e{number}", "event_type": "t", "topic": "t", "key": "k", "payload": "{}",
                     "created_at": now} for number in range(unpublished)] or [])
            else:
                await connection.execute(insert(performance_tables.postings), common)
                await connection.execute(insert(performance_tables.balances), [{
                    "entity_id": "PHL", "account_id": "wage", "cost_centre": "", "period": "FY2024-P02",
                    "fiscal_year": 2024, "amount": Decimal(balance), "ledger_version": 1, "batch_id": "B1",
                    "updated_at": now}])
        await engine.dispose()


@pytest.mark.integration
def test_cli_exit_status_follows_differences(database_url: str, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "sent.jsonl"
    log.write_text(_batch(("a", "-100.10"), ("b", "-0.90")) + "\n")
    # Strategy and projects are pointed at the forecast database, whose outbox has the same shape as theirs.
    urls = {"strategy": database_url, "projects": database_url, "forecast": database_url,
            "performance": f"sqlite+aiosqlite:///{tmp_path / 'performance.db'}"}
    asyncio.run(_create(urls, [("a", "-100.10")], balance="100.10", unpublished=1))
    databases = [argument for service, url in urls.items() for argument in ("--database", f"{service}={url}")]

    status = main(["reconcile", "--sent", str(log), *databases])

    output = capsys.readouterr().out
    assert status == 1
    assert "forecast: sent 2 postings -101.00, stored 1 -100.10, lost 1, duplicated 0" in output
    assert "  PHL wage FY2024-P02: sent 2 -101.00, stored 1 -100.10, lost 1" in output
    assert "forecast: 1 outbox events unpublished" in output
    # The forecast outbox row counts for strategy, projects and forecast, which share that database here.
    assert output.splitlines()[-1] == "reconcile: 2 lost, 0 duplicated, 3 unpublished: NOT clean"
