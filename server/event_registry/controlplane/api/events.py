"""Events: core ``v1`` and ``events.k8s.io/v1``, one set of stored objects seen through both.

As in kube-apiserver, an Event is stored once (here in its core ``v1`` form) and served by
both groups, converted field by field the way ``pkg/apis/events/v1`` converts it: ``note`` is
``message``, ``regarding`` is ``involvedObject``, ``reportingController`` is
``reportingComponent``, ``deprecatedSource``/``deprecatedFirstTimestamp``/
``deprecatedLastTimestamp``/``deprecatedCount`` are ``source``/``firstTimestamp``/
``lastTimestamp``/``count``; every other field keeps its name. So an Event created through
either group is listed, watched, patched and deleted through the other.

Also as kube-apiserver serves them:

- field selectors name ``involvedObject.{kind,namespace,name,uid,apiVersion,resourceVersion,
  fieldPath}``, ``reason``, ``reportingComponent``, ``source`` (the source component, else the
  reporting controller) and ``type`` in core ``v1``; events.k8s.io names the same fields
  ``regarding.*``, ``reportingController``, ``reason``, ``source`` and ``type`` (kubectl
  describe lists an object's Events with ``involvedObject.name``/``.namespace``/``.kind``/
  ``.uid``);
- Tables carry kube's Event columns (Last Seen, Type, Reason, Object, Message; wide: Subobject,
  Source, First Seen, Count, Name), cells computed as kube's ``printEvent`` does;
- validation as kube's (:mod:`.events_enabling`, which installs conversion and validation);
- they expire: :class:`~.expiring.EventExpiry` deletes each Event its TTL after its last write
  (kube-apiserver's ``--event-ttl``, one hour by default).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from ..machinery import cells
from ..machinery.field_labels import FieldLabels
from .resources import PrinterColumn, Resource, Version
from .schema_words import INTEGER, STRING, TIME, described, object_of

EVENTS_GROUP = "events.k8s.io"
CORE_API_VERSION = "v1"
EVENTS_API_VERSION = f"{EVENTS_GROUP}/v1"

_CORE_ONLY_NAMES = {
    "involvedObject": "regarding",
    "message": "note",
    "reportingComponent": "reportingController",
    "source": "deprecatedSource",
    "firstTimestamp": "deprecatedFirstTimestamp",
    "lastTimestamp": "deprecatedLastTimestamp",
    "count": "deprecatedCount",
}
"""Core field → events.k8s.io field; the fields not listed have the same name in both."""
_SHARED_NAMES = ("reason", "type", "eventTime", "series", "action", "related", "reportingInstance")
_EVENTS_TO_CORE = {new: old for old, new in _CORE_ONLY_NAMES.items()}


def _renamed(
    obj: Mapping[str, Any], names_map: Mapping[str, str], api_version: str
) -> dict[str, Any]:
    converted: dict[str, Any] = {"apiVersion": api_version, "kind": "Event"}
    if "metadata" in obj:
        converted["metadata"] = obj["metadata"]
    for name in _SHARED_NAMES:
        if name in obj:
            converted[name] = obj[name]
    for source, target in names_map.items():
        if source in obj:
            converted[target] = obj[source]
    return converted


def convert(obj: dict[str, Any], api_version: str) -> dict[str, Any]:
    """An Event of either group in ``api_version`` (``v1`` or ``events.k8s.io/v1``)."""
    if obj.get("apiVersion") == api_version:
        return obj
    if api_version == EVENTS_API_VERSION:
        return _renamed(obj, _CORE_ONLY_NAMES, api_version)
    return _renamed(obj, _EVENTS_TO_CORE, api_version)


def _core(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj if obj.get("apiVersion") == CORE_API_VERSION else convert(dict(obj), "v1")


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


# field selectors ---------------------------------------------------------------------------

_INVOLVED = ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")


def _selectable(obj: Mapping[str, Any]) -> dict[str, str]:
    """kube's ``ToSelectableFields`` of a stored (core) Event."""
    involved = _mapping(obj.get("involvedObject"))
    source = _text(_mapping(obj.get("source")).get("component"))
    fields = {f"involvedObject.{name}": _text(involved.get(name)) for name in _INVOLVED}
    fields["reason"] = _text(obj.get("reason"))
    fields["reportingComponent"] = _text(obj.get("reportingComponent"))
    fields["source"] = source or fields["reportingComponent"]
    fields["type"] = _text(obj.get("type"))
    return fields


_METADATA = {"metadata.name": "metadata.name", "metadata.namespace": "metadata.namespace"}
_SHARED_LABELS = {"reason": "reason", "source": "source", "type": "type"}
CORE_FIELD_LABELS = FieldLabels(
    labels={
        **{f"involvedObject.{n}": f"involvedObject.{n}" for n in _INVOLVED},
        **_SHARED_LABELS,
        "reportingComponent": "reportingComponent",
        **_METADATA,
    },
    read=_selectable,
)
EVENTS_FIELD_LABELS = FieldLabels(
    labels={
        **{f"regarding.{n}": f"involvedObject.{n}" for n in _INVOLVED},
        **_SHARED_LABELS,
        "reportingController": "reportingComponent",
        **_METADATA,
    },
    read=_selectable,
)


# printer columns ---------------------------------------------------------------------------


def _since(timestamp: object) -> str:
    now = datetime.datetime.now(datetime.UTC)
    return str(cells.cell_value("date", [timestamp if isinstance(timestamp, str) else ""], now))


def _first_seen(event: Mapping[str, Any]) -> str:
    first = event.get("firstTimestamp")
    return _since(first) if first else _since(event.get("eventTime"))


def _last_seen(obj: Mapping[str, Any]) -> object:
    event = _core(obj)
    series = _mapping(event.get("series"))
    if series:
        return _since(series.get("lastObservedTime"))
    last = event.get("lastTimestamp")
    return _since(last) if last else _first_seen(event)


def _count(obj: Mapping[str, Any]) -> object:
    event = _core(obj)
    series = _mapping(event.get("series"))
    if series:
        return int(series.get("count") or 0)
    count = event.get("count")
    return count if isinstance(count, int) and count else 1


def _object(obj: Mapping[str, Any]) -> object:
    involved = _mapping(_core(obj).get("involvedObject"))
    kind, name = _text(involved.get("kind")).lower(), _text(involved.get("name"))
    return f"{kind}/{name}" if name else kind


def _source(obj: Mapping[str, Any]) -> object:
    event = _core(obj)
    source = _mapping(event.get("source"))
    component = _text(source.get("component")) or _text(event.get("reportingComponent"))
    instance = _text(source.get("host")) or _text(event.get("reportingInstance"))
    return f"{component}, {instance}" if instance else component


def _field(name: str, path: tuple[str, ...] = ()) -> Any:
    def cell(obj: Mapping[str, Any]) -> object:
        value: Any = _core(obj)
        for step in path:
            value = _mapping(value).get(step)
        return _text(_mapping(value).get(name)).strip()

    return cell


_COLUMNS = (
    PrinterColumn("Last Seen", "string", ".lastTimestamp", compute=_last_seen),
    PrinterColumn("Type", "string", ".type", compute=_field("type")),
    PrinterColumn("Reason", "string", ".reason", compute=_field("reason")),
    PrinterColumn("Object", "string", ".involvedObject", compute=_object),
    PrinterColumn(
        "Subobject",
        "string",
        ".involvedObject.fieldPath",
        priority=1,
        compute=_field("fieldPath", ("involvedObject",)),
    ),
    PrinterColumn("Source", "string", ".source", priority=1, compute=_source),
    PrinterColumn("Message", "string", ".message", compute=_field("message")),
    PrinterColumn(
        "First Seen",
        "string",
        ".firstTimestamp",
        priority=1,
        compute=lambda obj: _first_seen(_core(obj)),
    ),
    PrinterColumn("Count", "string", ".count", priority=1, compute=_count),
    PrinterColumn(
        "Name",
        "string",
        ".metadata.name",
        format="name",
        priority=1,
        compute=lambda obj: obj["metadata"]["name"],
    ),
)


# schemas -----------------------------------------------------------------------------------


_REFERENCE_FIELDS = {
    "kind": described(STRING, "The object's kind (EventType, Broker, ...)."),
    "namespace": described(STRING, "The object's namespace."),
    "name": described(STRING, "The object's name."),
    "uid": described(STRING, "The object's uid: which incarnation of the name."),
    "apiVersion": described(STRING, "The API version the object was read in."),
    "resourceVersion": described(STRING, "The object's resourceVersion when it was reported on."),
    "fieldPath": described(STRING, "The part of the object meant, when not all of it."),
}


def _reference(description: str) -> dict[str, Any]:
    return object_of(description, **_REFERENCE_FIELDS)


_SOURCE = object_of(
    "Who reported the Event (the older pair of reportingComponent and reportingInstance).",
    component=described(STRING, "The reporting component."),
    host=described(STRING, "The host (instance) it ran on."),
)
_SERIES = object_of(
    "A run of the same Event: how many so far and when the last one was seen.",
    count=described(INTEGER, "Occurrences in the series so far."),
    lastObservedTime=described(TIME, "When the latest occurrence was seen."),
)
_SHARED_SCHEMA = {
    "reason": described(STRING, "Why the Event happened: one UpperCamelCase word for machines."),
    "type": described(STRING, "Normal, or Warning for something that needs attention."),
    "eventTime": described(TIME, "When the Event was first seen, to the microsecond."),
    "series": {**_SERIES, "nullable": True},
    "action": described(STRING, "What was done, or failed to be done, about the object."),
    "related": {**_reference("A second object the Event concerns, if any."), "nullable": True},
    "reportingInstance": described(STRING, "Which instance of the reporter (its host or pod)."),
}
_EVENT = "Something that happened to an object, reported by a controller."
CORE_SCHEMA = object_of(
    _EVENT + " The same Events are served as events.k8s.io/v1.",
    involvedObject=_reference("The object the Event is about."),
    message=described(STRING, "What happened, for people to read."),
    source=_SOURCE,
    firstTimestamp=described(TIME, "When the Event was first recorded."),
    lastTimestamp=described(TIME, "When the Event was last recorded."),
    count=described(INTEGER, "How many times the Event was recorded."),
    reportingComponent=described(
        STRING, "The controller that reported it (eventing.knative.dev/event-registry)."
    ),
    **_SHARED_SCHEMA,
)
EVENTS_SCHEMA = object_of(
    _EVENT + " The same Events are served in core v1.",
    regarding=_reference("The object the Event is about (core v1: involvedObject)."),
    note=described(STRING, "What happened, for people to read (core v1: message)."),
    deprecatedSource=_SOURCE,
    deprecatedFirstTimestamp=described(TIME, "core v1's firstTimestamp, kept for old readers."),
    deprecatedLastTimestamp=described(TIME, "core v1's lastTimestamp, kept for old readers."),
    deprecatedCount=described(INTEGER, "core v1's count, kept for old readers."),
    reportingController=described(
        STRING, "The controller that reported it (core v1: reportingComponent)."
    ),
    **_SHARED_SCHEMA,
)

EVENTS = Resource(
    group="",
    plural="events",
    singular="event",
    kind="Event",
    namespaced=True,
    short_names=("ev",),
    builtin=True,
    generation_tracked=False,
    field_labels=CORE_FIELD_LABELS,
    versions=(Version(name="v1", storage=True, schema=CORE_SCHEMA, columns=_COLUMNS),),
)
EVENTS_V1 = Resource(
    group=EVENTS_GROUP,
    plural="events",
    singular="event",
    kind="Event",
    namespaced=True,
    short_names=("ev",),
    builtin=True,
    generation_tracked=False,
    stored_as=EVENTS.key,
    field_labels=EVENTS_FIELD_LABELS,
    versions=(Version(name="v1", storage=True, schema=EVENTS_SCHEMA, columns=_COLUMNS),),
)
EVENT_RESOURCES = (EVENTS, EVENTS_V1)
