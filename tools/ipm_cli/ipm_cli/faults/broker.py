"""A Tansu broker whose every client connection runs through a ``FaultProxy``.

Kafka clients use the bootstrap address only for the first metadata request; afterwards they
connect to the address the broker advertises. Tansu therefore listens on one port and
advertises the proxy's port, so metadata sends every client back through the proxy and a fault
set on the proxy reaches all broker traffic, not just the bootstrap connection.
"""

import logging
import signal
import socket
import subprocess
import time
from pathlib import Path

from ipm_cli.faults.proxy import FaultProxy
from ipm_common.broker import free_port, tansu_binary

logger = logging.getLogger(__name__)


class ProxiedBroker:
    """Tansu on a private port, reached by clients at ``bootstrap`` through the proxy."""

    def __init__(self, log_path: Path | None = None) -> None:
        self.broker_port = free_port()
        self.proxy = FaultProxy(self.broker_port)
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return self.proxy.address

    def start(self, timeout: float = 10.0) -> None:
        self.proxy.start()
        log_file = open(self._log_path, "ab") if self._log_path else None
        try:
            self._process = subprocess.Popen(
                [str(tansu_binary()), "broker", "--listener-url", f"tcp://127.0.0.1:{self.broker_port}",
                 "--advertised-listener-url", f"tcp://{self.proxy.address}"],
                stdout=log_file or subprocess.DEVNULL, stderr=subprocess.STDOUT,
            )
        finally:
            if log_file is not None:
                log_file.close()
        self._wait_until_listening(timeout)
        logger.info("Tansu on port %s, advertised and reached through %s", self.broker_port, self.bootstrap)

    def _wait_until_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.broker_port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise TimeoutError(f"Tansu did not listen on port {self.broker_port} within {timeout} s")

    def pause(self) -> None:
        """Freeze the broker process (SIGSTOP): connections stay open and no request gets a response."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self._process is not None:
            self._process.send_signal(signal.SIGCONT)
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        self.proxy.stop()
