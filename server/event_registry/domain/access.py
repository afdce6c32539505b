"""Who may see and change which namespaces, and which kinds of object in them.

A :class:`Principal` is attached to every request. ``None`` namespace sets mean "all" (the
open development mode). A namespace the principal may not read is indistinguishable from a
missing one everywhere in the API; writing needs the ``write`` permission on the namespace.

Reading is decided per kind (:data:`KINDS`: EventType, Broker, Trigger): an object of a kind
the principal may not read in its namespace looks missing, as a hidden namespace does. In
``open`` and ``tokens`` mode a readable namespace grants all three kinds (``by_kind`` is
None). A namespace is *visible* (listed by ``namespaces``, resolved by ``node``) when the
principal may read at least one kind in it, so every object it can see has its namespace.

In ``kubernetes`` mode a principal also carries the caller's cluster :class:`Identity` (as a
TokenReview reported it): what it may read per kind is what the cluster's RBAC allows it
(``list`` on each resource), and its writes are made as that identity (impersonation), so
the cluster authorizes and audits them. Such a principal's ``writable`` is None: the cluster
decides each write.

:attr:`Principal.scope_key` is equal for two principals exactly when they may read the same
kinds in the same namespaces (responses are cached and subscriptions grouped by it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from .writes import name_errors

Permission = Literal["read", "write"]
Kind = Literal["EventType", "Broker", "Trigger"]
KINDS: tuple[Kind, ...] = ("EventType", "Broker", "Trigger")


@dataclass(frozen=True)
class Identity:
    """A Kubernetes user as authentication reports it (``user.Info``)."""

    username: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """``(key, values)`` pairs, sorted by key (hashable, so identities key caches)."""


Namespaces = frozenset[str] | None
"""A set of namespaces; None: every namespace."""


@dataclass(frozen=True)
class Principal:
    name: str
    readable: Namespaces
    """Visible namespaces: those where it may read some kind; None: every namespace."""
    writable: Namespaces
    identity: Identity | None = None
    """The caller's cluster identity (``kubernetes`` mode), whose rights writes are made with."""
    by_kind: tuple[Namespaces, Namespaces, Namespaces] | None = None
    """Per kind, in :data:`KINDS` order, where it may read that kind; None: ``readable`` for
    every kind. Build it with :func:`reading_per_kind`."""

    def can_read(self, namespace: str, kind: Kind | None = None) -> bool:
        """Whether it may read ``kind`` in ``namespace`` (no kind: whether it is visible)."""
        if kind is None or self.by_kind is None:
            return self.readable is None or namespace in self.readable
        allowed = self.by_kind[KINDS.index(kind)]
        return allowed is None or namespace in allowed

    def can_write(self, namespace: str) -> bool:
        return self.writable is None or namespace in self.writable

    def visible(self, namespaces: Iterable[str], kind: Kind | None = None) -> list[str]:
        return [ns for ns in namespaces if self.can_read(ns, kind)]

    def readable_of(self, kind: Kind) -> Namespaces:
        """Where it may read ``kind``; None: every namespace."""
        return self.readable if self.by_kind is None else self.by_kind[KINDS.index(kind)]

    def reads_within(self, other: Principal, namespaces: Namespaces = None) -> bool:
        """Whether ``other`` may read everything this one may (in ``namespaces``; None: in
        any), kind by kind."""
        for kind in KINDS:
            if namespaces is not None:
                if any(
                    self.can_read(ns, kind) and not other.can_read(ns, kind) for ns in namespaces
                ):
                    return False
                continue
            mine, theirs = self.readable_of(kind), other.readable_of(kind)
            if theirs is not None and (mine is None or not mine <= theirs):
                return False
        return True

    @property
    def scope_key(self) -> str:
        """Identical exactly for principals that may read the same kinds in the same
        namespaces."""
        kinds = {self.readable_of(kind) for kind in KINDS}
        if len(kinds) == 1:
            return _key(self.readable_of(KINDS[0]))
        return ";".join(f"{kind}={_key(self.readable_of(kind))}" for kind in KINDS)


def _key(namespaces: Namespaces) -> str:
    return "*" if namespaces is None else ",".join(sorted(namespaces))


def reading_per_kind(
    name: str,
    readable: Mapping[Kind, Namespaces],
    writable: Namespaces,
    identity: Identity | None = None,
) -> Principal:
    """A principal that may read each kind where ``readable`` says (a kind left out: nowhere)."""
    sets = tuple(readable.get(kind, frozenset()) for kind in KINDS)
    visible: Namespaces = (
        None if any(s is None for s in sets) else frozenset().union(*(s for s in sets if s))
    )
    if len(set(sets)) == 1:
        return Principal(name, visible, writable, identity)
    return Principal(name, visible, writable, identity, (sets[0], sets[1], sets[2]))


OPEN = Principal("anonymous", None, None)
NOBODY = Principal("anonymous", frozenset(), frozenset())


class InvalidTokenFile(ValueError):
    """The tokens file does not have the documented shape."""


def principals_from_tokens(document: object) -> dict[str, Principal]:
    """Parse the tokens file: ``tokens: [{token, name?, namespaces: {ns: [read, write]}}]``.

    ``write`` implies ``read``; a namespace listed with an empty permission list is readable.
    Namespaces must be namespace names (RFC 1123 labels), so no two principals that see
    different namespaces share a :attr:`Principal.scope_key` (responses are cached by it).
    """
    if not isinstance(document, Mapping) or not isinstance(document.get("tokens"), list):
        raise InvalidTokenFile("expected a mapping with a 'tokens' list")
    principals: dict[str, Principal] = {}
    for index, entry in enumerate(document["tokens"]):
        where = f"tokens[{index}]"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("token"), str):
            raise InvalidTokenFile(f"{where}: needs a string 'token'")
        token = entry["token"]
        if len(token) < 8:
            raise InvalidTokenFile(f"{where}: tokens must be at least 8 characters")
        namespaces = entry.get("namespaces")
        if not isinstance(namespaces, Mapping):
            raise InvalidTokenFile(f"{where}: needs a 'namespaces' mapping")
        readable, writable = set(), set()
        for namespace, permissions in namespaces.items():
            invalid = name_errors(str(namespace), "namespace", label=True)
            if invalid:
                raise InvalidTokenFile(f"{where}.namespaces.{namespace}: {invalid[0].message}")
            if permissions is None:
                permissions = ["read"]
            if not isinstance(permissions, list) or not all(
                isinstance(p, str) for p in permissions
            ):
                raise InvalidTokenFile(
                    f"{where}.namespaces.{namespace}: expected a list of 'read'/'write'"
                )
            granted = set(permissions or ["read"])
            if not granted <= {"read", "write"}:
                raise InvalidTokenFile(f"{where}.namespaces.{namespace}: unknown permission")
            readable.add(str(namespace))
            if "write" in granted:
                writable.add(str(namespace))
        if token in principals:
            raise InvalidTokenFile(f"{where}: duplicate token")
        principals[token] = Principal(
            str(entry.get("name") or f"token-{index}"), frozenset(readable), frozenset(writable)
        )
    return principals
