"""The load generator counts exactly the armed change's events, whether it parses a read or
recognises one it parsed before (byte for byte) for another client."""

from __future__ import annotations

import orjson
from bench.subscription_load import FIELD, Client, Load
from websockets.frames import Frame, Opcode


def frame(message: dict[str, object]) -> bytes:
    return Frame(Opcode.TEXT, orjson.dumps(message)).serialize(mask=False)


def event(name: str, consumable: bool) -> bytes:
    change = {"consumable": consumable, "eventType": {"namespace": "bench", "name": name}}
    return frame({"type": "next", "id": "1", "payload": {"data": {FIELD: change}}})


def subscribed(load: Load, count: int) -> list[Client]:
    clients = []
    for _ in range(count):
        client = Client(load, "ws://127.0.0.1:1/graphql", "subscription { x }", False)
        client.raw = client.subscribed = True
        clients.append(client)
    load.clients = clients
    return clients


async def test_a_read_seen_before_counts_the_same_events_for_another_client() -> None:
    load = Load()
    first, second, third = subscribed(load, 3)
    load.arm({"consumable": True, "prefix": "t-", "expected": 2})
    read = event("t-1", True) + event("other", True) + event("t-0", False) + event("t-2", True)
    first.data_received(read)
    assert set(first.times) == {"t-1", "t-2"}
    assert len(load.reads) == 1
    second.data_received(read)
    assert set(second.times) == {"t-1", "t-2"}
    assert first.frames == second.frames == 4
    # the same events cut across two reads: parsed, never taken for the remembered read
    third.data_received(read[:10])
    third.data_received(read[10:])
    assert set(third.times) == {"t-1", "t-2"}
    assert load.complete == 3
    assert load.all_complete.is_set()


async def test_arming_another_change_forgets_what_reads_held() -> None:
    load = Load()
    first, second = subscribed(load, 2)
    read = event("t-1", True)
    load.arm({"consumable": True, "prefix": "t-", "expected": 1})
    first.data_received(read)
    load.arm({"consumable": False, "prefix": "t-", "expected": 1})
    second.data_received(read)
    assert second.times == {}
    assert load.complete == 0


async def test_a_read_with_other_messages_is_parsed_every_time() -> None:
    load = Load()
    first, second = subscribed(load, 2)
    load.arm({"consumable": True, "prefix": "t-", "expected": 2})
    read = event("t-1", True) + frame({"type": "complete", "id": "1"})
    first.data_received(read)
    second.data_received(read)
    assert load.reads == {}
    assert len(first.errors) == len(second.errors) == 1
    assert set(second.times) == {"t-1"}
