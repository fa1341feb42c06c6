import pytest

from ipm_common.messaging import ConsumedMessage, InMemoryBus


class Recorder:
    """A subscriber that records the values it receives, tagged with its own name."""

    def __init__(self, name: str, seen: list[tuple[str, bytes | None]]) -> None:
        self.name = name
        self.seen = seen

    async def __call__(self, message: ConsumedMessage) -> None:
        self.seen.append((self.name, message.value))


@pytest.mark.asyncio
async def test_bus_delivers_in_publish_order() -> None:
    bus = InMemoryBus()
    seen: list[tuple[str, bytes | None]] = []
    bus.subscribe(["ipm.test.a"], Recorder("first", seen))

    for number in range(5):
        await bus.send("ipm.test.a", "key", str(number).encode())

    assert seen == [("first", str(number).encode()) for number in range(5)]


@pytest.mark.asyncio
async def test_bus_delivers_to_every_subscriber() -> None:
    bus = InMemoryBus()
    seen: list[tuple[str, bytes | None]] = []
    bus.subscribe(["ipm.test.a"], Recorder("first", seen))
    bus.subscribe(["ipm.test.a"], Recorder("second", seen))

    await bus.send("ipm.test.a", "key", b"1")
    await bus.send("ipm.test.a", "key", b"2")

    assert seen == [("first", b"1"), ("second", b"1"), ("first", b"2"), ("second", b"2")]


@pytest.mark.asyncio
async def test_bus_routes_by_topic() -> None:
    bus = InMemoryBus()
    seen: list[tuple[str, bytes | None]] = []
    bus.subscribe(["ipm.test.a"], Recorder("a", seen))
    bus.subscribe(["ipm.test.b"], Recorder("b", seen))

    await bus.send_many([("ipm.test.b", "k", b"1"), ("ipm.test.a", "k", b"2"), ("ipm.test.c", "k", b"3")])

    assert seen == [("b", b"1"), ("a", b"2")]


@pytest.mark.asyncio
async def test_bus_logs_every_message() -> None:
    bus = InMemoryBus()

    await bus.send("ipm.test.a", "ACME", b"1", headers=[("trace", b"t-1")])
    await bus.send("ipm.test.b", "ACME", b"2")

    message = bus.messages("ipm.test.a")[0]
    assert message.key == b"ACME"
    assert message.headers == (("trace", b"t-1"),)
    assert [entry.offset for entry in bus.log] == [0, 1]
