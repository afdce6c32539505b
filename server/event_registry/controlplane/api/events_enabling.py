"""Events served for real: their conversion between the two groups and their validation.

:func:`install` registers, on an :class:`~.apiserver.ApiServer`, the conversion of
:mod:`.events` for both groups and :func:`admit_event`, kube's Event validation: every write
passes the legacy checks (an Event without ``eventTime`` lives in its object's namespace,
``default`` when the object has none; with ``eventTime`` it names its reporting controller,
instance, action and reason, within kube's lengths); a create through events.k8s.io/v1 must
also set ``eventTime`` and a ``type`` of Normal or Warning, and leave the deprecated fields
unset, and an update through it may change only ``series`` (and metadata). An admitted
Event gets the parts kube always shows (``involvedObject``, ``source``, ``reportingComponent``,
``reportingInstance``), so every client finds them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..machinery import errors, names
from .admission import Request
from .apiserver import ApiServer
from .events import EVENTS, EVENTS_GROUP, EVENTS_V1, convert


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


# validation --------------------------------------------------------------------------------

REPORTING_INSTANCE_LIMIT = ACTION_LIMIT = REASON_LIMIT = 128
NOTE_LIMIT = 1024
_DEFAULT_NAMESPACES = ("default", "kube-system")


def _legacy_causes(event: Mapping[str, Any]) -> list[errors.Cause]:
    """kube's ``legacyValidateEvent`` on the stored (core) form."""
    causes: list[errors.Cause] = []
    namespace = _text(_mapping(event.get("metadata")).get("namespace"))
    involved_namespace = _text(_mapping(event.get("involvedObject")).get("namespace"))
    mismatch = errors.invalid_value(
        "involvedObject.namespace", involved_namespace, "does not match event.namespace"
    )
    if not event.get("eventTime"):
        # without an involved namespace the Event must be in "default" (old clients)
        if involved_namespace != namespace and (involved_namespace or namespace != "default"):
            causes.append(mismatch)
        return causes
    if not involved_namespace and namespace not in _DEFAULT_NAMESPACES:
        causes.append(mismatch)
    controller = _text(event.get("reportingComponent"))
    if not controller:
        causes.append(errors.required("reportingController"))
    for message in names.qualified_name_errors(controller) if controller else ():
        causes.append(errors.invalid_value("reportingController", controller, message))
    for field, limit in (
        ("reportingInstance", REPORTING_INSTANCE_LIMIT),
        ("action", ACTION_LIMIT),
        ("reason", REASON_LIMIT),
    ):
        value = _text(event.get(field))
        if not value:
            causes.append(errors.required(field))
        elif len(value) > limit:
            causes.append(errors.invalid_value(field, "", f"can have at most {limit} characters"))
    if len(_text(event.get("message"))) > NOTE_LIMIT:
        causes.append(
            errors.invalid_value("message", "", f"can have at most {NOTE_LIMIT} characters")
        )
    return causes


def _series_causes(event: Mapping[str, Any]) -> list[errors.Cause]:
    causes: list[errors.Cause] = []
    series = event.get("series")
    if isinstance(series, Mapping):
        count = series.get("count")
        if not isinstance(count, int) or count < 2:
            causes.append(errors.invalid_value("series.count", "", "should be at least 2"))
        if not series.get("lastObservedTime"):
            causes.append(errors.required("series.lastObservedTime"))
    return causes


def _strict_create_causes(event: Mapping[str, Any]) -> list[errors.Cause]:
    """What kube's ``ValidateEventCreate`` adds for events.k8s.io/v1 (on the core form)."""
    causes = _series_causes(event)
    if not event.get("eventTime"):
        causes.append(errors.required("eventTime"))
    if event.get("type") not in ("Normal", "Warning"):
        detail = f"has invalid value: {_text(event.get('type'))}"
        causes.append(errors.invalid_value("type", "", detail))
    for field in ("firstTimestamp", "lastTimestamp", "count"):
        if event.get(field):
            causes.append(errors.invalid_value(field, "", "needs to be unset"))
    if any(_mapping(event.get("source")).values()):
        causes.append(errors.invalid_value("source", "", "needs to be unset"))
    return causes


_IMMUTABLE = (
    ("involvedObject", "involvedObject"),
    ("reason", "reason"),
    ("message", "message"),
    ("source", "source"),
    ("firstTimestamp", "firstTimestamp"),
    ("lastTimestamp", "lastTimestamp"),
    ("count", "count"),
    ("type", "type"),
    ("eventTime", "eventTime"),
    ("action", "action"),
    ("related", "related"),
    ("reportingComponent", "reportingController"),
    ("reportingInstance", "reportingInstance"),
)
"""(stored field, the path kube names) of what an events.k8s.io/v1 update may not change."""


def _set(value: object) -> object:
    """A field's value, unset ones (absent, null, empty, zero) all alike."""
    return value if value not in (None, "", 0, {}) else None


def _strict_update_causes(new: Mapping[str, Any], old: Mapping[str, Any]) -> list[errors.Cause]:
    """What kube's ``ValidateEventUpdate`` adds for events.k8s.io/v1: only ``series`` (and
    metadata) may change, so a series is counted on, never a note rewritten."""
    causes = _series_causes(new) if _set(new.get("series")) != _set(old.get("series")) else []
    for field, path in _IMMUTABLE:
        if _set(new.get(field)) != _set(old.get(field)):
            causes.append(errors.invalid_value(path, new.get(field), "field is immutable"))
    return causes


def admit_event(request: Request) -> list[errors.Cause]:
    """Validate an Event write (in its stored core form) and fill the parts kube always shows."""
    event = request.new
    causes = _legacy_causes(event)
    if request.resource.group == EVENTS_GROUP:
        if request.operation == "CREATE":
            causes += _strict_create_causes(event)
        elif request.old is not None:
            causes += _strict_update_causes(event, request.old)
    if not causes:
        event.setdefault("involvedObject", {})
        event.setdefault("source", {})
        event.setdefault("reportingComponent", "")
        event.setdefault("reportingInstance", "")
    return causes


def install(api: ApiServer) -> None:
    """Serve Events through both groups: their conversion and their validation."""
    api.conversion.register("", EVENTS.kind, convert)
    api.conversion.register(EVENTS_GROUP, EVENTS_V1.kind, convert)
    api.admission.register(EVENTS.key, admit_event)
