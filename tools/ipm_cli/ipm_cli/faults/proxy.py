"""A TCP proxy on loopback that passes, delays, resets or drops the traffic it forwards.

The proxy runs its own asyncio loop in a background thread, so a synchronous test driver can
switch its mode while the services keep talking through it. Modes:

- ``pass``: forward bytes unchanged.
- ``latency``: wait ``latency_ms`` before forwarding each chunk, in both directions.
- ``reset``: abort every open connection with a TCP reset and reset each new one at once.
- ``blackhole``: keep connections open and accept new ones, but drop every byte.
"""

import asyncio
import logging
import socket
import struct
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, Literal

logger = logging.getLogger(__name__)

Mode = Literal["pass", "latency", "reset", "blackhole"]
MODES: tuple[Mode, ...] = ("pass", "latency", "reset", "blackhole")

CHUNK_BYTES = 65_536


@dataclass
class ProxyCounters:
    connections: int = 0
    forwarded_bytes: int = 0
    dropped_bytes: int = 0
    resets: int = 0


def _abort_with_reset(writer: asyncio.StreamWriter) -> None:
    """Close the connection with RST instead of FIN, as a crashed middlebox or peer would."""
    raw = writer.get_extra_info("socket")
    if raw is not None and raw.fileno() != -1:
        try:
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError as error:
            # The peer closed the socket first, so there is nothing left to reset.
            logger.debug("connection already closed, no reset sent: %s", error)
    writer.transport.abort()


class FaultProxy:
    """Forward ``127.0.0.1:port`` to ``127.0.0.1:upstream_port`` with a switchable fault mode."""

    def __init__(self, upstream_port: int, port: int = 0) -> None:
        self.upstream_port = upstream_port
        self.port = port
        self.mode: Mode = "pass"
        self.latency_ms = 0
        self.counters = ProxyCounters()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-proxy", daemon=True)
        self._thread.start()
        self._call(self._listen())
        logger.info("fault proxy listening on %s, forwarding to 127.0.0.1:%s", self.address, self.upstream_port)

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        self._call(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()
        self._loop = self._thread = None

    def set_mode(self, mode: Mode, latency_ms: int = 0) -> None:
        """Switch the mode; ``reset`` also aborts every connection open now."""
        if mode not in MODES:
            raise ValueError(f"unknown proxy mode {mode!r}; use one of {', '.join(MODES)}")
        self.latency_ms = latency_ms
        self.mode = mode
        if mode == "reset" and self._loop is not None:
            self._call(self._reset_open())
        logger.info("fault proxy %s: mode %s%s", self.address, mode, f" {latency_ms} ms" if latency_ms else "")

    def _call(self, coroutine: Coroutine[Any, Any, None]) -> None:
        assert self._loop is not None, "the proxy is not started"
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        await self._reset_open()

    async def _reset_open(self) -> None:
        for writer in list(self._open):
            _abort_with_reset(writer)
            self.counters.resets += 1
        self._open.clear()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self.counters.connections += 1
        if self.mode == "reset":
            self.counters.resets += 1
            _abort_with_reset(client_writer)
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError as error:
            logger.warning("fault proxy could not reach 127.0.0.1:%s: %s", self.upstream_port, error)
            _abort_with_reset(client_writer)
            return
        self._open.update((client_writer, upstream_writer))
        await asyncio.gather(self._pump(client_reader, upstream_writer), self._pump(upstream_reader, client_writer),
                             return_exceptions=True)
        for writer in (client_writer, upstream_writer):
            self._open.discard(writer)
            writer.close()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Copy bytes from ``reader`` to ``writer`` under the current mode until either side closes."""
        try:
            while chunk := await reader.read(CHUNK_BYTES):
                if self.mode == "blackhole":
                    self.counters.dropped_bytes += len(chunk)
                    continue
                if self.mode == "latency" and self.latency_ms:
                    await asyncio.sleep(self.latency_ms / 1000)
                writer.write(chunk)
                await writer.drain()
                self.counters.forwarded_bytes += len(chunk)
        except (ConnectionError, OSError):
            pass
        finally:
            if not writer.is_closing():
                writer.close()
