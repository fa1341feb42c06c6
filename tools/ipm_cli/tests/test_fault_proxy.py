import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from ipm_cli.faults.broker import ProxiedBroker
from ipm_cli.faults.proxy import FaultProxy


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(65_536):
        writer.write(data)
        await writer.drain()
    writer.close()


@pytest_asyncio.fixture
async def proxy() -> AsyncIterator[FaultProxy]:
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    fault_proxy = FaultProxy(server.sockets[0].getsockname()[1])
    await asyncio.to_thread(fault_proxy.start)
    try:
        yield fault_proxy
    finally:
        await asyncio.to_thread(fault_proxy.stop)
        server.close()
        await server.wait_closed()


async def _round_trip(proxy: FaultProxy, payload: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    writer.write(payload)
    await writer.drain()
    received = await asyncio.wait_for(reader.readexactly(len(payload)), 10)
    writer.close()
    return received


@pytest.mark.asyncio
async def test_pass_mode_forwards_bytes_unchanged(proxy: FaultProxy) -> None:
    payload = bytes(range(256)) * 1000

    assert await _round_trip(proxy, payload) == payload
    # 256,000 bytes out to the echo server and the same back.
    assert proxy.counters.forwarded_bytes == 512_000


@pytest.mark.asyncio
async def test_latency_mode_still_delivers_in_order(proxy: FaultProxy) -> None:
    await asyncio.to_thread(proxy.set_mode, "latency", 50)

    assert await _round_trip(proxy, b"first second third") == b"first second third"


@pytest.mark.asyncio
async def test_reset_mode_aborts_open_and_new_connections(proxy: FaultProxy) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    writer.write(b"ping")
    assert await asyncio.wait_for(reader.readexactly(4), 10) == b"ping"

    await asyncio.to_thread(proxy.set_mode, "reset")

    with pytest.raises((ConnectionResetError, asyncio.IncompleteReadError)):
        await asyncio.wait_for(reader.readexactly(1), 10)
    with pytest.raises((ConnectionResetError, asyncio.IncompleteReadError)):
        # The reset may arrive during the connect or on the first read.
        new_reader, _new_writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        await asyncio.wait_for(new_reader.readexactly(1), 10)
    assert proxy.counters.resets >= 2


@pytest.mark.asyncio
async def test_blackhole_mode_drops_bytes_and_pass_restores_forwarding(proxy: FaultProxy) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    await asyncio.to_thread(proxy.set_mode, "blackhole")

    writer.write(b"lost")
    await writer.drain()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(reader.readexactly(4), 0.5)
    assert proxy.counters.dropped_bytes == 4

    await asyncio.to_thread(proxy.set_mode, "pass")
    writer.write(b"kept")
    assert await asyncio.wait_for(reader.readexactly(4), 10) == b"kept"
    writer.close()


def test_unknown_mode_is_rejected() -> None:
    fault_proxy = FaultProxy(1)

    with pytest.raises(ValueError, match="unknown proxy mode 'slow'"):
        fault_proxy.set_mode("slow")  # type: ignore[arg-type]


@pytest.mark.integration
@pytest.mark.asyncio
async def test_kafka_clients_reconnect_through_proxy() -> None:
    broker = ProxiedBroker()
    await asyncio.to_thread(broker.start)
    try:
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait("faults.proxy.check", b"through the proxy")
            # The metadata names the proxy, so the producer's broker connection is the proxy too.
            advertised = {(node.host, node.port) for node in producer.client.cluster.brokers()}
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer("faults.proxy.check", bootstrap_servers=broker.bootstrap,
                                    auto_offset_reset="earliest")
        await consumer.start()
        try:
            message = await asyncio.wait_for(consumer.getone(), 30)
        finally:
            await consumer.stop()
    finally:
        await asyncio.to_thread(broker.stop)

    assert advertised == {("127.0.0.1", broker.proxy.port)}
    assert message.value == b"through the proxy"
    assert broker.proxy.counters.connections >= 2
