"""Who may see and change which namespaces.

A :class:`Principal` is attached to every request. ``None`` namespace sets mean "all" (the
open development mode). A namespace the principal may not read is indistinguishable from a
missing one everywhere in the API; writing needs the ``write`` permission on the namespace.

In ``kubernetes`` mode a principal also carries the caller's cluster :class:`Identity` (as a
TokenReview reported it): its readable namespaces are what the cluster's RBAC allows it, and
its writes are made as that identity (impersonation), so the cluster authorizes and audits
them. Such a principal's ``writable`` is None: the cluster decides each write.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from .writes import name_errors

Permission = Literal["read", "write"]


@dataclass(frozen=True)
class Identity:
    """A Kubernetes user as authentication reports it (``user.Info``)."""

    username: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """``(key, values)`` pairs, sorted by key (hashable, so identities key caches)."""


@dataclass(frozen=True)
class Principal:
    name: str
    readable: frozenset[str] | None
    """Namespaces this principal may read; None: every namespace."""
    writable: frozenset[str] | None
    identity: Identity | None = None
    """The caller's cluster identity (``kubernetes`` mode), whose rights writes are made with."""

    def can_read(self, namespace: str) -> bool:
        return self.readable is None or namespace in self.readable

    def can_write(self, namespace: str) -> bool:
        return self.writable is None or namespace in self.writable

    def visible(self, namespaces: Iterable[str]) -> list[str]:
        return [ns for ns in namespaces if self.can_read(ns)]

    @property
    def scope_key(self) -> str:
        """Identical for principals that see exactly the same namespaces."""
        if self.readable is None:
            return "*"
        return ",".join(sorted(self.readable))


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
