"""Raw objects: the JSON of each watched object exactly as the API server sent it.

The registry's :class:`~event_registry.store.caching.Cache` keeps normalized domain models;
a controller also needs what they drop (``generation``, ``spec.delivery``, the address
details, or kinds the registry has no model for). A reflector given a :class:`RawObjects`
(``Informer(..., raw=...)``) updates it *before* it applies the same event to its cache, so a
cache listener, and any work it queues, finds the raw object matching the snapshot it sees.

A :class:`RawObjects` is also a reflector's sink on its own (it records sync state), for
controllers that watch kinds no cache models, such as source kinds discovered at run time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

Key = tuple[str, str, str]
"""(kind, namespace, name); the namespace is empty for cluster-scoped objects."""


def key_of(kind: str, raw: Mapping[str, Any]) -> Key:
    metadata = raw.get("metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    return (kind, str(metadata.get("namespace") or ""), str(metadata.get("name") or ""))


class RawObjects:
    def __init__(self) -> None:
        self._objects: dict[Key, Mapping[str, Any]] = {}
        self._synced: dict[str, bool] = {}
        self._why_unsynced: dict[str, str] = {}

    def get(self, kind: str, namespace: str, name: str) -> Mapping[str, Any] | None:
        return self._objects.get((kind, namespace, name))

    def of_kind(self, kind: str) -> list[Mapping[str, Any]]:
        return [raw for key, raw in self._objects.items() if key[0] == kind]

    def apply(self, kind: str, change_type: str, raw: Mapping[str, Any]) -> None:
        """One watch event (ADDED, MODIFIED or DELETED)."""
        key = key_of(kind, raw)
        if change_type == "DELETED":
            self._objects.pop(key, None)
        else:
            self._objects[key] = raw

    def replace(self, kind: str, raws: Iterable[Mapping[str, Any]]) -> None:
        """Make the objects of ``kind`` equal a fresh list."""
        fresh = {key_of(kind, raw): raw for raw in raws}
        for key in [key for key in self._objects if key[0] == kind and key not in fresh]:
            del self._objects[key]
        self._objects.update(fresh)

    # sync state, when a reflector feeds this store alone ----------------------------------

    def set_synced(self, kind: str, synced: bool) -> None:
        self._synced[kind] = synced
        if synced:
            self._why_unsynced.pop(kind, None)

    def mark_unsynced(self, kind: str, reason: str) -> None:
        self.set_synced(kind, False)
        self._why_unsynced[kind] = reason

    @property
    def sync_state(self) -> dict[str, bool]:
        return dict(self._synced)

    @property
    def unsynced_reasons(self) -> dict[str, str]:
        return dict(self._why_unsynced)
