"""The checks that end every scenario: quiescence, the reconciler and duplicate alerts."""

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from ipm_cli import reconcile

logger = logging.getLogger(__name__)

# Consecutive samples, one a second, with empty outboxes, no lag and unchanged counters.
QUIET_SAMPLES = 3

ALERT_IDENTITY = ("entity_id", "line", "period", "comparison", "rule")


def parse_metrics(text: str) -> dict[str, float]:
    """Sum the Prometheus samples of each metric name (labels dropped)."""
    totals: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name_and_labels, _, value = line.rpartition(" ")
        name = name_and_labels.split("{", 1)[0]
        totals[name] = totals.get(name, 0.0) + float(value)
    return totals


async def _sample(client: httpx.AsyncClient, urls: Sequence[str]) -> tuple[bool, tuple[float, ...]] | None:
    """Return whether every outbox is empty and no consumer lags, with the counters; None when a service is down."""
    idle = True
    counters: list[float] = []
    for url in urls:
        try:
            response = await client.get(f"{url}/metrics", timeout=5)
        except httpx.HTTPError:
            return None
        if response.status_code != 200:
            return None
        metrics = parse_metrics(response.text)
        idle = idle and metrics.get("ipm_outbox_backlog", 0) == 0 and metrics.get("ipm_consumer_lag", 0) == 0
        counters += [metrics.get("ipm_outbox_published_total", 0), metrics.get("ipm_consumer_processed_total", 0),
                     metrics.get("ipm_dead_letters_total", 0)]
    return idle, tuple(counters)


async def wait_quiescent(urls: Sequence[str], seconds: float = 180.0) -> bool:
    """Wait until outboxes are drained and consumers caught up on every instance; return False on timeout."""
    deadline = time.monotonic() + seconds
    quiet = 0
    previous: tuple[float, ...] | None = None
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            sample = await _sample(client, urls)
            if sample is not None and sample[0] and sample[1] == previous:
                quiet += 1
                if quiet >= QUIET_SAMPLES:
                    return True
            else:
                quiet = 0
            previous = sample[1] if sample is not None else None
            await asyncio.sleep(1.0)
    logger.warning("services not quiescent after %s s", seconds)
    return False


async def reconcile_stack(sent_log: Path, urls: Mapping[str, str]) -> reconcile.Report:
    """Run the reconciler on the sent log against every service database."""
    sent = await asyncio.to_thread(_read_sent_log, sent_log)
    sent = reconcile.with_periods(sent, await reconcile.read_calendars(urls["forecast"]))
    stored = {service: await reconcile.read_ledger(service, urls[service]) for service in reconcile.LEDGER_SERVICES}
    unpublished = {service: await reconcile.count_unpublished(url) for service, url in urls.items()}
    return reconcile.reconcile(sent, stored, unpublished)


def _read_sent_log(path: Path) -> list[reconcile.SentPosting]:
    return reconcile.read_sent_log(path) if path.exists() else []


def duplicate_alerts(alerts: Sequence[Mapping[str, Any]]) -> int:
    """Count the alerts beyond the first with the same identity: entity, line, period, comparison, rule.

    One breach keeps one alert that is updated and resolved in place, so a second alert of the
    same identity means a breach was raised twice.
    """
    identities = Counter(tuple(str(alert.get(name)) for name in ALERT_IDENTITY) for alert in alerts)
    return sum(count - 1 for count in identities.values() if count > 1)


async def read_alerts(performance_url: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.get(f"{performance_url}/v1/alerts", params={"limit": 10_000})
        response.raise_for_status()
        alerts: list[dict[str, Any]] = response.json()
        return alerts
