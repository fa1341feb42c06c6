"""The fault scenarios. Each injects its faults while real batches flow and returns what it injected.

A scenario takes the suite and its pass number. Passes differ in the service hit and in the
count at which a fault point fires, so three passes crash at three different points.
"""

import asyncio
import json
import logging
import random
import signal
import sqlite3
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ipm_cli.demo import philadelphia as phl
from ipm_cli.faults import checks
from ipm_cli.faults.suite import Outcome, Suite
from ipm_cli.faults.traffic import ERP_TOPIC
from ipm_common.dead_letters import dead_letter_topics, read_dead_letters
from ipm_common.events import Topics

logger = logging.getLogger(__name__)

# The services' consumers use a 6 s session timeout (ipm_common.consumer). A longer pause makes
# the group coordinator evict the member and hand its partitions to another instance.
ZOMBIE_PAUSE_SECONDS = 9.0

# The time a partition may stay blocked behind a poison message before the next message counts as stuck.
NEXT_MESSAGE_SECONDS = 30.0

# June 2013, the month before the Philadelphia data starts, so no real batch ever posts into it.
CLOSED_PERIOD = "FY2013-P12"
CLOSED_PERIOD_DATE = "2013-06-30"

Scenario = Callable[[Suite, int], Awaitable[Outcome]]


async def _post_batches(suite: Suite, count: int, *, channel: str = "http", pause: float = 0.0) -> list[str]:
    posted = []
    for _ in range(count):
        batch = await suite.traffic.next_batch()
        if channel == "topic":
            await suite.traffic.post_topic(batch)
        else:
            await suite.traffic.post_http(batch)
        posted.append(str(batch["batch_id"]))
        await asyncio.sleep(pause)
    return posted


async def duplicate_delivery(suite: Suite, number: int) -> Outcome:
    """Deliver each batch 1-5 times over HTTP and the ERP topic, then to a second instance past a zombie."""
    outcome = Outcome(f"duplicate-delivery#{number}")
    choices = random.Random(number)
    for _ in range(2):
        batch = await suite.traffic.next_batch()
        copies = choices.randint(2, 5)
        for copy in range(copies):
            if copy % 2 == 0:
                await suite.traffic.post_http(batch)
            else:
                await suite.traffic.post_topic(batch)
        outcome.inject(f"{batch['batch_id']} delivered {copies} times", copies - 1)

    second = await suite.start_instance("forecast", "forecast-2")
    suite.stack.send_signal("forecast", signal.SIGSTOP)
    try:
        await asyncio.sleep(ZOMBIE_PAUSE_SECONDS)
        batch = await suite.traffic.next_batch()
        await suite.traffic.post_topic(batch)
        await suite.traffic.post_http(batch, second)
        await suite.traffic.post_topic(batch)
    finally:
        suite.stack.send_signal("forecast", signal.SIGCONT)
    outcome.inject(f"forecast paused {ZOMBIE_PAUSE_SECONDS:.0f} s (zombie) while forecast-2 took "
                   f"{batch['batch_id']} 3 times", 3)
    await checks.wait_quiescent(suite.instance_urls())
    await suite.stop_instance("forecast-2")
    return outcome


async def _crash_at(suite: Suite, outcome: Outcome, service: str, point: str, count: int, channel: str) -> None:
    """Arm ``point`` in ``service``, post until it dies there, restart it disarmed and finish posting."""
    await suite.restart(service, {"IPM_FAULT_POINTS": f"{point}={count}"})
    posting = asyncio.create_task(_post_batches(suite, 3, channel=channel, pause=0.5))
    crashed = await suite.wait_crash(service)
    await suite.restart(service)
    await posting
    if crashed:
        outcome.inject(f"kill -9 of {service} at {point} pass {count}")
    else:
        outcome.failures.append(f"{service} never reached {point} pass {count}")


async def consumer_crash(suite: Suite, number: int) -> Outcome:
    """Kill a consumer after its database commit and before its offset commit, then restart it."""
    outcome = Outcome(f"consumer-crash#{number}")
    service = ("forecast", "performance", "forecast")[number % 3]
    await _crash_at(suite, outcome, service, "consumer.after_db_commit", number + 1, "topic")
    return outcome


async def relay_crash(suite: Suite, number: int) -> Outcome:
    """Kill the outbox relay after the broker acknowledged and before the rows were marked published."""
    outcome = Outcome(f"relay-crash#{number}")
    service = ("forecast", "performance", "forecast")[number % 3]
    await _crash_at(suite, outcome, service, "relay.after_send", number + 1, "http")
    return outcome


async def commit_publish_crash(suite: Suite, number: int) -> Outcome:
    """Kill forecast between a commit and the relay's publish; then check that a lost posting is detected."""
    outcome = Outcome(f"commit-publish-crash#{number}")
    await _crash_at(suite, outcome, "forecast", "storage.after_commit", number + 1, "http")
    await checks.wait_quiescent(suite.instance_urls())
    outcome.negative_control_detected = await _negative_control(suite, number)
    outcome.inject("a posting logged as sent and never delivered")
    return outcome


async def _negative_control(suite: Suite, number: int) -> bool:
    """Reconcile a copy of the sent log plus one undelivered posting; the reconciler must report it lost."""
    control_log = suite.run_dir / f"negative-control-{number}.jsonl"
    undelivered = {"batch_id": f"never-delivered-{number}", "postings": [{
        "source_id": f"never-delivered-{number}", "entity_id": phl.ENTITY, "account_id": "sales",
        "posting_date": "2014-07-31", "amount": "-1.00", "currency": "USD"}]}
    control_log.write_text(suite.sent_log.read_text(encoding="utf-8") + json.dumps(undelivered) + "\n",
                           encoding="utf-8")
    report = await checks.reconcile_stack(control_log, suite.database_urls)
    # One posting missing from each of the two ledgers (forecast and performance).
    return report.lost == 2 and not report.clean


async def rebalance_storm(suite: Suite, number: int) -> Outcome:
    """Add a second performance instance, stall the first one repeatedly, stop the second one mid-traffic."""
    outcome = Outcome(f"rebalance-storm#{number}")
    await suite.start_instance("performance", "performance-2")
    outcome.inject("performance-2 joined the groups")
    posting = asyncio.create_task(_post_batches(suite, 3, pause=1.0))
    for _ in range(3):
        suite.stack.send_signal("performance", signal.SIGSTOP)
        await asyncio.sleep(1.5)
        suite.stack.send_signal("performance", signal.SIGCONT)
        await asyncio.sleep(0.5)
    outcome.inject("performance stalled 1.5 s three times", 3)
    await suite.stop_instance("performance-2")
    outcome.inject("performance-2 stopped during traffic")
    await posting
    return outcome


async def broker_pause(suite: Suite, number: int) -> Outcome:
    """Freeze the broker (SIGSTOP) for 3 s, and 30 s in a full run, while batches are posted over HTTP."""
    outcome = Outcome(f"broker-pause#{number}")
    pauses = (3.0,) if suite.quick else (3.0, 30.0)
    for seconds in pauses:
        posting = asyncio.create_task(_post_batches(suite, 2, pause=0.5))
        suite.broker.pause()
        try:
            await asyncio.sleep(seconds)
        finally:
            suite.broker.resume()
        await posting
        outcome.inject(f"broker paused {seconds:.0f} s")
    return outcome


async def database_outage(suite: Suite, number: int) -> Outcome:
    """Stop PostgreSQL with ``-m immediate`` for 30 s while batches are posted, then start it again."""
    outcome = Outcome(f"database-outage#{number}")
    if suite.postgres is None:
        outcome.skipped = "the services run on SQLite"
        return outcome
    posting = asyncio.create_task(_post_batches(suite, 2, pause=1.0))
    await asyncio.to_thread(suite.postgres.stop_immediately)
    try:
        await asyncio.sleep(30.0)
    finally:
        await asyncio.to_thread(suite.postgres.start)
    await posting
    outcome.inject("PostgreSQL stopped (immediate) for 30 s")
    return outcome


async def sqlite_full(suite: Suite, number: int) -> Outcome:
    """Cap forecast's SQLite database a few pages above its size while batches arrive, then lift the cap."""
    outcome = Outcome(f"sqlite-full#{number}")
    if suite.postgres is not None:
        outcome.skipped = "the services run on PostgreSQL; run with --sqlite"
        return outcome
    path = suite.database_urls["forecast"].removeprefix("sqlite+aiosqlite:///")
    pages = await asyncio.to_thread(_page_count, path)
    await suite.restart("forecast", {"IPM_FAULT_SQLITE_MAX_PAGES": str(pages + 4)})
    log = suite.stack.data_dir / "forecast.log"
    full_before = await asyncio.to_thread(_count_in_file, log, FULL_MESSAGE)
    posting = asyncio.create_task(_post_batches(suite, 2, pause=0.5))
    await asyncio.sleep(8.0)
    await suite.restart("forecast")
    await posting
    if await asyncio.to_thread(_count_in_file, log, FULL_MESSAGE) == full_before:
        outcome.failures.append("forecast never reported a full database")
    outcome.inject(f"forecast database capped at {pages + 4} pages for 8 s")
    return outcome


FULL_MESSAGE = "database or disk is full"


def _page_count(path: str) -> int:
    with sqlite3.connect(path) as connection:
        return int(connection.execute("PRAGMA page_count").fetchone()[0])


def _count_in_file(path: Path, text: str) -> int:
    return path.read_text(encoding="utf-8", errors="replace").count(text) if path.exists() else 0


def _envelope(event_type: str, schema_version: str, data: dict[str, Any]) -> bytes:
    return json.dumps({
        "id": str(uuid.uuid4()), "source": "ipm.faults", "type": event_type, "specversion": "1.0",
        "time": datetime.now(UTC).isoformat(), "subject": phl.ENTITY, "datacontenttype": "application/json",
        "correlationid": "faults-poison", "schemaversion": schema_version, "data": data,
    }).encode()


def _poison_messages(number: int) -> list[tuple[str, str, bytes, str]]:
    """Return (kind, topic, bytes, expected reason) of every kind of poison message."""
    invalid = {"batch_id": f"poison-invalid-{number}", "postings": [{
        "source_id": f"poison-invalid-{number}", "entity_id": phl.ENTITY, "account_id": "sales",
        "posting_date": "2014-07-31", "amount": "not a number", "currency": "USD"}]}
    closed = {"batch_id": f"poison-closed-{number}", "postings": [{
        "source_id": f"poison-closed-{number}", "entity_id": phl.ENTITY, "account_id": "sales",
        "posting_date": CLOSED_PERIOD_DATE, "amount": "-1.00", "currency": "USD"}]}
    oversized = json.dumps({"batch_id": f"poison-large-{number}", "postings": [], "padding": "x" * 1_100_000})
    return [
        ("not JSON", ERP_TOPIC, b"{this is not json", "not_json"),
        ("not UTF-8", ERP_TOPIC, b"\xff\xfe\xfd batch", "not_utf8"),
        ("unknown type", Topics.REFERENCE, _envelope("ipm.strategy.unknown.happened", "1.0", {}), "unknown_type"),
        ("unknown major version", Topics.REFERENCE,
         _envelope("ipm.strategy.entity.registered", "9.0", {"entity_id": phl.ENTITY}), "unknown_schema_version"),
        ("invalid payload", ERP_TOPIC, json.dumps(invalid).encode(), "invalid_payload"),
        ("over the size limit", ERP_TOPIC, oversized.encode(), "too_large"),
        ("closed period", ERP_TOPIC, json.dumps(closed).encode(), "period_closed"),
    ]


async def poison_messages(suite: Suite, number: int) -> Outcome:
    """Mix every kind of poison message into real traffic; each must be dead-lettered with its reason."""
    outcome = Outcome(f"poison-messages#{number}")
    # A later pass finds the period closed already and gets 409.
    response = await suite.traffic.client.post(
        f"{suite.stack.url('forecast')}/v1/periods/{phl.ENTITY}/{CLOSED_PERIOD}/close", json={"by": "ipm faults"})
    if response.status_code not in (200, 409):
        outcome.failures.append(f"closing {CLOSED_PERIOD} failed with {response.status_code}: {response.text[:200]}")
    topics = dead_letter_topics(("forecast", "performance"))
    before = {letter.position for letter in await read_dead_letters(suite.broker.bootstrap, topics)}

    for kind, topic, value, _reason in _poison_messages(number):
        await suite.traffic.send_raw(topic, value)
        outcome.inject(kind)
    started = asyncio.get_running_loop().time()
    await _post_batches(suite, 1, channel="topic")
    if not await checks.wait_quiescent(suite.instance_urls(), seconds=NEXT_MESSAGE_SECONDS):
        outcome.failures.append(f"the batch after the poison messages was not processed within "
                                f"{NEXT_MESSAGE_SECONDS:.0f} s")
    logger.info("batch after poison processed after %.1f s", asyncio.get_running_loop().time() - started)

    letters = [letter for letter in await read_dead_letters(suite.broker.bootstrap, topics)
               if letter.position not in before]
    reasons = {letter.reason for letter in letters}
    for kind, _topic, _value, reason in _poison_messages(number):
        if reason not in reasons:
            outcome.failures.append(f"{kind} not dead-lettered with reason {reason}")
    return outcome


async def degraded_network(suite: Suite, number: int) -> Outcome:
    """Run traffic through the proxy with 200 ms latency, connection resets and a 10 s blackhole."""
    outcome = Outcome(f"degraded-network#{number}")
    proxy = suite.broker.proxy
    proxy.set_mode("latency", latency_ms=200)
    await _post_batches(suite, 1)
    outcome.inject("200 ms latency")

    proxy.set_mode("reset")
    await asyncio.sleep(1.0)
    proxy.set_mode("pass")
    await _post_batches(suite, 1)
    outcome.inject("every broker connection reset")

    posting = asyncio.create_task(_post_batches(suite, 1))
    proxy.set_mode("blackhole")
    try:
        await asyncio.sleep(10.0)
    finally:
        # Dropped bytes leave the Kafka byte streams mid-frame, so the connections are reset and reopened.
        proxy.set_mode("reset")
        await asyncio.sleep(0.5)
        proxy.set_mode("pass")
    await posting
    outcome.inject("10 s blackhole")
    return outcome


SCENARIOS: dict[str, Scenario] = {
    "duplicate-delivery": duplicate_delivery,
    "consumer-crash": consumer_crash,
    "relay-crash": relay_crash,
    "commit-publish-crash": commit_publish_crash,
    "rebalance-storm": rebalance_storm,
    "broker-pause": broker_pause,
    "database-outage": database_outage,
    "sqlite-full": sqlite_full,
    "poison-messages": poison_messages,
    "degraded-network": degraded_network,
}
