"""URL paths of the Kubernetes API, parsed into plain values (no I/O, no look-ups).

``/api/v1/...`` is the core group; ``/apis/<group>/<version>/...`` every other group. A
namespaced path is ``.../namespaces/<ns>/<plural>[/<name>[/<subresource>]]``; the Namespace
objects themselves live at ``/api/v1/namespaces[/<name>[/<subresource>]]``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResourcePath:
    group: str
    version: str
    plural: str
    namespace: str = ""
    name: str = ""
    subresource: str = ""


@dataclass(frozen=True)
class GroupPath:
    """``/api``, ``/apis``, ``/apis/<group>`` or a group-version root like ``/api/v1``."""

    group: str | None
    version: str | None = None
    legacy_root: bool = False


def parse(path: str) -> ResourcePath | GroupPath | None:
    """Parse an API path; None when it is not an API path at all."""
    parts = [part for part in path.split("/") if part]
    if not parts:
        return None
    if parts[0] == "api":
        if len(parts) == 1:
            return GroupPath(group="", legacy_root=True)
        group, version, rest = "", parts[1], parts[2:]
    elif parts[0] == "apis":
        if len(parts) == 1:
            return GroupPath(group=None)
        if len(parts) == 2:
            return GroupPath(group=parts[1])
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    if not rest:
        return GroupPath(group=group, version=version)
    if (
        rest[0] == "namespaces"
        and len(rest) >= 3
        and not (len(rest) == 3 and rest[2] in ("status", "finalize"))
    ):
        namespace, rest = rest[1], rest[2:]
    else:
        namespace = ""
    if len(rest) > 3:
        return None
    plural = rest[0]
    name = rest[1] if len(rest) > 1 else ""
    subresource = rest[2] if len(rest) > 2 else ""
    return ResourcePath(group, version, plural, namespace, name, subresource)
