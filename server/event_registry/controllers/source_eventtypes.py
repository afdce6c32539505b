"""The EventTypes a source produces, and what to create and delete to get there (pure).

Knative's source EventType reconciler (knative/eventing ``pkg/reconciler/source/duck``),
computed without I/O: the registrar (:mod:`.registrar`) feeds it raw CRDs, sources and
EventTypes and carries out the :class:`Diff` it returns.

What is the same as Knative:

- a *source kind* is a CRD labelled ``duck.knative.dev/source: "true"``; its
  ``registry.knative.dev/eventTypes`` annotation (JSON list of ``{type, schema,
  description}``) gives each type's schema and description;
- a source produces one EventType per ``status.ceAttributes[]`` entry with a ``type``
  (its ``type`` and ``source``), in the source's namespace, in ``eventing.knative.dev/v1beta2``,
  with ``spec.reference`` the sink's ``ref`` as written, labelled
  ``eventing.knative.dev/sourceName: <source>`` and owned by the source through a
  ``controller: true, blockOwnerDeletion: true`` ownerReference (so the API server's garbage
  collector deletes them with the source);
- "ours" are the EventTypes with that label whose controller ownerReference carries the
  source's uid; the diff creates what is expected and missing, deletes ours that are not
  expected, and replaces (delete, then create) one whose spec differs (EventType specs are
  immutable).

Where it differs, and why:

- **Broker sinks only.** Current Knative registers for any ``spec.sink.ref`` (a Channel, a
  Service...); the registry's issue asks for Broker sinks (kind ``Broker``, group
  ``eventing.knative.dev``), as Knative did before v1beta2. A URI sink, or any other ref,
  produces nothing (and what was registered is deleted).
- **When no controller reports ``status.ceAttributes``** (the embedded control plane runs no
  source controllers) and ``derive`` is set, the attributes are those the source's own
  controller would report: GitHubSource ``dev.knative.source.github.<event>`` per
  ``spec.eventTypes`` from ``https://github.com/<spec.ownerAndRepository>``
  (knative-extensions/eventing-github); PingSource ``dev.knative.sources.ping`` from
  ``/apis/v1/namespaces/<ns>/pingsources/<name>``; ApiServerSource the three
  ``dev.knative.apiserver.ref.*`` (``spec.mode`` Reference, the default) or
  ``...resource.*`` (Resource) types from :data:`API_SERVER_URL`; any other kind every type
  of its CRD's annotation from the object's own path. Knative creates nothing until the
  status is written. ``status.ceAttributes``, when present, always wins (an empty list: none).
- **Names.** Knative names each EventType ``md5(type + source + schema + source uid)``;
  the design note shows ``generateName``-style names (``dev.knative.source.github.push-34cnb``).
  A real ``generateName`` cannot be retried safely (a create whose answer was lost would make a
  second object), so the name has that shape but its five characters are derived from the
  source's uid and the EventType's spec: deterministic, hence idempotent (a retried create
  is refused as AlreadyExists), and a spec change yields a new name.
- Knative keys current EventTypes by ``type_source_schema_reference.name`` and silently keeps
  one of two with the same key; here a duplicate (which no registrar of this kind creates,
  but a second controller could) is deleted.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..knative import vocabulary as kn

Raw = Mapping[str, Any]

API_SERVER_URL = "https://kubernetes.default.svc"
"""The CloudEvents ``source`` of a derived ApiServerSource type (Knative's controller uses
the API server's host as its kubeconfig names it; inside a cluster, this one)."""
GITHUB_TYPE_PREFIX = "dev.knative.source.github."
GITHUB_SOURCE_PREFIX = "https://github.com/"
PING_TYPE = "dev.knative.sources.ping"
API_SERVER_TYPES = {
    "Reference": ("dev.knative.apiserver.ref.add", "dev.knative.apiserver.ref.delete",
                  "dev.knative.apiserver.ref.update"),
    "Resource": ("dev.knative.apiserver.resource.add", "dev.knative.apiserver.resource.delete",
                 "dev.knative.apiserver.resource.update"),
}  # fmt: skip
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
"""The API server's ``generateName`` alphabet (no vowels, no look-alikes)."""
NAME_PREFIX_LIMIT = 58


def _mapping(value: object) -> Raw:
    return value if isinstance(value, Mapping) else {}


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


# source kinds ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Declared:
    """One entry of a source CRD's ``registry.knative.dev/eventTypes`` annotation."""

    type: str
    schema: str = ""
    description: str = ""


@dataclass(frozen=True)
class SourceKind:
    """A source kind as its CRD announces it: where its objects are served, what they emit."""

    group: str
    kind: str
    plural: str
    version: str
    """The storage version (the one the registrar watches)."""
    declared: tuple[Declared, ...] = ()
    annotation_error: str = field(default="", compare=False)
    """Why the annotation could not be read ("" when it could)."""

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"

    def declared_by_type(self) -> dict[str, Declared]:
        return {entry.type: entry for entry in self.declared}


def declared_event_types(annotation: str) -> tuple[tuple[Declared, ...], str]:
    """The annotation's entries and "" , or () and why it is unreadable (as Knative, a bad
    annotation only loses schemas and descriptions)."""
    try:
        value = json.loads(annotation)
    except ValueError as error:
        return (), f"{kn.EVENT_TYPES_ANNOTATION} is not JSON: {error}"
    if not isinstance(value, list):
        return (), f"{kn.EVENT_TYPES_ANNOTATION} is not a JSON list"
    entries = tuple(
        Declared(
            type=_text(item.get("type")),
            schema=_text(item.get("schema")),
            description=_text(item.get("description")),
        )
        for item in value
        if isinstance(item, Mapping) and _text(item.get("type"))
    )
    return entries, ""


def source_kind(crd: Raw) -> SourceKind | None:
    """The source kind a CRD defines, or None when it is no source kind with an
    ``registry.knative.dev/eventTypes`` annotation (or is being deleted, or serves nothing)."""
    metadata = _mapping(crd.get("metadata"))
    labels = _mapping(metadata.get("labels"))
    annotations = _mapping(metadata.get("annotations"))
    annotation = annotations.get(kn.EVENT_TYPES_ANNOTATION)
    if labels.get(kn.SOURCE_DUCK_LABEL) != "true" or not isinstance(annotation, str):
        return None
    if metadata.get("deletionTimestamp"):
        return None
    spec = _mapping(crd.get("spec"))
    names = _mapping(spec.get("names"))
    if spec.get("scope") != "Namespaced":
        return None
    versions = [_mapping(v) for v in spec.get("versions") or () if isinstance(v, Mapping)]
    served = [v for v in versions if v.get("served")]
    chosen = next((v for v in served if v.get("storage")), served[0] if served else None)
    group, kind, plural = (
        _text(spec.get("group")),
        _text(names.get("kind")),
        _text(names.get("plural")),
    )
    if chosen is None or not (group and kind and plural and _text(chosen.get("name"))):
        return None
    declared, error = declared_event_types(annotation)
    return SourceKind(group, kind, plural, _text(chosen.get("name")), declared, error)


# expected EventTypes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """An EventType a source produces: the spec the registrar writes."""

    type: str
    source: str
    reference: tuple[tuple[str, str], ...]
    """The sink's ref, as sorted (field, value) pairs (namespace defaulted to the source's)."""
    schema: str = ""
    description: str = ""

    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"type": self.type, "reference": dict(self.reference)}
        if self.source:
            spec["source"] = self.source
        if self.schema:
            spec["schema"] = self.schema
        if self.description:
            spec["description"] = self.description
        return spec


def broker_sink(source: Raw) -> tuple[tuple[str, str], ...] | None:
    """The source's ``spec.sink.ref`` when it names a Broker, with its namespace defaulted."""
    ref = _mapping(_mapping(_mapping(source.get("spec")).get("sink")).get("ref"))
    api_version, kind, name = (_text(ref.get(f)) for f in ("apiVersion", "kind", "name"))
    if kind != kn.BROKER.kind or api_version.rpartition("/")[0] != kn.BROKER.group or not name:
        return None
    namespace = _text(ref.get("namespace")) or _text(
        _mapping(source.get("metadata")).get("namespace")
    )
    return tuple(
        sorted(
            {"apiVersion": api_version, "kind": kind, "name": name, "namespace": namespace}.items()
        )
    )


def ce_attributes(source: Raw, kind: SourceKind, *, derive: bool) -> list[tuple[str, str]]:
    """(type, source) of each event the source emits: ``status.ceAttributes`` when reported,
    else (with ``derive``) what the kind's controller would report (see the module doc)."""
    reported = _mapping(source.get("status")).get("ceAttributes")
    if isinstance(reported, list):
        return [
            (_text(item.get("type")), _text(item.get("source")))
            for item in reported
            if isinstance(item, Mapping) and _text(item.get("type"))
        ]
    if not derive:
        return []
    spec = _mapping(source.get("spec"))
    metadata = _mapping(source.get("metadata"))
    namespace, name = _text(metadata.get("namespace")), _text(metadata.get("name"))
    if (kind.group, kind.kind) == (kn.GITHUB_SOURCE.group, kn.GITHUB_SOURCE.kind):
        origin = GITHUB_SOURCE_PREFIX + _text(spec.get("ownerAndRepository"))
        events = spec.get("eventTypes")
        events = events if isinstance(events, list) else []
        return [(GITHUB_TYPE_PREFIX + e, origin) for e in events if isinstance(e, str) and e]
    if (kind.group, kind.kind) == (kn.PING_SOURCE.group, kn.PING_SOURCE.kind):
        return [(PING_TYPE, f"/apis/v1/namespaces/{namespace}/pingsources/{name}")]
    if (kind.group, kind.kind) == (kn.API_SERVER_SOURCE.group, kn.API_SERVER_SOURCE.kind):
        types = API_SERVER_TYPES.get(_text(spec.get("mode")) or "Reference", ())
        return [(type_, API_SERVER_URL) for type_ in types]
    path = f"/apis/{kind.group}/{kind.version}/namespaces/{namespace}/{kind.plural}/{name}"
    return [(entry.type, path) for entry in kind.declared]


def expected_event_types(source: Raw, kind: SourceKind, *, derive: bool) -> tuple[Expected, ...]:
    """What the source should have registered (none unless its sink is a Broker, none while it
    is being deleted), each distinct spec once, in the order its attributes list them."""
    if _mapping(source.get("metadata")).get("deletionTimestamp"):
        return ()
    reference = broker_sink(source)
    if reference is None:
        return ()
    declared = kind.declared_by_type()
    expected: dict[Expected, None] = {}
    for type_, origin in ce_attributes(source, kind, derive=derive):
        entry = declared.get(type_, Declared(type_))
        item = Expected(type_, origin, reference, entry.schema, entry.description)
        expected[item] = None
    return tuple(expected)


# the EventTypes a source registered ------------------------------------------------------------


def controller_uid(event_type: Raw) -> str:
    """The uid of the EventType's controller ownerReference ("" without one)."""
    owners = _mapping(event_type.get("metadata")).get("ownerReferences")
    for owner in owners if isinstance(owners, list) else ():
        if isinstance(owner, Mapping) and owner.get("controller") is True:
            return _text(owner.get("uid"))
    return ""


def registered_by(event_type: Raw, source_name: str, source_uid: str) -> bool:
    """Whether the EventType is one the reconciler registered for this source: labelled with
    its name and controlled by its uid (Knative's ``IsControlledBy`` on the labelled ones)."""
    labels = _mapping(_mapping(event_type.get("metadata")).get("labels"))
    return (
        labels.get(kn.SOURCE_NAME_LABEL) == source_name and controller_uid(event_type) == source_uid
    )


def as_expected(event_type: Raw) -> Expected:
    """The :class:`Expected` an existing EventType's spec amounts to (for comparison)."""
    spec = _mapping(event_type.get("spec"))
    ref = _mapping(spec.get("reference"))
    namespace = _text(ref.get("namespace")) or _text(
        _mapping(event_type.get("metadata")).get("namespace")
    )
    reference = {f: _text(ref.get(f)) for f in ("apiVersion", "kind", "name")}
    reference["namespace"] = namespace
    return Expected(
        type=_text(spec.get("type")),
        source=_text(spec.get("source")),
        reference=tuple(sorted(reference.items())),
        schema=_text(spec.get("schema")),
        description=_text(spec.get("description")),
    )


@dataclass(frozen=True)
class Diff:
    create: tuple[Expected, ...]
    delete: tuple[str, ...]
    """Names of EventTypes to delete (before creating: a changed spec is a replacement)."""

    @property
    def empty(self) -> bool:
        return not self.create and not self.delete


def diff(current: Iterable[Raw], expected: Sequence[Expected]) -> Diff:
    """From the source's current EventTypes to the expected ones (names sorted, creations in
    the expected order)."""
    kept: set[Expected] = set()
    delete: list[str] = []
    wanted = set(expected)
    for event_type in sorted(current, key=_name):
        have = as_expected(event_type)
        if have in wanted and have not in kept:
            kept.add(have)
        else:
            delete.append(_name(event_type))
    return Diff(tuple(e for e in expected if e not in kept), tuple(delete))


def _name(event_type: Raw) -> str:
    return _text(_mapping(event_type.get("metadata")).get("name"))


# manifests -------------------------------------------------------------------------------------


def name_prefix(type_: str) -> str:
    """A DNS-1123 subdomain prefix from a CloudEvents type, as the design note writes it
    (``dev.knative.source.github.pull_request`` → ``dev.knative.source.github.pullrequest``)."""
    labels = (re.sub(r"[^a-z0-9-]", "", label.lower()).strip("-") for label in type_.split("."))
    prefix = ".".join(label for label in labels if label)[: NAME_PREFIX_LIMIT - 1]
    return prefix.rstrip(".-") or "eventtype"


def event_type_name(expected: Expected, source_uid: str) -> str:
    """``<prefix>-<five characters>``: deterministic in the source's uid and the spec."""
    digest = hashlib.sha256(
        json.dumps([source_uid, expected.spec()], sort_keys=True).encode()
    ).digest()
    suffix = "".join(NAME_ALPHABET[byte % len(NAME_ALPHABET)] for byte in digest[:5])
    return f"{name_prefix(expected.type)}-{suffix}"


def manifest(
    expected: Expected, source: Raw, kind: SourceKind, *, generate: bool = False
) -> dict[str, Any]:
    """The v1beta2 EventType to create for the source (``generate``: with ``generateName``
    instead of the deterministic name, when that name is taken by an object not ours)."""
    metadata = _mapping(source.get("metadata"))
    name = event_type_name(expected, _text(metadata.get("uid")))
    naming = {"generateName": f"{name}-"} if generate else {"name": name}
    return {
        "apiVersion": kn.EVENT_TYPE.api_version,
        "kind": kn.EVENT_TYPE.kind,
        "metadata": {
            **naming,
            "namespace": _text(metadata.get("namespace")),
            "labels": {kn.SOURCE_NAME_LABEL: _text(metadata.get("name"))},
            "ownerReferences": [
                {
                    "apiVersion": kind.api_version,
                    "kind": kind.kind,
                    "name": _text(metadata.get("name")),
                    "uid": _text(metadata.get("uid")),
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": expected.spec(),
    }
