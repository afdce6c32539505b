"""``--auth=kubernetes``: the cluster says who a caller is and what it may do.

As a delegating proxy (kube-rbac-proxy) does it: the bearer token goes to a TokenReview; a
kind (EventTypes, Brokers, Triggers) is readable in a namespace when a SubjectAccessReview
allows the caller to ``list`` that resource there (each asked cluster-wide first: allowed
there means every namespace; see :func:`~...domain.access.reading_per_kind`); a write is allowed
when one allows its verb on its resource in its namespace, and is then made *as the caller*
(impersonation, :mod:`.writing`), so the cluster's RBAC and audit log decide and record it.

Guarantees:

- answers are cached by a SHA-256 of the token and by (identity, access): allowed ones for
  ``allowed_ttl`` seconds, denied ones (and unknown tokens) for ``denied_ttl``, at most
  ``max_entries`` of each kind (least recently used go first), so a warm caller makes no
  call to the cluster at all, and a caller's principal is kept as long as every decision
  it was made of and the set of namespaces are unchanged;
- a cold caller over N namespaces costs three cluster-wide reviews (one per kind), then
  N reviews for each kind denied cluster-wide, made concurrently, at most
  ``max_concurrent_reviews`` at a time (a bound shared with TokenReviews, so a flood of
  unknown tokens cannot fan out to the cluster either); concurrent requests needing the same
  answer share one review;
- a caller's principal used in the last quarter of its shortest TTL is renewed in the
  background (only the decisions about to expire are asked again), so a steady caller never
  waits for a review; its requests meanwhile get the answers that still hold;
- :meth:`KubernetesAuthenticator.invalidate` (RBAC changed) forgets every access decision
  and wakes :meth:`~KubernetesAuthenticator.wait_for_change`; an answer to a review that
  was asked before it is used once but never cached;
- a cluster that cannot answer is :class:`~.modes.AuthUnavailable` (503 / close 1013),
  never "allowed".
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Collection, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from ...cluster import errors, reviewing
from ...cluster.client import ClusterClient
from ...cluster.reviewing import Access
from ...domain import access
from ...knative.vocabulary import BROKER, EVENT_TYPE, TRIGGER, KindName
from .expiring import ExpiringCache
from .modes import AuthUnavailable
from .static import bearer_token

T = TypeVar("T")


@dataclass(frozen=True)
class KubernetesAuthSettings:
    allowed_ttl: float = 30.0
    """Seconds an allowed answer (and an authenticated token) is reused; also how often a
    live subscription's caller is checked again. RBAC changes do not wait for it: the
    registry watches Roles and bindings and forgets every decision when one changes."""
    denied_ttl: float = 30.0
    """Seconds a denied answer (and an unknown token) is reused (kube-apiserver's webhook
    authorizer keeps denials 30 s). A caller denied cluster-wide is asked per namespace, so
    this bounds how often its renewal re-asks every namespace."""
    max_entries: int = 100_000
    """Tokens, decisions and principals kept, each (least recently used go first)."""
    max_concurrent_reviews: int = 32
    """Reviews (TokenReviews and SubjectAccessReviews, every caller's together) in flight at
    once: neither a cold caller's namespaces nor a flood of unknown tokens fans out further."""


_RESOURCES: dict[access.Kind, KindName] = {
    "EventType": EVENT_TYPE,
    "Broker": BROKER,
    "Trigger": TRIGGER,
}


def reading(namespace: str, kind: access.Kind = "EventType") -> Access:
    """What makes ``kind`` readable in a namespace: listing it there ("" for every one)."""
    resource = _RESOURCES[kind]
    return Access("list", resource.group, resource.plural, namespace)


@dataclass(frozen=True)
class _Made:
    principal: access.Principal
    namespaces: object
    """The namespace collection it was made from (compared by identity: the cache's
    snapshots share it until a namespace comes or goes)."""
    generation: int


class KubernetesAuthenticator:
    mode = "kubernetes"

    def __init__(
        self,
        client: ClusterClient,
        namespaces: Callable[[], Collection[str]],
        settings: KubernetesAuthSettings | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``namespaces``: the namespaces that exist now (the cache's snapshot's)."""
        self._client = client
        self._namespaces = namespaces
        self.settings = settings = settings or KubernetesAuthSettings()
        self._tokens: ExpiringCache[bytes, access.Identity | None] = ExpiringCache(
            settings.max_entries, clock=clock
        )
        self._decisions: ExpiringCache[tuple[access.Identity, Access], bool] = ExpiringCache(
            settings.max_entries, clock=clock
        )
        self._principals: ExpiringCache[access.Identity, _Made] = ExpiringCache(
            settings.max_entries, clock=clock
        )
        self._clock = clock
        self._inflight: dict[Hashable, asyncio.Future[Any]] = {}
        self._limit: asyncio.Semaphore | None = None
        self._changed = asyncio.Event()
        self._refreshing: set[access.Identity] = set()
        self._refresh_ahead = min(settings.allowed_ttl, settings.denied_ttl) / 4
        """A principal this close to expiring is renewed in the background."""
        self.generation = 0
        """Bumped by every :meth:`invalidate`."""
        self.reviews = 0
        """Reviews asked of the cluster so far (TokenReviews and SubjectAccessReviews)."""

    @property
    def recheck_interval(self) -> float:
        return self.settings.allowed_ttl

    # the caller ------------------------------------------------------------------------------

    async def authenticate(self, authorization: str | None) -> access.Principal | None:
        token = bearer_token(authorization)
        if token is None:
            return None
        identity = await self.identify(token)
        return None if identity is None else await self.principal_of(identity)

    async def identify(self, token: str) -> access.Identity | None:
        """Who ``token`` is, as a TokenReview says (cached by the token's hash)."""
        key = hashlib.sha256(token.encode()).digest()
        hit = self._tokens.get(key)
        if hit is not None:
            return hit[0]

        async def review() -> access.Identity | None:
            async with self._concurrency():  # unknown tokens cannot fan out to the cluster
                identity = await reviewing.review_token(self._client, token)
            ttl = self.settings.allowed_ttl if identity else self.settings.denied_ttl
            self._tokens.put(key, identity, ttl)
            return identity

        return await self._once(("token", key), review)

    async def principal_of(self, identity: access.Identity) -> access.Principal:
        """The principal of ``identity``: where it may read each kind, now."""
        namespaces = self._namespaces()
        hit = self._principals.get(identity)
        if hit is not None:
            made, deadline = hit
            if made.namespaces is namespaces and made.generation == self.generation:
                if deadline - self._clock() < self._refresh_ahead:
                    self._refresh_soon(identity)
                return made.principal
        return await self._made(identity, namespaces)

    async def _made(
        self, identity: access.Identity, namespaces: Collection[str], *, renew_before: float = 0.0
    ) -> access.Principal:
        """Decide ``identity``'s principal over ``namespaces`` and keep it; decisions that hold
        until ``renew_before`` or later are reused, the others asked again."""
        generation = self.generation
        decided = await asyncio.gather(
            *(
                self._readable(identity, kind, namespaces, renew_before=renew_before)
                for kind in access.KINDS
            )
        )
        principal = access.reading_per_kind(
            identity.username,
            {kind: readable for kind, (readable, _) in zip(access.KINDS, decided, strict=True)},
            None,
            identity,
        )
        deadline = min(until for _, until in decided)
        ttl = deadline - self._clock()
        if generation == self.generation and ttl > 0:
            self._principals.put(identity, _Made(principal, namespaces, generation), ttl)
        return principal

    async def _readable(
        self,
        identity: access.Identity,
        kind: access.Kind,
        namespaces: Collection[str],
        *,
        renew_before: float,
    ) -> tuple[frozenset[str] | None, float]:
        """Where ``identity`` may list ``kind`` (None: everywhere), and until when that holds."""
        everywhere, deadline = await self.decide(
            identity, reading("", kind), renew_before=renew_before
        )
        if everywhere:
            return None, deadline
        names = list(namespaces)
        answers = await asyncio.gather(
            *(self.decide(identity, reading(n, kind), renew_before=renew_before) for n in names)
        )
        readable = frozenset(n for n, (allowed, _) in zip(names, answers, strict=True) if allowed)
        return readable, min([deadline, *(d for _, d in answers)])

    def _refresh_soon(self, identity: access.Identity) -> None:
        """Renew a principal about to expire in the background, so its caller never waits
        for the reviews of a caller it already knows (its current answer still holds)."""
        if identity in self._refreshing:
            return
        self._refreshing.add(identity)
        renew_before = self._clock() + self._refresh_ahead
        task = asyncio.ensure_future(
            self._made(identity, self._namespaces(), renew_before=renew_before)
        )

        def done(finished: asyncio.Future[access.Principal]) -> None:
            self._refreshing.discard(identity)
            if not finished.cancelled():
                finished.exception()  # a failed renewal: the next request asks itself

        task.add_done_callback(done)

    async def allowed(self, identity: access.Identity, wanted: Access) -> bool:
        return (await self.decide(identity, wanted))[0]

    async def decide(
        self, identity: access.Identity, wanted: Access, *, renew_before: float = 0.0
    ) -> tuple[bool, float]:
        """Whether the cluster allows ``identity`` the access, and until when that holds
        (a kept answer expiring before ``renew_before`` is asked again)."""
        key = (identity, wanted)
        hit = self._decisions.get(key)
        if hit is not None and hit[1] >= renew_before:
            return hit
        generation = self.generation

        async def review() -> tuple[bool, float]:
            async with self._concurrency():
                allowed = await reviewing.review_access(self._client, identity, wanted)
            ttl = self.settings.allowed_ttl if allowed else self.settings.denied_ttl
            if generation != self.generation:
                return allowed, self._clock()  # asked before RBAC changed: used once
            return allowed, self._decisions.put(key, allowed, ttl)

        return await self._once(("access", generation, key), review)

    # RBAC changes ------------------------------------------------------------------------------

    def invalidate(self) -> None:
        """Forget every access decision (RBAC changed) and wake those waiting for a change."""
        self.generation += 1
        self._decisions.clear()
        self._principals.clear()
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for_change(self, timeout: float) -> None:
        """Return after an :meth:`invalidate`, or after ``timeout`` seconds."""
        changed = self._changed
        try:
            async with asyncio.timeout(timeout):
                await changed.wait()
        except TimeoutError:
            return

    # helpers ----------------------------------------------------------------------------------

    def _concurrency(self) -> asyncio.Semaphore:
        if self._limit is None:
            self._limit = asyncio.Semaphore(self.settings.max_concurrent_reviews)
        return self._limit

    async def _once(self, key: Hashable, ask: Callable[[], Awaitable[T]]) -> T:
        """``ask()``, shared by every concurrent caller asking with the same key; a cluster
        failure is :class:`AuthUnavailable`."""
        pending = self._inflight.get(key)
        if pending is None:
            task: asyncio.Future[Any] = asyncio.ensure_future(self._asked(ask))
            self._inflight[key] = task
            task.add_done_callback(lambda done: self._settled(key, done))
            pending = task
        answer: T = await asyncio.shield(pending)
        return answer

    def _settled(self, key: Hashable, done: asyncio.Future[Any]) -> None:
        self._inflight.pop(key, None)
        if not done.cancelled():
            done.exception()  # retrieved: every waiter may have gone

    async def _asked(self, ask: Callable[[], Awaitable[T]]) -> T:
        self.reviews += 1
        try:
            return await ask()
        except errors.ClusterError as error:
            raise AuthUnavailable(f"the cluster could not review the caller: {error}") from error
