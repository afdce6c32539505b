"""The cluster client: the one object that talks to a Kubernetes API.

As httpx's ``Client``: it is opened once (:func:`~.connecting.open_client`), passed to whoever
needs the cluster (list-watchers, informers, the write port, controllers) and closed once.
Nothing outside ``cluster/`` sees the library underneath (kubernetes_asyncio over aiohttp).

Guarantees:

- every request it makes raises only the errors of :mod:`.errors`, chained to their cause:
  a transport failure or timeout is :class:`~.errors.Unavailable`, an answer outside 2xx the
  class of its ``Status`` (:func:`~.errors.from_status`);
- answers are JSON objects (an answer that is not an object reads as ``{}``);
- every request has a timeout: ``request_timeout`` seconds in total, except watches, which
  take ``request_timeout`` to connect and then may be silent for their own read timeout;
- discovery and the REST mapping are its own (:attr:`rest_mapper`): one cached reading of
  each group-version's ``APIResourceList`` for everyone who shares the client;
- :meth:`ClusterClient.impersonating` gives a client sharing the same connections whose every
  request carries ``Impersonate-User``/``-Group``/``-Uid``/``-Extra-<key>`` for an identity,
  so the API server authorizes and audits it as that identity (our own account needs the
  ``impersonate`` right for it).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import quote

import aiohttp
from kubernetes_asyncio.client import ApiClient
from kubernetes_asyncio.client.exceptions import ApiException
from multidict import CIMultiDict

from ..domain.access import Identity
from . import errors
from .kinds import ResourceRef
from .mapping import RestMapper, discovery_path

Query = list[tuple[str, Any]]
MERGE_PATCH = "application/merge-patch+json"


class Lines:
    """The lines of a streamed answer (a watch); a lost stream raises ``Unavailable``."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._lines()

    async def _lines(self) -> AsyncIterator[bytes]:
        while True:
            try:
                line = await self._response.content.readline()
            except (aiohttp.ClientError, TimeoutError) as error:
                raise errors.unavailable("Disconnected", error) from error
            if not line:
                return
            yield line


def impersonation_headers(identity: Identity) -> list[tuple[str, str]]:
    """The ``Impersonate-*`` header lines that act as ``identity`` (one line per value)."""
    lines = [("Impersonate-User", identity.username)]
    lines += [("Impersonate-Group", group) for group in identity.groups]
    if identity.uid:
        lines.append(("Impersonate-Uid", identity.uid))
    for key, values in identity.extra:
        # Header names cannot carry every character of an extra's key: percent-encoded, as
        # kube-apiserver decodes them.
        lines += [(f"Impersonate-Extra-{quote(key, safe='')}", value) for value in values]
    return lines


class ClusterClient:
    def __init__(
        self,
        api_client: ApiClient,
        *,
        request_timeout: float = 30.0,
        headers: Sequence[tuple[str, str]] = (),
        rest_mapper: RestMapper | None = None,
    ) -> None:
        self._api = api_client
        self.request_timeout = request_timeout
        self._headers = tuple(headers)
        self.rest_mapper = rest_mapper or RestMapper(self)
        """Kinds → resources, from discovery (shared by everyone using this client)."""

    def impersonating(self, identity: Identity) -> ClusterClient:
        """A client on the same connections acting as ``identity`` (do not close it: the
        client it came from owns the connections)."""
        return ClusterClient(
            self._api,
            request_timeout=self.request_timeout,
            headers=impersonation_headers(identity),
            rest_mapper=self.rest_mapper,
        )

    # lifecycle ---------------------------------------------------------------------------

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._api.close()

    async def __aenter__(self) -> ClusterClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # the one place requests are made -----------------------------------------------------

    async def _send(
        self,
        method: str,
        path: str,
        *,
        query: Query | None = None,
        body: Any = None,
        content_type: str = "application/json",
        read_timeout: float | None = None,
    ) -> aiohttp.ClientResponse:
        """The response of a 2xx answer, unread; any other outcome raises its error.

        The whole request has ``request_timeout`` seconds, or, given ``read_timeout``, it has
        ``request_timeout`` to connect and then may be silent that long between reads.
        """
        if read_timeout is None:
            timeout = aiohttp.ClientTimeout(total=self.request_timeout)
        else:
            timeout = aiohttp.ClientTimeout(
                connect=self.request_timeout,
                sock_connect=self.request_timeout,
                sock_read=read_timeout,
            )
        # Sent through the library's REST client with a multidict, not through its call_api
        # with a dict: impersonating several groups repeats a header, once per group. (Its
        # type stubs say dict; the client takes any mapping, and query pairs as a list.)
        api: Any = self._api
        headers = CIMultiDict(
            [
                *api.default_headers.items(),
                ("Accept", "application/json"),
                ("Content-Type", content_type),
                *self._headers,
            ]
        )
        query = list(query or [])
        try:
            await api.update_params_for_auth(headers, query, ["BearerToken"])
            response: aiohttp.ClientResponse = await api.rest_client.request(
                method,
                api.configuration.host + path,
                query_params=query,
                headers=headers,
                body=body,
                _preload_content=False,
                _request_timeout=timeout,
            )
        except ApiException as error:
            raise errors.ClusterError(int(error.status or 0), "Unknown", str(error)) from error
        except (aiohttp.ClientError, TimeoutError) as error:
            raise errors.unavailable("Unreachable", error) from error
        if not 200 <= response.status < 300:
            raise errors.from_status(response.status, await self._read(response))
        return response

    async def _read(self, response: aiohttp.ClientResponse) -> Any:
        try:
            async with response:
                raw = await response.read()
        except (aiohttp.ClientError, TimeoutError) as error:
            raise errors.unavailable("Disconnected", error) from error
        try:
            return json.loads(raw) if raw else {}
        except ValueError:
            return {"message": raw.decode(errors="replace")}

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: Query | None = None,
        body: Any = None,
        content_type: str = "application/json",
        read_timeout: float | None = None,
    ) -> dict[str, Any]:
        """One request; its JSON answer (see :meth:`_send` for the timeouts)."""
        response = await self._send(
            method,
            path,
            query=query,
            body=body,
            content_type=content_type,
            read_timeout=read_timeout,
        )
        data = await self._read(response)
        return data if isinstance(data, dict) else {}

    @contextlib.asynccontextmanager
    async def stream(self, path: str, query: Query, *, read_timeout: float) -> AsyncIterator[Lines]:
        """A GET whose answer is read line by line (watches); open once the server accepted."""
        response = await self._send("GET", path, query=query, read_timeout=read_timeout)
        async with response:
            yield Lines(response)

    # objects -----------------------------------------------------------------------------

    async def get(self, resource: ResourceRef, namespace: str, name: str) -> dict[str, Any]:
        return await self.request("GET", resource.path(namespace, name))

    async def find(self, resource: ResourceRef, namespace: str, name: str) -> dict[str, Any] | None:
        """The object, or None when it does not exist."""
        try:
            return await self.get(resource, namespace, name)
        except errors.NotFound:
            return None

    async def create(
        self, resource: ResourceRef, namespace: str, body: dict[str, Any], *, dry_run: bool = False
    ) -> dict[str, Any]:
        """Create the object (fields the API does not know are refused); returns it stored."""
        query: Query = [("dryRun", "All")] if dry_run else []
        query.append(("fieldValidation", "Strict"))
        return await self.request("POST", resource.path(namespace), query=query, body=body)

    async def merge_patch(
        self,
        resource: ResourceRef,
        namespace: str,
        name: str,
        patch: dict[str, Any],
        *,
        subresource: str = "",
    ) -> dict[str, Any]:
        path = resource.path(namespace, name, subresource)
        return await self.request("PATCH", path, body=patch, content_type=MERGE_PATCH)

    async def delete(self, resource: ResourceRef, namespace: str, name: str) -> dict[str, Any]:
        """Delete the object; its dependents are collected in the background."""
        body = {"propagationPolicy": "Background"}
        return await self.request("DELETE", resource.path(namespace, name), body=body)

    # discovery ---------------------------------------------------------------------------

    async def discover(self, api_version: str) -> dict[str, Any] | None:
        """The ``APIResourceList`` of a group-version; None when it is not served (404)."""
        try:
            return await self.request("GET", discovery_path(api_version))
        except errors.NotFound:
            return None
