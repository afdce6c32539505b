"""The subscription benchmark's load generator: many GraphQL-over-WebSocket clients, one process.

``bench.subscriptions`` starts it as a child process (``python -m bench.subscription_load``)
and drives it with one JSON command per line on its standard input; each command is answered
by one JSON line on standard output. One asyncio loop holds every client connection.

A client is the least that speaks ``graphql-transport-ws``: the sans-I/O
:class:`websockets.client.ClientProtocol` under a plain :class:`asyncio.Protocol` (no task,
queue or keepalive timer per connection, unlike ``websockets.asyncio``), so thousands of them
cost the generator little. It sends ``connection_init``, then one ``subscribe`` once
acknowledged, answers the server's ``ping`` with ``pong`` and records, for every readiness
event, the wall-clock time (``time.time()``) at which the bytes carrying it arrived, before any
parsing. Once subscribed, a client reads the server's frames itself (unmasked and
unfragmented, as a server sends them; WebSocket pings still answered through ``websockets``)
and decodes them with orjson: at 10,000 subscribers the generator's own parsing would
otherwise take longer than the server's delivery and be what the latencies measure. Every
subscriber of the query receives the same bytes, so a read made only of whole text frames is
parsed once per armed change: its outcome (frames, events of the armed change) is remembered
by the exact bytes, and a client receiving a byte-identical read counts those events without
parsing them again (other reads, and any frame other than ``next``, are parsed every time).
Both processes run on one machine, so these times compare with the send times the driver
records.

A *stalled* client stops reading its socket once subscribed (``transport.pause_reading()``)
while keeping the connection; its receive buffer is made small before connecting, so the
server's writes back up into TCP at once, as with a client that hangs.

Commands (``cmd``): ``connect`` (open ``count`` clients, from ``source`` when given: a
loopback address such as ``127.0.0.2``, so that several generators are not limited to one
address's ephemeral ports), ``arm`` (start recording the events
of one change: those whose ``consumable`` is the given value and whose EventType name has the
given prefix), ``collect`` (wait until every healthy client has ``expected`` such events, or
the timeout; answer their latencies from ``sent``), ``resume`` (let stalled clients read again
and tell how their connection ended), ``disconnect`` (reset every connection) and ``exit``.
Every wait is bounded, and the process exits by itself after ``LIFETIME`` seconds or when its
standard input closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import socket
import struct
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, cast

import orjson
from websockets.client import ClientProtocol
from websockets.exceptions import InvalidState
from websockets.frames import Close, Frame, Opcode
from websockets.http11 import Response
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

PROTOCOL = Subprotocol("graphql-transport-ws")
STALLED_RCVBUF = 4096  # bytes; the kernel doubles it
LIFETIME = 1800.0  # seconds: the generator exits by itself after this, whatever happens
FIELD = "eventTypeReadinessChanged"
MEMO_READS = 1024  # distinct reads remembered at most (all subscribers share a few per change)
MEMO_READ_BYTES = 65536  # larger reads (a stalled client's backlog) are never remembered
TEXT, PING, CLOSE = Opcode.TEXT.value, Opcode.PING.value, Opcode.CLOSE.value


class Client(asyncio.Protocol):
    """One graphql-transport-ws connection with one subscription."""

    def __init__(self, load: Load, url: str, query: str, stalled: bool) -> None:
        self.load = load
        self.query = query
        self.stalled = stalled
        self.protocol = ClientProtocol(parse_uri(url), subprotocols=[PROTOCOL])
        self.transport: asyncio.Transport | None = None
        self.acked = False
        self.subscribed = False
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.close_code: int | None = None
        self.close_reason = ""
        self.frames = 0
        self.times: dict[str, float] = {}
        self.errors: list[str] = []
        self.raw = False  # True once subscribed: frames are read by _frames, not websockets
        self.pending = b""

    # asyncio.Protocol -------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.protocol.send_request(self.protocol.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        received = time.time()
        if self.raw:
            self._frames(data, received)
            return
        self.protocol.receive_data(data)
        events = self.protocol.events_received()
        self._flush()
        for event in events:
            if isinstance(event, Response):
                self._handshake(event)
            elif not isinstance(event, Frame):
                continue
            elif event.opcode is Opcode.TEXT:
                self.frames += 1
                self._message(json.loads(bytes(event.data)), received)
            elif event.opcode is Opcode.CLOSE:
                close = Close.parse(event.data) if event.data else None
                self.close_code = close.code if close else 1005
                self.close_reason = close.reason if close else ""
        if self.protocol.close_expected() and self.transport is not None:
            self.transport.close()

    def _frames(self, data: bytes, received: float) -> None:
        """Once subscribed: read the server's (unmasked, unfragmented) frames directly."""
        if not self.pending:
            known = self.load.reads.get(data)
            if known is not None:
                self.frames += known.frames
                self.load.record_names(self, known.names, received)
                return
            read = Read()
            self._parse(data, received, read)
            if read.frames and read.whole and not self.pending and len(data) <= MEMO_READ_BYTES:
                self.load.remember(data, read)
            return
        self._parse(self.pending + data, received, None)

    def _parse(self, buffer: bytes, received: float, read: Read | None) -> None:
        """Every whole frame of ``buffer``; what is left waits in ``pending``. ``read`` (if
        given) learns whether the buffer held only ``next`` frames, and their events."""
        position, size = 0, len(buffer)
        while size - position >= 2:
            first, second = buffer[position], buffer[position + 1]
            length, head = second & 0x7F, 2
            if length == 126:
                if size - position < 4:
                    break
                length, head = int.from_bytes(buffer[position + 2 : position + 4], "big"), 4
            elif length == 127:
                if size - position < 10:
                    break
                length, head = int.from_bytes(buffer[position + 2 : position + 10], "big"), 10
            end = position + head + length
            if end > size:
                break
            payload = buffer[position + head : end]
            opcode = first & 0x0F
            position = end
            if read is not None and opcode != TEXT:
                read.whole = False
            if second & 0x80 or not first & 0x80:
                if read is not None:
                    read.whole = False
                self.errors.append("server frame masked or fragmented")
            elif opcode == TEXT:
                self.frames += 1
                message = orjson.loads(payload)
                if read is not None:
                    read.frames += 1
                    if message.get("type") != "next":
                        read.whole = False
                self._message(message, received, read)
            elif opcode == PING:
                with contextlib.suppress(InvalidState):
                    self.protocol.send_pong(payload)
                self._flush()
            elif opcode == CLOSE:
                close = Close.parse(payload) if payload else None
                self.close_code = close.code if close else 1005
                self.close_reason = close.reason if close else ""
                if self.transport is not None:
                    self.transport.close()
                return
        self.pending = buffer[position:]

    def connection_lost(self, exc: Exception | None) -> None:
        if self.close_code is None:
            self.close_code = 1006
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"closed ({self.close_code}) before ready"))
            self.ready.exception()  # retrieved: connect() reads it from the client instead
        if not self.closed.done():
            self.closed.set_result(None)

    # protocol ---------------------------------------------------------------------------------

    def _flush(self) -> None:
        data = self.protocol.data_to_send()
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"".join(data))

    def send(self, message: dict[str, Any]) -> None:
        with contextlib.suppress(InvalidState):
            self.protocol.send_text(json.dumps(message, separators=(",", ":")).encode())
        self._flush()

    def _handshake(self, response: Response) -> None:
        if response.status_code != 101 or self.protocol.handshake_exc is not None:
            self.errors.append(f"handshake: {response.status_code} {self.protocol.handshake_exc}")
            return
        self.send({"type": "connection_init", "payload": {}})

    def _message(self, message: dict[str, Any], received: float, read: Read | None = None) -> None:
        kind = message.get("type")
        if kind == "next":
            change = ((message.get("payload") or {}).get("data") or {}).get(FIELD)
            name = None if change is None else self.load.armed_name(change)
            if name is not None:
                if read is not None:
                    read.names.append(name)
                self.load.record_names(self, (name,), received)
        elif kind == "ping":
            self.send({"type": "pong"})
        elif kind == "connection_ack":
            self.acked = True
            self.send({"type": "subscribe", "id": "1", "payload": {"query": self.query}})
            self.subscribed = True
            # The server sends nothing between the ack and the subscription's events, so no
            # frame is half-read by websockets here: from now on frames are parsed directly.
            self.raw = not self.protocol.reader.buffer
            if self.stalled and self.transport is not None:
                self.transport.pause_reading()
            if not self.ready.done():
                self.ready.set_result(None)
        elif kind in ("error", "complete"):
            self.errors.append(json.dumps(message)[:300])

    def abort(self) -> None:
        """Reset the connection (SO_LINGER 0: no TIME_WAIT left on this side)."""
        if self.transport is None or self.transport.is_closing():
            return
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.transport.abort()


class Read:
    """What one read of whole frames held: how many, the armed change's EventType names in
    order, and whether every frame was a ``next`` message (only then may it be remembered)."""

    __slots__ = ("frames", "names", "whole")

    def __init__(self) -> None:
        self.frames = 0
        self.names: list[str] = []
        self.whole = True


class Load:
    """Every client of the current phase and the change being recorded."""

    def __init__(self) -> None:
        self.clients: list[Client] = []
        self.expect_consumable: bool | None = None
        self.prefix = ""
        self.expected = 0
        self.complete = 0
        self.all_complete = asyncio.Event()
        self.healthy = 0
        self.armed_at_cpu = 0.0
        self.armed_at = 0.0
        self.reads: dict[bytes, Read] = {}
        """Reads already parsed while this change is armed, by their bytes."""

    def armed_name(self, change: dict[str, Any]) -> str | None:
        """The EventType name of ``change`` if it is one of the armed change's events."""
        if change.get("consumable") is not self.expect_consumable:
            return None
        name = (change.get("eventType") or {}).get("name") or ""
        return name if name.startswith(self.prefix) else None

    def record_names(self, client: Client, names: Sequence[str], received: float) -> None:
        """``client`` received these events of the armed change at ``received`` (a name it
        already has keeps its first time)."""
        times = client.times
        before = len(times)
        for name in names:
            if name not in times:
                times[name] = received
        if before < self.expected <= len(times) and not client.stalled:
            self.complete += 1
            if self.complete >= self.healthy:
                self.all_complete.set()

    def remember(self, data: bytes, read: Read) -> None:
        """Remember what a read of whole ``next`` frames held, by its exact bytes."""
        if len(self.reads) >= MEMO_READS:
            self.reads.clear()
        self.reads[data] = read

    # commands ---------------------------------------------------------------------------------

    async def connect(self, command: dict[str, Any]) -> dict[str, Any]:
        url, query, count = command["url"], command["query"], int(command["count"])
        stalled = set(command.get("stalled", []))
        source = command.get("source")  # a loopback address of its own: 28,000 ports each
        concurrency, timeout = int(command.get("concurrency", 100)), float(command["timeout"])
        parts = parse_uri(url)
        loop = asyncio.get_running_loop()
        semaphore = asyncio.Semaphore(concurrency)
        failures: dict[str, int] = {}
        began = time.monotonic()
        deadline = began + timeout

        async def open_one(index: int) -> None:
            async with semaphore:
                client = Client(self, url, query, index in stalled)
                self.clients.append(client)
                try:
                    async with asyncio.timeout(max(0.1, deadline - time.monotonic())):
                        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                        sock.setblocking(False)
                        if source is not None:
                            sock.bind((source, 0))
                        if client.stalled:
                            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, STALLED_RCVBUF)
                        try:
                            await loop.sock_connect(sock, (parts.host, parts.port))
                        except BaseException:
                            sock.close()
                            raise
                        await loop.create_connection(lambda: client, sock=sock)
                        await client.ready
                except (OSError, TimeoutError) as error:
                    key = type(error).__name__
                    failures[key] = failures.get(key, 0) + 1
                    client.abort()

        await asyncio.gather(*(open_one(index) for index in range(count)))
        seconds = time.monotonic() - began
        # The clients live until the phase ends: keep the collector from walking them all
        # again and again while it measures (a full collection of 10,000 clients pauses the
        # generator for a good part of a second, and that would count as delivery latency).
        gc.collect()
        gc.freeze()
        return {
            "requested": count,
            "connected": sum(1 for c in self.clients if c.transport is not None),
            "acked": sum(1 for c in self.clients if c.acked),
            "subscribed": sum(1 for c in self.clients if c.subscribed),
            "failures": failures,
            "errors": [e for c in self.clients for e in c.errors][:5],
            "seconds": seconds,
        }

    def arm(self, command: dict[str, Any]) -> dict[str, Any]:
        self.expect_consumable = bool(command["consumable"])
        self.prefix = str(command["prefix"])
        self.expected = int(command["expected"])
        self.complete = 0
        self.all_complete = asyncio.Event()
        live = [c for c in self.clients if c.subscribed and not c.closed.done()]
        self.healthy = sum(1 for c in live if not c.stalled)
        self.reads = {}
        for client in self.clients:
            client.times = {}
        self.armed_at_cpu, self.armed_at = time.process_time(), time.monotonic()
        return {"armed": len(live), "healthy": self.healthy}

    async def collect(self, command: dict[str, Any]) -> dict[str, Any]:
        sent, timeout = float(command["sent"]), float(command["timeout"])
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                if self.healthy:
                    await self.all_complete.wait()
        cpu = time.process_time() - self.armed_at_cpu
        wall = time.monotonic() - self.armed_at
        latencies: list[int] = []
        stalled_received = 0
        for client in self.clients:
            if client.stalled:
                stalled_received += len(client.times)
                continue
            if client.subscribed:
                latencies.extend(round((t - sent) * 1e6) for t in client.times.values())
        return {
            "latencies_us": latencies,
            "expected": self.healthy * self.expected,
            "complete_clients": self.complete,
            "healthy_clients": self.healthy,
            "stalled_received": stalled_received,
            "open": sum(1 for c in self.clients if c.subscribed and not c.closed.done()),
            "generator_cpu_seconds": cpu,
            "generator_wall_seconds": wall,
        }

    async def resume(self, command: dict[str, Any]) -> dict[str, Any]:
        """Let stalled clients read again; how their connections ended (or that they did not)."""
        wait = float(command["seconds"])
        stalled = [c for c in self.clients if c.stalled]
        frames_before = [c.frames for c in stalled]
        closed_before = [c.closed.done() for c in stalled]
        for client in stalled:
            if client.transport is not None and not client.transport.is_closing():
                client.transport.resume_reading()
        pending = [c.closed for c in stalled if not c.closed.done()]
        if pending:
            await asyncio.wait(pending, timeout=wait)
        return {
            "stalled": [
                {
                    "closed_before_resume": before,
                    "closed": c.closed.done(),
                    "close_code": c.close_code if c.closed.done() or c.close_code else None,
                    "close_reason": c.close_reason,
                    "frames_before_resume": frames,
                    "frames_after_resume": c.frames - frames,
                }
                for c, frames, before in zip(stalled, frames_before, closed_before, strict=True)
            ]
        }

    async def disconnect(self) -> dict[str, Any]:
        count = len(self.clients)
        for client in self.clients:
            client.abort()
        await asyncio.sleep(0.2)
        self.clients = []
        gc.unfreeze()
        return {"disconnected": count}


async def serve_commands() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 24)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    load = Load()
    handlers: dict[str, Callable[[dict[str, Any]], Any]] = {
        "connect": load.connect,
        "arm": load.arm,
        "collect": load.collect,
        "resume": load.resume,
        "disconnect": lambda _: load.disconnect(),
    }
    async with asyncio.timeout(LIFETIME):
        while line := await reader.readline():
            command = json.loads(line)
            if command["cmd"] == "exit":
                break
            result = handlers[command["cmd"]](command)
            if asyncio.iscoroutine(result):
                result = await result
            sys.stdout.write(json.dumps(result, separators=(",", ":")) + "\n")
            sys.stdout.flush()
    await load.disconnect()


def main() -> None:
    try:
        import uvloop
    except ImportError:  # the plain asyncio loop works too, a little slower
        asyncio.run(serve_commands())
    else:
        uvloop.run(serve_commands())


if __name__ == "__main__":
    main()
