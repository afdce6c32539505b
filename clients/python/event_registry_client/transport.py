"""GraphQL over HTTP: one POST per operation, every failure mapped into the error tree.

One :class:`HttpTransport` holds one ``httpx.AsyncClient`` (a keep-alive connection pool)
for the client's life. What a caller can get:

- the ``data`` of an answer without ``errors``;
- :class:`~event_registry_client.errors.UnreachableError` when no connection could be made
  or the server did not answer within ``timeout``;
- :class:`~event_registry_client.errors.UnauthorizedError` for 401 (tokens mode, no or a
  wrong token);
- :class:`~event_registry_client.errors.GraphQLError` for an answer with ``errors`` (a bad
  argument, the query cost limit...);
- :class:`~event_registry_client.errors.ServerError` for any other status or a body that is
  not a GraphQL answer, with the server's own message when it sent one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx

from . import errors
from .models import Json


def first_message(body: bytes) -> str | None:
    """The first ``errors[].message`` of a JSON body, if it has one."""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    if isinstance(document, dict) and isinstance(document.get("errors"), list):
        for error in document["errors"]:
            if isinstance(error, dict) and isinstance(error.get("message"), str):
                return str(error["message"])
    return None


class HttpTransport:
    """POSTs GraphQL documents to ``url`` with an optional bearer ``token``."""

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        timeout: float = 30.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.url = url
        headers = {"accept": "application/json"}
        if token:
            headers["authorization"] = f"Bearer {token}"
        self._client = client or httpx.AsyncClient(timeout=timeout)
        self._headers = headers

    async def execute(self, document: str, variables: Mapping[str, Any] | None = None) -> Json:
        payload: Json = {"query": document}
        if variables:
            payload["variables"] = dict(variables)
        try:
            response = await self._client.post(self.url, json=payload, headers=self._headers)
        except httpx.TimeoutException as error:
            raise errors.UnreachableError(f"no answer from {self.url} in time") from error
        except httpx.TransportError as error:
            raise errors.UnreachableError(f"cannot reach {self.url}: {error}") from error
        body = response.content
        if response.status_code == 401:
            detail = first_message(body) or "a valid token is required"
            raise errors.UnauthorizedError(f"unauthorized: {detail}")
        if response.status_code != 200:
            detail = first_message(body) or response.reason_phrase
            raise errors.ServerError(f"HTTP {response.status_code}: {detail}", response.status_code)
        try:
            document_ = json.loads(body)
        except ValueError as error:
            raise errors.ServerError(f"{self.url} did not answer with JSON") from error
        if not isinstance(document_, dict):
            raise errors.ServerError(f"{self.url} did not answer with a GraphQL response")
        if document_.get("errors"):
            raise errors.GraphQLError(
                [
                    str(e.get("message", e)) if isinstance(e, dict) else str(e)
                    for e in document_["errors"]
                ]
            )
        data = document_.get("data")
        if not isinstance(data, dict):
            raise errors.ServerError(f"{self.url} answered without data")
        return data

    async def aclose(self) -> None:
        await self._client.aclose()
