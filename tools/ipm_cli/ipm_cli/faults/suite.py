"""The running system under test and the bookkeeping of faults and verdicts.

One ``Suite`` owns the proxied broker, the throwaway PostgreSQL cluster (when the binaries are
installed), the four services and the traffic driver, for all scenarios of a run. The services'
databases accumulate across scenarios, so every verdict reconciles the whole sent log.
"""

import asyncio
import logging
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ipm_cli.faults import checks
from ipm_cli.faults.broker import ProxiedBroker
from ipm_cli.faults.postgres import ThrowawayCluster, available
from ipm_cli.faults.traffic import Traffic
from ipm_cli.stack import SERVICES, LocalStack

logger = logging.getLogger(__name__)

CRASH_TIMEOUT = 45.0


@dataclass
class Outcome:
    """Record of one scenario pass: the faults injected and the findings of the checks afterwards."""

    name: str
    faults: list[str] = field(default_factory=list)
    injected: int = 0
    failures: list[str] = field(default_factory=list)
    lost: int = 0
    duplicated: int = 0
    unpublished: int = 0
    duplicate_alerts: int = 0
    alerts: int = 0
    quiescent: bool = True
    negative_control_detected: bool | None = None
    skipped: str | None = None

    def inject(self, description: str, count: int = 1) -> None:
        """Record ``count`` faults injected, described together."""
        self.faults.append(description)
        self.injected += count

    @property
    def passed(self) -> bool:
        return (not self.failures and self.quiescent and self.lost == 0 and self.duplicated == 0
                and self.unpublished == 0 and self.duplicate_alerts == 0
                and self.negative_control_detected is not False)

    def line(self) -> str:
        if self.skipped:
            return f"faults: {self.name}: skipped: {self.skipped}"
        verdict = "pass" if self.passed else "FAIL"
        faults = "; ".join(self.faults) or "none"
        extra = "" if self.quiescent else ", not quiescent"
        if self.negative_control_detected is not None:
            extra += f", negative control {'detected' if self.negative_control_detected else 'NOT detected'}"
        if self.failures:
            extra += ", " + "; ".join(self.failures)
        return (f"faults: {self.name}: {verdict}: injected {self.injected} ({faults}); reconcile: {self.lost} lost, "
                f"{self.duplicated} duplicated, {self.unpublished} unpublished, {self.duplicate_alerts} duplicate "
                f"alerts of {self.alerts}{extra}")


@dataclass
class Totals:
    injected: int = 0
    lost: int = 0
    duplicated: int = 0
    duplicate_alerts: int = 0
    unpublished: int = 0
    negative_control_detected: bool = False
    failed: list[str] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        self.injected += outcome.injected
        if outcome.negative_control_detected:
            self.negative_control_detected = True
        if not outcome.passed:
            self.failed.append(outcome.name)

    def settle(self, final: Outcome) -> None:
        """Add the loss and duplicate counts of the final reconciliation of one system under test."""
        self.lost += final.lost
        self.duplicated += final.duplicated
        self.unpublished += final.unpublished
        self.duplicate_alerts += final.duplicate_alerts

    @property
    def clean(self) -> bool:
        return (self.lost == self.duplicated == self.duplicate_alerts == self.unpublished == 0
                and self.negative_control_detected and not self.failed)

    def line(self) -> str:
        return (f"faults: {self.injected} injected, {self.lost} lost, {self.duplicated} duplicated, "
                f"{self.duplicate_alerts} duplicate alerts, {self.unpublished} unpublished")


class Suite:
    """Starts and stops the system under test and gives scenarios their controls."""

    def __init__(self, data_dir: Path, quick: bool, use_postgres: bool = True) -> None:
        self.data_dir = data_dir
        self.quick = quick
        self.run_dir = Path(tempfile.mkdtemp(prefix="ipm-faults-"))
        self.sent_log = self.run_dir / "sent.jsonl"
        self.broker = ProxiedBroker(self.run_dir / "broker.log")
        self.postgres = ThrowawayCluster() if use_postgres and available() else None
        self.stack = LocalStack(self.run_dir / "stack")
        self.database_urls: dict[str, str] = {}
        self.extra_instances: list[str] = []
        self._traffic: Traffic | None = None

    @property
    def traffic(self) -> Traffic:
        assert self._traffic is not None, "the suite is not started"
        return self._traffic

    async def start(self) -> None:
        self.broker.start()
        if self.postgres is not None:
            self.postgres.create()
            self.database_urls = {service: self.postgres.create_database(f"ipm_{service}") for service in SERVICES}
        else:
            self.database_urls = {service: f"sqlite+aiosqlite:///{self.run_dir / 'stack' / (service + '.db')}"
                                  for service in SERVICES}
        self.stack.database_urls = self.database_urls
        self.stack.bootstrap = self.broker.bootstrap
        await asyncio.to_thread(self.stack.start)
        urls = {service: self.stack.url(service) for service in SERVICES}
        self._traffic = Traffic(self.data_dir, self.sent_log, self.broker.bootstrap, urls)
        await self.traffic.start()
        await self.traffic.set_up_organisation()

    async def stop(self, keep: bool) -> None:
        if self._traffic is not None:
            await self._traffic.stop()
        await asyncio.to_thread(self.stack.stop)
        self.broker.stop()
        if self.postgres is not None:
            self.postgres.remove()
        if not keep:
            shutil.rmtree(self.run_dir, ignore_errors=True)

    def instance_urls(self) -> list[str]:
        return [self.stack.url(name) for name in (*SERVICES, *self.extra_instances)]

    async def restart(self, service: str, environment: Mapping[str, str] | None = None) -> None:
        await asyncio.to_thread(self.stack.restart, service, 120.0, environment or {})

    async def wait_crash(self, instance: str, seconds: float = CRASH_TIMEOUT) -> bool:
        """Wait for the process to die at its fault point; return False when it still runs after ``seconds``."""
        try:
            await asyncio.to_thread(self.stack.wait_exit, instance, seconds)
        except subprocess.TimeoutExpired:
            return False
        return True

    async def start_instance(self, service: str, instance: str) -> str:
        url = await asyncio.to_thread(self.stack.start_instance, service, instance)
        self.extra_instances.append(instance)
        return url

    async def stop_instance(self, instance: str) -> None:
        self.extra_instances.remove(instance)
        await asyncio.to_thread(self.stack.stop_instance, instance)

    async def verify(self, outcome: Outcome) -> Outcome:
        """Wait for quiescence, then reconcile the whole sent log and look for duplicate alerts."""
        outcome.quiescent = await checks.wait_quiescent(self.instance_urls())
        report = await checks.reconcile_stack(self.sent_log, self.database_urls)
        outcome.lost, outcome.duplicated = report.lost, report.duplicated
        outcome.unpublished = sum(report.unpublished.values())
        alerts = await checks.read_alerts(self.stack.url("performance"))
        outcome.alerts = len(alerts)
        outcome.duplicate_alerts = checks.duplicate_alerts(alerts)
        return outcome
