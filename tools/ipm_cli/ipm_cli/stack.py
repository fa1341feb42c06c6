"""Run the four services as separate processes on one broker, each with its own database.

Used by ``ipm demo`` and by the end-to-end tests. Every process gets its settings through the
environment, logs to a file in the data folder, and is stopped by ``LocalStack.stop``.
"""

import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from ipm_common.broker import TansuBroker, free_port

logger = logging.getLogger(__name__)

SERVICES = ("strategy", "projects", "forecast", "performance")
DEFAULT_PORTS = {"strategy": 8101, "projects": 8102, "forecast": 8103, "performance": 8104}


def _executable(name: str) -> str:
    """Find a console script next to the running interpreter, then on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed; run `make venv` first")
    return found


def _port_is_free(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@dataclass
class LocalStack:
    """A broker (Tansu, unless ``bootstrap`` names an existing one) and the four services."""

    data_dir: Path
    bootstrap: str | None = None
    database_urls: Mapping[str, str] = field(default_factory=dict)
    extra_env: Mapping[str, str] = field(default_factory=dict)
    # Environment variables of one service only, applied over ``extra_env`` (for example fault points).
    service_env: dict[str, dict[str, str]] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    broker: TansuBroker | None = None
    _processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def start(self, timeout: float = 90.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.bootstrap is None:
            self.broker = TansuBroker(log_path=self.data_dir / "broker.log")
            self.broker.start()
            self.bootstrap = self.broker.bootstrap
        for service in SERVICES:
            self.ports[service] = DEFAULT_PORTS[service] if _port_is_free(DEFAULT_PORTS[service]) else free_port()
            self._migrate(service)
        for service in SERVICES:
            self._spawn(service)
        self.wait_ready(timeout)

    def database_url(self, service: str) -> str:
        """Return the database URL of ``service``: the one given, else a SQLite file in the data folder."""
        return self.database_urls.get(service, f"sqlite+aiosqlite:///{self.data_dir / (service + '.db')}")

    def _environment(self, service: str, port: int | None = None) -> dict[str, str]:
        prefix = f"IPM_{service.upper()}_"
        database_url = self.database_url(service)
        environment = {**os.environ, **self.extra_env}
        environment.update({
            "IPM_KAFKA_BOOTSTRAP": self.bootstrap or "",
            f"{prefix}DATABASE_URL": database_url,
            f"{prefix}PORT": str(port or self.ports[service]),
        })
        environment.update(self.service_env.get(service, {}))
        return environment

    def _migrate(self, service: str) -> None:
        result = subprocess.run([_executable(f"ipm-{service}"), "migrate"], env=self._environment(service),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if result.returncode != 0:
            error = result.stderr.decode("utf-8", errors="replace").strip().splitlines()[-1:]
            raise RuntimeError(f"ipm-{service} migrate failed with status {result.returncode}: {''.join(error)}")

    def _spawn(self, service: str, instance: str | None = None) -> None:
        name = instance or service
        log = open(self.data_dir / f"{name}.log", "ab")
        self._processes[name] = subprocess.Popen([_executable(f"ipm-{service}"), "serve"],
                                                 env=self._environment(service, self.ports.get(name)), stdout=log,
                                                 stderr=subprocess.STDOUT)
        log.close()

    def pid(self, instance: str) -> int:
        return self._processes[instance].pid

    def send_signal(self, instance: str, signum: int) -> None:
        """Send ``signum`` (SIGKILL, SIGSTOP, SIGCONT) to one service process, named by service or instance."""
        self._processes[instance].send_signal(signum)

    def wait_exit(self, instance: str, timeout: float) -> int:
        """Wait until the process ends, for example at a fault point; return its exit status."""
        return self._processes[instance].wait(timeout=timeout)

    def restart(self, service: str, timeout: float = 90.0, environment: Mapping[str, str] | None = None) -> None:
        """Stop the service if it still runs (SIGKILL), start it again with ``environment`` and wait until ready."""
        process = self._processes[service]
        if process.poll() is None:
            process.kill()
            process.wait()
        if environment is not None:
            self.service_env[service] = dict(environment)
        self._spawn(service)
        self.wait_ready(timeout, (service,))

    def start_instance(self, service: str, instance: str, timeout: float = 90.0) -> str:
        """Start one more process of ``service`` on a free port, in the same consumer groups; return its URL."""
        self.ports[instance] = free_port()
        self._spawn(service, instance)
        self.wait_ready(timeout, (instance,))
        return self.url(instance)

    def stop_instance(self, instance: str) -> None:
        process = self._processes.pop(instance)
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)

    def wait_ready(self, timeout: float, services: tuple[str, ...] = SERVICES) -> None:
        deadline = time.monotonic() + timeout
        pending = set(services)
        while pending:
            for service in sorted(pending):
                self._check_alive(service)
                try:
                    if httpx.get(f"{self.url(service)}/readyz", timeout=2).status_code == 200:
                        pending.discard(service)
                except httpx.HTTPError:
                    pass
            if pending and time.monotonic() > deadline:
                raise TimeoutError(f"services not ready after {timeout} s: {', '.join(sorted(pending))}; "
                                   f"see the logs in {self.data_dir}")
            time.sleep(0.2)

    def _check_alive(self, service: str) -> None:
        process = self._processes[service]
        if process.poll() is not None:
            raise RuntimeError(f"{service} exited with status {process.returncode}; "
                               f"see {self.data_dir / (service + '.log')}")

    def stop(self) -> None:
        for process in self._processes.values():
            if process.poll() is None:
                process.terminate()
        for service, process in self._processes.items():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                logger.warning("%s did not stop within 15 s; killing it", service)
                process.kill()
                process.wait()
        self._processes.clear()
        if self.broker is not None:
            self.broker.stop()

    def __enter__(self) -> "LocalStack":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
