"""The informer: one reflector per watched kind, all feeding one cache.

It discovers which EventType version the cluster serves (preferring the storage version
v1beta2, then v1beta3, then v1beta1) and, when the cluster serves none yet (Knative not
installed), keeps checking, so the registry starts on a bare cluster and catches up when
Knative is installed.

Each reflector supervises itself (see :mod:`.reflecting`): whatever a cache listener raises,
the reflector logs it, shows its kind as unsynced (so ``/readyz`` answers 503 naming it),
backs off, relists and is synced again; only :meth:`Informer.stop` ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import aiohttp
from kubernetes_asyncio.client import ApiClient

from ..store.caching import Cache
from . import kinds
from .listwatching import ListerWatcher
from .reflecting import Reflector, ReflectorSettings

log = logging.getLogger(__name__)


async def _discovery(api_client: ApiClient, path: str) -> dict[str, Any]:
    """A discovery document (``/apis/...``); empty when unreachable or not served."""
    try:
        response: aiohttp.ClientResponse = await api_client.call_api(
            path,
            "GET",
            header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"],
            _preload_content=False,
            _request_timeout=30,
        )
    except (aiohttp.ClientError, TimeoutError):
        return {}
    async with response:
        if response.status != 200:
            return {}
        try:
            body = json.loads(await response.read())
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return {}
    return body if isinstance(body, dict) else {}


async def served_versions(api_client: ApiClient, group: str) -> list[str]:
    """Versions the API serves for a group (empty when the group is unknown)."""
    body = await _discovery(api_client, f"/apis/{group}")
    return [str(v.get("version")) for v in body.get("versions") or []]


async def resources_of(api_client: ApiClient, group: str, version: str) -> set[str]:
    body = await _discovery(api_client, f"/apis/{group}/{version}")
    return {str(r.get("name")) for r in body.get("resources") or []}


async def event_type_version(api_client: ApiClient) -> str | None:
    for version in kinds.EVENT_TYPE_VERSIONS:
        if "eventtypes" in await resources_of(api_client, "eventing.knative.dev", version):
            return version
    return None


class Informer:
    def __init__(
        self,
        api_client: ApiClient,
        cache: Cache,
        *,
        settings: ReflectorSettings | None = None,
        discovery_interval: float = 5.0,
    ) -> None:
        self._client = api_client
        self.cache = cache
        self._settings = settings or ReflectorSettings()
        self._discovery_interval = discovery_interval
        self._tasks: list[asyncio.Task[None]] = []
        self.reflectors: dict[str, Reflector] = {}

    async def start(self) -> None:
        self._tasks.append(asyncio.create_task(self._run(), name="informer"))

    async def _run(self) -> None:
        version = await event_type_version(self._client)
        while version is None:
            log.info("EventTypes are not served yet (is Knative Eventing installed?); waiting")
            await asyncio.sleep(self._discovery_interval)
            version = await event_type_version(self._client)
        log.info("watching EventTypes as eventing.knative.dev/%s", version)
        for resource in (
            kinds.NAMESPACES,
            kinds.BROKERS,
            kinds.event_types(version),
            kinds.TRIGGERS,
        ):
            reflector = Reflector(ListerWatcher(self._client, resource), self.cache, self._settings)
            self.reflectors[resource.kind] = reflector
            self._tasks.append(
                asyncio.create_task(reflector.run(), name=f"reflector-{resource.kind}")
            )

    async def wait_synced(self, timeout: float) -> bool:
        try:
            async with asyncio.timeout(timeout):
                await self.cache.wait_synced()
        except TimeoutError:
            return False
        return True

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
