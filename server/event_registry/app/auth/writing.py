"""Writes made as the caller (``--auth=kubernetes``): authorized, then impersonated.

Each write is first checked with a SubjectAccessReview for its real verb and resource in its
namespace (cached as every decision, see :mod:`.kubernetes`); a denied one is the domain's
:class:`~...domain.writes.Forbidden` without any request. An allowed one is sent with the
caller's identity in ``Impersonate-*`` headers, so the cluster authorizes it again with the
caller's rights (a 403 there is the same Forbidden) and its audit log names the caller, not
the registry. A review the cluster cannot answer is the domain's
:class:`~...domain.writes.Unanswered` (retry), as a write it cannot answer is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...cluster.client import ClusterClient
from ...cluster.reviewing import Access
from ...cluster.writing import RESOURCES, ClusterWrites
from ...domain import access, writes
from ...store.caching import Kind
from .kubernetes import KubernetesAuthenticator
from .modes import AuthUnavailable


class CallerWrites:
    """The write port of one caller (implements ``graphql.writing.WritePort``)."""

    def __init__(
        self,
        authenticator: KubernetesAuthenticator,
        identity: access.Identity,
        client: ClusterClient,
        *,
        timeout: float,
    ) -> None:
        self._authenticator = authenticator
        self._identity = identity
        self._client = client
        self.timeout = timeout

    async def create(self, kind: Kind, namespace: str, manifest: dict[str, Any]) -> dict[str, Any]:
        await self._authorize("create", kind, namespace)
        return await self._writes().create(kind, namespace, manifest)

    async def delete(self, kind: Kind, namespace: str, name: str) -> None:
        await self._authorize("delete", kind, namespace)
        await self._writes().delete(kind, namespace, name)

    async def _authorize(self, verb: str, kind: Kind, namespace: str) -> None:
        resource = RESOURCES[kind]
        wanted = Access(verb, resource.group, resource.plural, namespace)
        try:
            allowed = await self._authenticator.allowed(self._identity, wanted)
        except AuthUnavailable as error:
            raise writes.Unanswered(str(error)) from error
        if not allowed:
            qualified = f"{resource.plural}.{resource.group}" if resource.group else resource.plural
            raise writes.Forbidden(
                f'{qualified} is forbidden: User "{self._identity.username}" cannot {verb} '
                f'resource "{resource.plural}" in API group "{resource.group}" in the '
                f'namespace "{namespace}"'
            )

    def _writes(self) -> ClusterWrites:
        return ClusterWrites(self._client.impersonating(self._identity), timeout=self.timeout)


def caller_writes(
    authenticator: KubernetesAuthenticator, client: ClusterClient, *, timeout: float
) -> Callable[[access.Principal], CallerWrites | None]:
    """``principal → its write port`` for :class:`~..http.Runtime` (``writes_as``)."""

    def writes_as(principal: access.Principal) -> CallerWrites | None:
        if principal.identity is None:
            return None
        return CallerWrites(authenticator, principal.identity, client, timeout=timeout)

    return writes_as
