"""Real ERP traffic for the fault scenarios: Philadelphia's monthly revenue batches.

Every batch body is written to the sent log before it leaves, once per delivery attempt, so
the log is exactly what an ERP sent. Deliveries retry until a service accepts the batch, as an
ERP does, because a crashed or paused service must not make the driver give up.
"""

import asyncio
import json
import logging
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from ipm_cli.demo import philadelphia as phl
from ipm_common.events import Topics

logger = logging.getLogger(__name__)

DELIVERY_TIMEOUT = 240.0
ERP_TOPIC = Topics.ERP_POSTINGS


def _planned_years_first(batches: list[tuple[date, list[dict[str, Any]]]], first_planned_year: int
                         ) -> list[tuple[date, list[dict[str, Any]]]]:
    """Order the months of planned fiscal years first, where budgets and targets make alerts possible."""
    planned = [batch for batch in batches if phl.fiscal_year_of(batch[0]) >= first_planned_year]
    return planned + [batch for batch in batches if phl.fiscal_year_of(batch[0]) < first_planned_year]


class Traffic:
    """Posts real batches over HTTP and on the ERP topic and logs every body sent."""

    def __init__(self, data_dir: Path, sent_log: Path, bootstrap: str, urls: dict[str, str]) -> None:
        self.sent_log = sent_log
        self.bootstrap = bootstrap
        self.urls = urls
        self.collections = phl.read_collections(data_dir)
        self.plans = phl.adopted_plans(phl.read_plans(data_dir))
        self._months: Iterator[tuple[date, list[dict[str, Any]]]] = iter(_planned_years_first(
            phl.posting_batches(self.collections), min(self.plans)))
        self.client = httpx.AsyncClient(timeout=30)
        self.producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", request_timeout_ms=15_000,
                                         max_request_size=2_097_152)

    async def start(self) -> None:
        await self.producer.start()

    async def stop(self) -> None:
        await self.client.aclose()
        await self.producer.stop()

    async def call(self, method: str, service: str, path: str, **kwargs: Any) -> Any:
        response = await self.client.request(method, f"{self.urls[service]}{path}", **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {service}{path} failed with {response.status_code}: {response.text[:500]}")
        return response.json()

    async def set_up_organisation(self) -> None:
        accounts = await phl.register_organisation(self.call, self.collections)
        await self._wait_for(lambda: self._reference_arrived(accounts), "reference data")
        await self._adopt_plan(min(self.plans))

    async def _reference_arrived(self, accounts: int) -> bool:
        forecast = await self.call("GET", "forecast", "/v1/reference")
        inputs = await self.call("GET", "performance", "/v1/inputs", params={"entity_id": phl.ENTITY})
        return bool(forecast["accounts"] >= accounts and phl.ENTITY in forecast["entities"]
                    and inputs["entity_registered"] and inputs["accounts"] >= accounts)

    async def _adopt_plan(self, fiscal_year: int) -> None:
        figures = self.plans[fiscal_year]
        earlier = {figure.fiscal_year for year, plan in self.plans.items() if year < fiscal_year for figure in plan}
        await self.call("POST", "strategy", "/v1/plans", json=phl.plan_body(fiscal_year, figures, earlier))
        budget = phl.budget_body(fiscal_year, figures)
        await self.call("POST", "forecast", "/v1/budgets", json=budget)
        await self._wait_for(lambda: self._plan_arrived(fiscal_year, len(budget["lines"])),
                             f"FY{fiscal_year} plan in performance")

    async def _plan_arrived(self, fiscal_year: int, budget_lines: int) -> bool:
        inputs = await self.call("GET", "performance", "/v1/inputs", params={"entity_id": phl.ENTITY})
        budget = any(item["fiscal_year"] == fiscal_year and item["lines"] >= budget_lines for item in inputs["budgets"])
        return bool(budget and inputs["targets"].get(str(fiscal_year), 0) > 0)

    async def next_batch(self) -> dict[str, Any]:
        """Return the next month's batch body, adopting the plan of a fiscal year at its first month."""
        month, postings = next(self._months)
        fiscal_year = phl.fiscal_year_of(month)
        if month.month == 7 and fiscal_year in self.plans and fiscal_year != min(self.plans):
            await self._with_retries(lambda: self._adopt_plan(fiscal_year), f"plan FY{fiscal_year}")
        return {"batch_id": f"phl-{month:%Y-%m}", "postings": postings}

    def log_sent(self, batch: dict[str, Any]) -> None:
        with open(self.sent_log, "a", encoding="utf-8") as log:
            log.write(json.dumps(batch) + "\n")

    async def post_http(self, batch: dict[str, Any], service_url: str | None = None) -> None:
        """POST the batch until a response other than 5xx or a connection error arrives."""
        url = f"{service_url or self.urls['forecast']}/v1/actuals"

        async def attempt() -> None:
            self.log_sent(batch)
            response = await self.client.post(url, json=batch)
            if response.status_code >= 500:
                raise RuntimeError(f"forecast returned {response.status_code}")
            if response.status_code >= 400:
                raise ValueError(f"batch {batch['batch_id']} rejected with {response.status_code}: "
                                 f"{response.text[:300]}")

        await self._with_retries(attempt, f"POST of {batch['batch_id']}")

    async def post_topic(self, batch: dict[str, Any]) -> None:
        """Send the batch on the ERP topic until the broker acknowledges it."""
        async def attempt() -> None:
            self.log_sent(batch)
            await self.producer.send_and_wait(ERP_TOPIC, json.dumps(batch).encode(), key=phl.ENTITY.encode())

        await self._with_retries(attempt, f"ERP message of {batch['batch_id']}")

    async def send_raw(self, topic: str, value: bytes, key: bytes = phl.ENTITY.encode()) -> None:
        """Send bytes that are not logged as sent postings (poison messages)."""
        await self._with_retries(lambda: self.producer.send_and_wait(topic, value, key=key), f"raw message to {topic}")

    async def _with_retries(self, attempt: Any, what: str) -> None:
        deadline = time.monotonic() + DELIVERY_TIMEOUT
        delay = 0.2
        while True:
            try:
                await attempt()
                return
            except (httpx.HTTPError, KafkaError, RuntimeError, OSError) as error:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{what} still failing after {DELIVERY_TIMEOUT} s: {error}") from error
                logger.info("%s failed, retrying in %.1f s: %r", what, delay, error)
                await asyncio.sleep(delay)
                delay = min(2.0, delay * 2)

    async def _wait_for(self, check: Any, what: str, seconds: float = 90.0) -> None:
        deadline = time.monotonic() + seconds
        while not await check():
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out after {seconds} s waiting for {what}")
            await asyncio.sleep(0.1)
