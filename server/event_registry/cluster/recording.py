"""The event recorder: Kubernetes Events about objects, written as client-go's recorder does.

A controller calls :meth:`EventRecorder.record` with the raw object the Event is about, its
type (``Normal``/``Warning``), a reason and a message, the way a Go controller calls
``EventRecorder.Event``. The recorder writes core ``v1`` Events (served by every cluster, and
by the embedded control plane in both Event groups) with ``source.component`` and
``reportingComponent`` set to its component (``eventing.knative.dev/event-registry``),
``source.host`` and ``reportingInstance`` to its host, and the object named in the version
clients resolve its kind to (an EventType read as v1beta2 is reported as v1beta3 where that
is preferred, so ``kubectl events --for eventtype/x`` finds it), through the one
:class:`~.client.ClusterClient`. Each Event passes the :class:`~.correlating.Correlator`
first: repeats patch one Event's ``count``/``lastTimestamp``, floods of similar messages are
combined, and a flapping object is rate limited.

Guarantees:

- :meth:`~EventRecorder.record` never blocks, never raises and never fails the caller: it
  queues the Event (at most ``queue_size``; beyond that the Event is dropped and counted);
- writes are best effort and in order, done by one task: a refusal (4xx, 5xx) drops the Event,
  as client-go does; an unreachable API is retried ``max_tries`` times ``retry_delay`` apart; a
  patch of an Event that has expired meanwhile creates it again;
- failures are logged once (a warning, then debug lines until a write succeeds again), so a
  cluster that refuses Events (no RBAC rule for them) does not flood the logs;
- Events need the right to ``create`` and ``patch`` ``events`` in the objects' namespaces.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal

from . import errors
from .client import ClusterClient
from .correlating import Correlated, Correlator, Raw, rfc3339
from .kinds import EVENTS

log = logging.getLogger(__name__)

EventKind = Literal["Normal", "Warning"]
REPORTING_CONTROLLER = "eventing.knative.dev/event-registry"


def reference_of(obj: Mapping[str, Any]) -> Raw:
    """The ``ObjectReference`` of a raw object, as client-go's ``GetReference`` builds it."""
    meta = obj.get("metadata")
    meta = meta if isinstance(meta, Mapping) else {}
    reference = {
        "kind": obj.get("kind"),
        "apiVersion": obj.get("apiVersion"),
        "namespace": meta.get("namespace"),
        "name": meta.get("name"),
        "uid": meta.get("uid"),
        "resourceVersion": meta.get("resourceVersion"),
    }
    return {key: value for key, value in reference.items() if isinstance(value, str) and value}


class EventRecorder:
    def __init__(
        self,
        client: ClusterClient,
        *,
        component: str = REPORTING_CONTROLLER,
        host: str | None = None,
        queue_size: int = 1000,
        max_tries: int = 12,
        retry_delay: float = 10.0,
        clock: Callable[[], float] = time.time,
        correlator: Correlator | None = None,
    ) -> None:
        self._client = client
        self.component = component
        self.host = host if host is not None else socket.gethostname()
        self._clock = clock
        self._correlator = correlator or Correlator(clock=clock)
        self._queue: asyncio.Queue[Raw] = asyncio.Queue(queue_size)
        self._max_tries = max_tries
        self._retry_delay = retry_delay
        self._task: asyncio.Task[None] | None = None
        self._last_nanos = 0
        self._failing = False
        self.written = 0
        """Events created or patched (for tests and metrics)."""
        self.dropped = 0
        """Events dropped: queue full, rate limited, refused or never reachable."""

    # lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="event-recorder")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def wait_idle(self, timeout: float) -> bool:
        """True once every queued Event is written or dropped (False after ``timeout``)."""
        try:
            await asyncio.wait_for(self._queue.join(), timeout)
        except TimeoutError:
            return False
        return True

    # recording ---------------------------------------------------------------------------

    def record(
        self, regarding: Mapping[str, Any], kind: EventKind, reason: str, message: str
    ) -> None:
        """Queue an Event about ``regarding`` (a raw object); never blocks, never raises."""
        try:
            event = self._event(reference_of(regarding), kind, reason, message)
            self._queue.put_nowait(event)
        except asyncio.QueueFull:
            self.dropped += 1
            self._failed("the event queue is full: Event %s dropped", reason)
        except Exception:  # a bad object must not fail the controller reporting on it
            self.dropped += 1
            log.exception("could not make an Event %s", reason)

    def _event(self, reference: Raw, kind: EventKind, reason: str, message: str) -> Raw:
        now = self._clock()
        nanos = max(int(now * 1e9), self._last_nanos + 1)
        self._last_nanos = nanos
        timestamp = rfc3339(now)
        return {
            "metadata": {
                "name": f"{reference.get('name', '')}.{nanos:x}",
                "namespace": reference.get("namespace") or "default",
            },
            "involvedObject": reference,
            "reason": reason,
            "message": message,
            "type": kind,
            "source": {"component": self.component, "host": self.host},
            "firstTimestamp": timestamp,
            "lastTimestamp": timestamp,
            "count": 1,
            "reportingComponent": self.component,
            "reportingInstance": self.host,
        }

    # writing -----------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            event = await self._queue.get()
            try:
                await self._write(event)
            except asyncio.CancelledError:
                raise
            except Exception:
                self.dropped += 1
                log.exception("writing an Event failed")
            finally:
                self._queue.task_done()

    async def _write(self, event: Raw) -> None:
        await self._in_preferred_version(event["involvedObject"])
        correlated = self._correlator.correlate(event)
        if correlated is None:
            self.dropped += 1
            log.debug("Event %s about %s rate limited", event["reason"], event["involvedObject"])
            return
        for attempt in range(self._max_tries):
            try:
                stored = await self._send(correlated)
            except errors.Unavailable as error:
                self._failed("cannot write Events (will retry): %s", error)
                if attempt + 1 < self._max_tries:
                    await asyncio.sleep(self._retry_delay)
                continue
            except errors.ClusterError as error:
                self.dropped += 1
                if not isinstance(error, errors.AlreadyExists):
                    self._failed("the API refused an Event: %s", error)
                return
            self._correlator.written(correlated, stored)
            self.written += 1
            if self._failing:
                self._failing = False
                log.info("Events are written again")
            return
        self.dropped += 1

    async def _in_preferred_version(self, reference: Raw) -> None:
        """Name the object in the version clients resolve its kind to, as the controller of
        that version would (``kubectl events --for`` selects on ``involvedObject.apiVersion``)."""
        api_version, kind = reference.get("apiVersion"), reference.get("kind")
        if not isinstance(api_version, str) or "/" not in api_version or not isinstance(kind, str):
            return
        try:
            preferred = await self._client.rest_mapper.preferred_version(
                api_version.rpartition("/")[0], kind
            )
        except errors.ClusterError:
            return  # unknown now: the version it was read in will do
        if preferred is not None:
            reference["apiVersion"] = preferred

    async def _send(self, correlated: Correlated) -> dict[str, Any]:
        event = correlated.event
        meta = event["metadata"]
        namespace = meta["namespace"]
        if correlated.patch is not None:
            try:
                return await self._client.merge_patch(
                    EVENTS, namespace, meta["name"], correlated.patch
                )
            except errors.NotFound:
                pass  # expired (or deleted) meanwhile: write it anew
        body = {"apiVersion": "v1", "kind": "Event", **event}
        body["metadata"] = {key: value for key, value in meta.items() if key != "resourceVersion"}
        return await self._client.create(EVENTS, namespace, body)

    def _failed(self, message: str, *args: object) -> None:
        if self._failing:
            log.debug(message, *args)
            return
        self._failing = True
        log.warning(message, *args)
