"""Durable object storage with a global, monotonic revision and a bounded change history.

Guarantees:

- Every write gets the next revision from one counter; revisions are unique, strictly
  increasing and survive restarts (the counter is stored with each write, in the same SQLite
  transaction as the object and its history entry).
- Reads come from an in-memory index that always equals the committed SQLite state, so a read
  after a write sees it. Stored dicts are never mutated after a write; callers copy before
  changing an object.
- The history keeps the last ``history_limit`` changes (on disk and in memory). Asking for
  changes after, or for the state at, a revision that has been compacted raises
  :class:`TooOld`, which the API turns into 410 Expired, never into a silent gap.
- One process owns a data directory at a time (an exclusive lock file).

Not thread-safe: the control plane calls it from its single event-loop thread only, which is
also what makes read-check-write sequences in the services atomic.
"""

from __future__ import annotations

import bisect
import fcntl
import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

EventType = Literal["ADDED", "MODIFIED", "DELETED"]
Key = tuple[str, str]  # (namespace, name); namespace is "" for cluster-scoped objects

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS objects (
    resource TEXT NOT NULL, namespace TEXT NOT NULL, name TEXT NOT NULL,
    revision INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (resource, namespace, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    revision INTEGER PRIMARY KEY, resource TEXT NOT NULL, namespace TEXT NOT NULL,
    name TEXT NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL, previous TEXT
);
"""


class TooOld(Exception):
    """The requested revision is older than the retained history."""

    def __init__(self, requested: int, compacted: int) -> None:
        super().__init__(f"revision {requested} is compacted (oldest kept: {compacted + 1})")
        self.requested = requested
        self.compacted = compacted


class StorageLocked(Exception):
    """Another process is using the data directory."""


@dataclass(frozen=True)
class Event:
    """One committed change. ``object`` is the new state; for DELETED the last state."""

    revision: int
    type: EventType
    resource: str
    namespace: str
    name: str
    object: dict[str, Any]
    previous: dict[str, Any] | None


def _dumps(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


class Storage:
    """Objects by resource and key, a revision counter and the change history."""

    def __init__(self, data_dir: Path, *, history_limit: int = 100_000) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self._lock_file = os.open(data_dir / "controlplane.lock", os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            os.close(self._lock_file)
            raise StorageLocked(f"{data_dir} is in use by another control plane") from error
        self.history_limit = max(1, history_limit)
        self._db = sqlite3.connect(data_dir / "store.sqlite3", isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._objects: dict[str, dict[Key, dict[str, Any]]] = {}
        self._uids: dict[str, tuple[str, Key]] = {}
        self._dependents: dict[str, set[tuple[str, Key]]] = {}
        self._history: list[Event] = []
        self._history_revisions: list[int] = []
        self.revision = self._meta("revision")
        self.compacted = self._meta("compacted")
        self._load()

    def _meta(self, key: str) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0

    def _load(self) -> None:
        for resource, namespace, name, body in self._db.execute(
            "SELECT resource, namespace, name, body FROM objects"
        ):
            self._index(resource, (namespace, name), json.loads(body))
        rows = self._db.execute(
            "SELECT revision, type, resource, namespace, name, body, previous FROM events "
            "WHERE revision > ? ORDER BY revision",
            (self.compacted,),
        )
        for revision, kind, resource, namespace, name, body, previous in rows:
            event = Event(
                revision,
                kind,
                resource,
                namespace,
                name,
                json.loads(body),
                json.loads(previous) if previous else None,
            )
            self._history.append(event)
            self._history_revisions.append(revision)

    def close(self) -> None:
        self._db.close()
        fcntl.flock(self._lock_file, fcntl.LOCK_UN)
        os.close(self._lock_file)

    # reads -------------------------------------------------------------------------------

    def get(self, resource: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self._objects.get(resource, {}).get((namespace, name))

    def items(self, resource: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """Current objects of a resource, sorted by (namespace, name)."""
        objects = self._objects.get(resource, {})
        keys = sorted(key for key in objects if namespace is None or key[0] == namespace)
        return [objects[key] for key in keys]

    def items_at(self, resource: str, namespace: str | None, revision: int) -> list[dict[str, Any]]:
        """The objects as they were right after ``revision`` (for paged and exact lists)."""
        later = self.events_after(revision, resource)
        state = {
            key: obj
            for key, obj in self._objects.get(resource, {}).items()
            if namespace is None or key[0] == namespace
        }
        for event in reversed(later):
            if namespace is not None and event.namespace != namespace:
                continue
            key = (event.namespace, event.name)
            if event.type == "ADDED":
                state.pop(key, None)
            else:
                assert event.previous is not None
                state[key] = event.previous
        return [state[key] for key in sorted(state)]

    def events_after(self, revision: int, resource: str | None = None) -> list[Event]:
        """Every change with a revision above ``revision``, oldest first."""
        if revision < self.compacted:
            raise TooOld(revision, self.compacted)
        start = bisect.bisect_right(self._history_revisions, revision)
        events = self._history[start:]
        if resource is None:
            return events
        return [event for event in events if event.resource == resource]

    def locate_uid(self, uid: str) -> tuple[str, str, str] | None:
        found = self._uids.get(uid)
        return (found[0], *found[1]) if found else None

    def dependents(self, owner_uid: str) -> list[tuple[str, str, str]]:
        """Objects whose ownerReferences name ``owner_uid``: (resource, namespace, name)."""
        return sorted((resource, *key) for resource, key in self._dependents.get(owner_uid, set()))

    def namespaced_contents(self, namespace: str) -> Iterator[tuple[str, str]]:
        """(resource, name) of every object inside ``namespace``."""
        for resource, objects in self._objects.items():
            for key in objects:
                if key[0] == namespace:
                    yield resource, key[1]

    # writes ------------------------------------------------------------------------------

    def write(
        self,
        kind: EventType,
        resource: str,
        obj: dict[str, Any],
        previous: dict[str, Any] | None,
    ) -> Event:
        """Commit one change; stamps ``metadata.resourceVersion`` with the new revision."""
        revision = self.revision + 1
        obj["metadata"]["resourceVersion"] = str(revision)
        meta = obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        body = _dumps(obj)
        with self._transaction():
            if kind == "DELETED":
                self._db.execute(
                    "DELETE FROM objects WHERE resource = ? AND namespace = ? AND name = ?",
                    (resource, *key),
                )
            else:
                self._db.execute(
                    "INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?, ?)",
                    (resource, *key, revision, body),
                )
            self._db.execute(
                "INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    revision,
                    resource,
                    *key,
                    kind,
                    body,
                    _dumps(previous) if previous is not None else None,
                ),
            )
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('revision', ?)", (revision,))
        self.revision = revision
        if previous is not None:
            self._unindex(resource, key, previous)
        if kind != "DELETED":
            self._index(resource, key, obj)
        event = Event(revision, kind, resource, key[0], key[1], obj, previous)
        self._history.append(event)
        self._history_revisions.append(revision)
        self._compact()
        return event

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    def _index(self, resource: str, key: Key, obj: dict[str, Any]) -> None:
        self._objects.setdefault(resource, {})[key] = obj
        meta = obj["metadata"]
        self._uids[meta["uid"]] = (resource, key)
        for reference in meta.get("ownerReferences") or ():
            self._dependents.setdefault(reference["uid"], set()).add((resource, key))

    def _unindex(self, resource: str, key: Key, obj: dict[str, Any]) -> None:
        self._objects.get(resource, {}).pop(key, None)
        meta = obj["metadata"]
        self._uids.pop(meta["uid"], None)
        for reference in meta.get("ownerReferences") or ():
            owners = self._dependents.get(reference["uid"])
            if owners is not None:
                owners.discard((resource, key))
                if not owners:
                    del self._dependents[reference["uid"]]

    def _compact(self) -> None:
        excess = len(self._history) - self.history_limit
        # Trim in batches so compaction is amortised, not paid on every write.
        if excess < max(1, self.history_limit // 10):
            return
        self.compacted = self._history_revisions[excess - 1]
        del self._history[:excess]
        del self._history_revisions[:excess]
        with self._transaction():
            self._db.execute("DELETE FROM events WHERE revision <= ?", (self.compacted,))
            self._db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('compacted', ?)", (self.compacted,)
            )


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._db.execute("COMMIT" if exc_type is None else "ROLLBACK")
