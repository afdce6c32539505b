"""Decoder for Kubernetes protobuf request bodies (``application/vnd.kubernetes.protobuf``).

kubectl's typed-client commands (``create namespace``, ``create configmap``) send their
bodies as protobuf even when the server answers JSON. This module turns such a body into
the JSON-shaped ``dict`` the rest of the control plane works with. Stdlib only: the wire
format is decoded by hand.

Layout: the magic bytes ``k8s\\x00``, then a ``runtime.Unknown`` message
{1 TypeMeta{1 apiVersion, 2 kind}, 2 raw, 3 contentEncoding, 4 contentType}, where ``raw``
is the object's own message. Decoded kinds (``apiVersion`` ``v1`` only):

* ``Namespace``: metadata, ``spec.finalizers``, ``status.phase`` and ``status.conditions``;
* ``ConfigMap``: metadata, ``data``, ``binaryData`` (values as base64 strings), ``immutable``;
* ``Secret``: metadata, ``data`` (values as base64 strings), ``stringData``, ``type``,
  ``immutable``;
* ``Service``: metadata and the spec's ``ports``, ``selector``, ``clusterIP``, ``type`` and
  ``externalName`` (what ``kubectl create service`` sends);
* ``SelfSubjectAccessReview``, ``SubjectAccessReview``, ``SelfSubjectRulesReview``
  (``authorization.k8s.io/v1``),
  ``TokenRequest`` and ``TokenReview`` (``authentication.k8s.io/v1``): metadata and spec;
* ``Role``, ``ClusterRole`` (with ``aggregationRule``), ``RoleBinding`` and
  ``ClusterRoleBinding`` (``rbac.authorization.k8s.io/v1``): every field;
* anything else: ``apiVersion``, ``kind`` and metadata only (field 1 of ``raw`` is read as
  ``ObjectMeta``, as every Kubernetes object message does); the other fields are dropped.

Guarantees:

* :func:`decode_object` returns a ``dict`` or raises :class:`ProtobufDecodeError` (a
  ``ValueError``) with a message naming the offending message/field; for any ``bytes``
  input it raises nothing else and always terminates (every step consumes input, nesting
  depth is fixed by the schema, nothing recurses on input data).
* Output mirrors Kubernetes' JSON: ``metadata`` is always present (possibly ``{}``); every
  other empty or absent field is omitted (``spec``/``status`` included, when empty);
  ``immutable``, ``controller``, ``blockOwnerDeletion`` and ``deletionGracePeriodSeconds``
  appear whenever the sender set them, even to ``false``/``0``. Timestamps are RFC 3339
  ``YYYY-MM-DDTHH:MM:SSZ`` in UTC with the nanos dropped, as Kubernetes' own JSON does; an
  empty ``Time`` message means "unset" and is omitted.
* Protobuf semantics are respected: unknown fields of every wire type (varint, 64-bit,
  length-delimited, 32-bit) are skipped; a repeated embedded message is merged; the last of
  several scalar values wins; a later map entry replaces an earlier one with the same key;
  a missing map key or value is the empty string.
* Malformed input is rejected: missing magic, truncated varints/lengths/fixed-width values,
  varints over 64 bits, field number 0 or above 2**29-1, group (3, 4) or undefined (6, 7)
  wire types, a known field with the wrong wire type, a non-empty ``contentEncoding``, a
  timestamp outside years 1-9999.
* Invalid UTF-8 in strings is replaced by U+FFFD, as kube-apiserver's JSON encoder does.
"""

from __future__ import annotations

import base64
import datetime as _dt
from collections.abc import Iterator
from typing import Any, Final, NamedTuple

__all__ = [
    "PROTOBUF_CONTENT_TYPE",
    "PROTOBUF_MAGIC",
    "ProtobufDecodeError",
    "decode_object",
]

PROTOBUF_CONTENT_TYPE: Final = "application/vnd.kubernetes.protobuf"
"""The media type kubectl's typed clients send protobuf bodies with."""

PROTOBUF_MAGIC: Final = b"k8s\x00"
"""The four bytes every Kubernetes protobuf body starts with."""


class ProtobufDecodeError(ValueError):
    """The body is not a well-formed Kubernetes protobuf object."""


_VARINT: Final = 0
_I64: Final = 1
_LEN: Final = 2
_I32: Final = 5
_WIRE_NAMES: Final = {
    0: "varint",
    1: "64-bit",
    2: "length-delimited",
    3: "start-group",
    4: "end-group",
    5: "32-bit",
}
_MAX_FIELD_NUMBER: Final = (1 << 29) - 1
_U64: Final = 1 << 64
_EPOCH: Final = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
_MIN_SECONDS: Final = -62135596800  # 0001-01-01T00:00:00Z
_MAX_SECONDS: Final = 253402300799  # 9999-12-31T23:59:59Z


# --------------------------------------------------------------------------- wire format


def _read_varint(buf: bytes, pos: int, where: str) -> tuple[int, int]:
    """Read a base-128 varint at ``pos``; return ``(value, next_pos)``."""
    start = pos
    result = 0
    shift = 0
    while True:
        if pos >= len(buf):
            raise ProtobufDecodeError(f"{where}: truncated varint at offset {start}")
        byte = buf[pos]
        pos += 1
        if shift == 63 and byte > 1:
            raise ProtobufDecodeError(f"{where}: varint at offset {start} overflows 64 bits")
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


class _Field(NamedTuple):
    """One decoded field: its number, wire type and raw value."""

    number: int
    wire: int
    value: int | bytes

    def _mismatch(self, where: str, want: int) -> ProtobufDecodeError:
        return ProtobufDecodeError(
            f"{where} (field {self.number}): expected {_WIRE_NAMES[want]} (wire type {want}),"
            f" got {_WIRE_NAMES[self.wire]} (wire type {self.wire})"
        )

    def raw(self, where: str) -> bytes:
        if not isinstance(self.value, bytes):
            raise self._mismatch(where, _LEN)
        return self.value

    def string(self, where: str) -> str:
        return self.raw(where).decode("utf-8", errors="replace")

    def uint(self, where: str) -> int:
        if self.wire != _VARINT or not isinstance(self.value, int):
            raise self._mismatch(where, _VARINT)
        return self.value

    def int64(self, where: str) -> int:
        value = self.uint(where)
        return value - _U64 if value >= 1 << 63 else value

    def int32(self, where: str) -> int:
        value = self.uint(where) & 0xFFFFFFFF
        return value - (1 << 32) if value >= 1 << 31 else value

    def boolean(self, where: str) -> bool:
        return self.uint(where) != 0


def _fields(buf: bytes, where: str) -> Iterator[_Field]:
    """Yield every field of the message ``buf``; raise on malformed framing."""
    pos = 0
    end = len(buf)
    while pos < end:
        tag_at = pos
        tag, pos = _read_varint(buf, pos, where)
        number, wire = tag >> 3, tag & 7
        if number == 0 or number > _MAX_FIELD_NUMBER:
            raise ProtobufDecodeError(f"{where}: invalid field number {number} at offset {tag_at}")
        if wire == _VARINT:
            value, pos = _read_varint(buf, pos, where)
            yield _Field(number, wire, value)
        elif wire in (_I64, _I32):
            size = 8 if wire == _I64 else 4
            if end - pos < size:
                raise ProtobufDecodeError(
                    f"{where}: truncated {_WIRE_NAMES[wire]} value of field {number}"
                    f" at offset {pos} ({end - pos} of {size} bytes)"
                )
            yield _Field(number, wire, int.from_bytes(buf[pos : pos + size], "little"))
            pos += size
        elif wire == _LEN:
            length, pos = _read_varint(buf, pos, where)
            if length > end - pos:
                raise ProtobufDecodeError(
                    f"{where}: truncated field {number}: length {length} at offset {pos}"
                    f" exceeds the {end - pos} remaining bytes"
                )
            yield _Field(number, wire, buf[pos : pos + length])
            pos += length
        elif wire in (3, 4):
            raise ProtobufDecodeError(
                f"{where}: field {number} uses the deprecated group encoding"
                f" (wire type {wire}), which Kubernetes never emits"
            )
        else:
            raise ProtobufDecodeError(f"{where}: invalid wire type {wire} for field {number}")


# --------------------------------------------------------------------------- messages


def _decode_time(buf: bytes, where: str) -> str | None:
    """``meta.v1.Time`` {1 seconds, 2 nanos} as RFC 3339; ``None`` for the zero time."""
    if not buf:
        return None
    seconds = 0
    for f in _fields(buf, where):
        if f.number == 1:
            seconds = f.int64(f"{where}.seconds")
        elif f.number == 2:
            f.int32(f"{where}.nanos")  # checked, then dropped as Kubernetes' JSON does
    if not _MIN_SECONDS <= seconds <= _MAX_SECONDS:
        raise ProtobufDecodeError(f"{where}: seconds {seconds} is outside years 1-9999")
    t = _EPOCH + _dt.timedelta(seconds=seconds)
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}Z"


def _decode_map_entry(buf: bytes, where: str) -> tuple[str, bytes]:
    """A map entry {1 key, 2 value}; the value is returned undecoded."""
    key, value = "", b""
    for f in _fields(buf, where):
        if f.number == 1:
            key = f.string(f"{where}.key")
        elif f.number == 2:
            value = f.raw(f"{where}.value")
    return key, value


def _decode_string_map(entry: bytes, where: str, into: dict[str, str]) -> None:
    key, value = _decode_map_entry(entry, where)
    into[key] = value.decode("utf-8", errors="replace")


def _decode_owner_reference(buf: bytes, where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    strings = {5: "apiVersion", 1: "kind", 3: "name", 4: "uid"}
    for f in _fields(buf, where):
        if f.number in strings:
            out[strings[f.number]] = f.string(f"{where}.{strings[f.number]}")
        elif f.number == 6:
            out["controller"] = f.boolean(f"{where}.controller")
        elif f.number == 7:
            out["blockOwnerDeletion"] = f.boolean(f"{where}.blockOwnerDeletion")
    order = ("apiVersion", "kind", "name", "uid", "controller", "blockOwnerDeletion")
    return {k: out[k] for k in order if k in out and out[k] != ""}


_META_STRINGS: Final = {
    1: "name",
    2: "generateName",
    3: "namespace",
    4: "selfLink",
    5: "uid",
    6: "resourceVersion",
}


def _decode_object_meta(buf: bytes, where: str) -> dict[str, Any]:
    """``meta.v1.ObjectMeta``; managedFields (17) and retired fields are skipped."""
    strings: dict[str, str] = {}
    generation = 0
    grace: int | None = None
    created: list[bytes] = []
    deleted: list[bytes] = []
    labels: dict[str, str] = {}
    annotations: dict[str, str] = {}
    owners: list[dict[str, Any]] = []
    finalizers: list[str] = []
    for f in _fields(buf, where):
        n = f.number
        if n in _META_STRINGS:
            strings[_META_STRINGS[n]] = f.string(f"{where}.{_META_STRINGS[n]}")
        elif n == 7:
            generation = f.int64(f"{where}.generation")
        elif n == 8:
            created.append(f.raw(f"{where}.creationTimestamp"))
        elif n == 9:
            deleted.append(f.raw(f"{where}.deletionTimestamp"))
        elif n == 10:
            grace = f.int64(f"{where}.deletionGracePeriodSeconds")
        elif n == 11:
            _decode_string_map(f.raw(f"{where}.labels"), f"{where}.labels", labels)
        elif n == 12:
            _decode_string_map(f.raw(f"{where}.annotations"), f"{where}.annotations", annotations)
        elif n == 13:
            ref = f"{where}.ownerReferences[{len(owners)}]"
            owners.append(_decode_owner_reference(f.raw(ref), ref))
        elif n == 14:
            finalizers.append(f.string(f"{where}.finalizers"))

    out: dict[str, Any] = {}
    for key in ("name", "generateName", "namespace", "selfLink", "uid", "resourceVersion"):
        if strings.get(key):
            out[key] = strings[key]
    if generation:
        out["generation"] = generation
    creation = _decode_time(b"".join(created), f"{where}.creationTimestamp")
    if creation is not None:
        out["creationTimestamp"] = creation
    deletion = _decode_time(b"".join(deleted), f"{where}.deletionTimestamp")
    if deletion is not None:
        out["deletionTimestamp"] = deletion
    if grace is not None:
        out["deletionGracePeriodSeconds"] = grace
    if labels:
        out["labels"] = labels
    if annotations:
        out["annotations"] = annotations
    if owners:
        out["ownerReferences"] = owners
    if finalizers:
        out["finalizers"] = finalizers
    return out


def _decode_namespace_condition(buf: bytes, where: str) -> dict[str, Any]:
    strings: dict[str, str] = {}
    names = {1: "type", 2: "status", 5: "reason", 6: "message"}
    transitions: list[bytes] = []
    for f in _fields(buf, where):
        if f.number in names:
            strings[names[f.number]] = f.string(f"{where}.{names[f.number]}")
        elif f.number == 4:
            transitions.append(f.raw(f"{where}.lastTransitionTime"))
    out: dict[str, Any] = {k: strings[k] for k in ("type", "status") if strings.get(k)}
    transition = _decode_time(b"".join(transitions), f"{where}.lastTransitionTime")
    if transition is not None:
        out["lastTransitionTime"] = transition
    out.update({k: strings[k] for k in ("reason", "message") if strings.get(k)})
    return out


def _split_metadata(buf: bytes, where: str) -> tuple[list[_Field], dict[str, Any]]:
    """Return the object's fields other than 1, and field 1 decoded as ObjectMeta."""
    meta: list[bytes] = []
    rest: list[_Field] = []
    for f in _fields(buf, where):
        if f.number == 1:
            meta.append(f.raw(f"{where}.metadata"))
        else:
            rest.append(f)
    return rest, _decode_object_meta(b"".join(meta), f"{where}.metadata")


def _decode_namespace(buf: bytes) -> dict[str, Any]:
    rest, metadata = _split_metadata(buf, "Namespace")
    spec_parts: list[bytes] = []
    status_parts: list[bytes] = []
    for f in rest:
        if f.number == 2:
            spec_parts.append(f.raw("Namespace.spec"))
        elif f.number == 3:
            status_parts.append(f.raw("Namespace.status"))

    out: dict[str, Any] = {"metadata": metadata}
    finalizers = [
        f.string("Namespace.spec.finalizers")
        for f in _fields(b"".join(spec_parts), "Namespace.spec")
        if f.number == 1
    ]
    if finalizers:
        out["spec"] = {"finalizers": finalizers}

    phase = ""
    conditions: list[dict[str, Any]] = []
    for f in _fields(b"".join(status_parts), "Namespace.status"):
        if f.number == 1:
            phase = f.string("Namespace.status.phase")
        elif f.number == 2:
            where = f"Namespace.status.conditions[{len(conditions)}]"
            conditions.append(_decode_namespace_condition(f.raw(where), where))
    status: dict[str, Any] = {}
    if phase:
        status["phase"] = phase
    if conditions:
        status["conditions"] = conditions
    if status:
        out["status"] = status
    return out


def _decode_config_map(buf: bytes) -> dict[str, Any]:
    rest, metadata = _split_metadata(buf, "ConfigMap")
    data: dict[str, str] = {}
    binary: dict[str, str] = {}
    immutable: bool | None = None
    for f in rest:
        if f.number == 2:
            _decode_string_map(f.raw("ConfigMap.data"), "ConfigMap.data", data)
        elif f.number == 3:
            key, value = _decode_map_entry(f.raw("ConfigMap.binaryData"), "ConfigMap.binaryData")
            binary[key] = base64.b64encode(value).decode("ascii")
        elif f.number == 4:
            immutable = f.boolean("ConfigMap.immutable")

    out: dict[str, Any] = {"metadata": metadata}
    if data:
        out["data"] = data
    if binary:
        out["binaryData"] = binary
    if immutable is not None:
        out["immutable"] = immutable
    return out


def _decode_secret(buf: bytes) -> dict[str, Any]:
    rest, metadata = _split_metadata(buf, "Secret")
    data: dict[str, str] = {}
    string_data: dict[str, str] = {}
    secret_type = ""
    immutable: bool | None = None
    for f in rest:
        if f.number == 2:
            key, value = _decode_map_entry(f.raw("Secret.data"), "Secret.data")
            data[key] = base64.b64encode(value).decode("ascii")
        elif f.number == 3:
            secret_type = f.string("Secret.type")
        elif f.number == 4:
            _decode_string_map(f.raw("Secret.stringData"), "Secret.stringData", string_data)
        elif f.number == 5:
            immutable = f.boolean("Secret.immutable")

    out: dict[str, Any] = {"metadata": metadata}
    if data:
        out["data"] = data
    if string_data:
        out["stringData"] = string_data
    if secret_type:
        out["type"] = secret_type
    if immutable is not None:
        out["immutable"] = immutable
    return out


def _decode_int_or_string(buf: bytes, where: str) -> int | str:
    is_string, number, text = False, 0, ""
    for f in _fields(buf, where):
        if f.number == 1:
            is_string = f.int64(f"{where}.type") == 1
        elif f.number == 2:
            number = f.int32(f"{where}.intVal")
        elif f.number == 3:
            text = f.string(f"{where}.strVal")
    return text if is_string else number


def _decode_service_port(buf: bytes, where: str) -> dict[str, Any]:
    port: dict[str, Any] = {}
    for f in _fields(buf, where):
        if f.number in (1, 2, 6):
            port[{1: "name", 2: "protocol", 6: "appProtocol"}[f.number]] = f.string(where)
        elif f.number in (3, 5):
            port[{3: "port", 5: "nodePort"}[f.number]] = f.int32(where)
        elif f.number == 4:
            port["targetPort"] = _decode_int_or_string(f.raw(where), f"{where}.targetPort")
    return {key: value for key, value in port.items() if value not in ("", 0)}


def _decode_service(buf: bytes) -> dict[str, Any]:
    """Service: metadata and the spec fields ``kubectl create service`` sets."""
    rest, metadata = _split_metadata(buf, "Service")
    spec: dict[str, Any] = {}
    ports: list[dict[str, Any]] = []
    selector: dict[str, str] = {}
    for f in _message_fields(rest, 2, "Service.spec"):
        where = "Service.spec"
        if f.number == 1:
            ports.append(_decode_service_port(f.raw(where), f"{where}.ports"))
        elif f.number == 2:
            _decode_string_map(f.raw(where), f"{where}.selector", selector)
        elif f.number in (3, 4, 10):
            value = f.string(where)
            if value:
                spec[{3: "clusterIP", 4: "type", 10: "externalName"}[f.number]] = value
    if ports:
        spec["ports"] = ports
    if selector:
        spec["selector"] = selector
    out: dict[str, Any] = {"metadata": metadata}
    if spec:
        out["spec"] = spec
    return out


def _strings_of(parts: list[_Field], number: int, where: str) -> list[str]:
    return [f.string(where) for f in parts if f.number == number]


def _message_fields(parts: list[_Field], number: int, where: str) -> list[_Field]:
    """The fields of the (merged) embedded message at ``number``."""
    return list(_fields(b"".join(f.raw(where) for f in parts if f.number == number), where))


def _string_fields(parts: list[_Field], names: dict[int, str], where: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for f in parts:
        if f.number in names:
            found[names[f.number]] = f.string(f"{where}.{names[f.number]}")
    return {key: value for key, value in found.items() if value}


_RESOURCE_ATTRIBUTES = {
    1: "namespace",
    2: "verb",
    3: "group",
    4: "version",
    5: "resource",
    6: "subresource",
    7: "name",
}


def _decode_access_review_spec(spec: list[_Field], where: str) -> dict[str, Any]:
    """authorization/v1 (Self)SubjectAccessReviewSpec: {1 resourceAttributes,
    2 nonResourceAttributes, 3 user, 4 groups, 5 extra, 6 uid}."""
    out: dict[str, Any] = {}
    if any(f.number == 1 for f in spec):
        attributes = _message_fields(spec, 1, f"{where}.resourceAttributes")
        out["resourceAttributes"] = _string_fields(
            attributes, _RESOURCE_ATTRIBUTES, f"{where}.resourceAttributes"
        )
    if any(f.number == 2 for f in spec):
        attributes = _message_fields(spec, 2, f"{where}.nonResourceAttributes")
        out["nonResourceAttributes"] = _string_fields(
            attributes, {1: "path", 2: "verb"}, f"{where}.nonResourceAttributes"
        )
    out.update(_string_fields(spec, {3: "user", 6: "uid"}, where))
    groups = _strings_of(spec, 4, f"{where}.groups")
    if groups:
        out["groups"] = groups
    extra: dict[str, list[str]] = {}
    for f in spec:
        if f.number == 5:
            key, value = _decode_map_entry(f.raw(f"{where}.extra"), f"{where}.extra")
            items = list(_fields(value, f"{where}.extra[{key}]"))
            extra[key] = _strings_of(items, 1, f"{where}.extra[{key}].items")
    if extra:
        out["extra"] = extra
    return out


def _decode_token_request_spec(spec: list[_Field], where: str) -> dict[str, Any]:
    """authentication/v1 TokenRequestSpec: {1 audiences, 4 expirationSeconds, 3 boundObjectRef
    {1 kind, 2 apiVersion, 3 name, 4 uid}}."""
    out: dict[str, Any] = {}
    audiences = _strings_of(spec, 1, f"{where}.audiences")
    if audiences:
        out["audiences"] = audiences
    for f in spec:
        if f.number == 4:
            out["expirationSeconds"] = f.int64(f"{where}.expirationSeconds")
    if any(f.number == 3 for f in spec):
        ref = _message_fields(spec, 3, f"{where}.boundObjectRef")
        out["boundObjectRef"] = _string_fields(
            ref, {1: "kind", 2: "apiVersion", 3: "name", 4: "uid"}, f"{where}.boundObjectRef"
        )
    return out


def _decode_token_review_spec(spec: list[_Field], where: str) -> dict[str, Any]:
    """authentication/v1 TokenReviewSpec: {1 token, 2 audiences}."""
    out: dict[str, Any] = _string_fields(spec, {1: "token"}, where)
    audiences = _strings_of(spec, 2, f"{where}.audiences")
    if audiences:
        out["audiences"] = audiences
    return out


def _decode_policy_rules(parts: list[_Field], number: int, where: str) -> list[dict[str, Any]]:
    """rbac/v1 PolicyRule: {1 verbs, 2 apiGroups, 3 resources, 4 resourceNames,
    5 nonResourceURLs}."""
    rules = []
    names = {1: "verbs", 2: "apiGroups", 3: "resources", 4: "resourceNames", 5: "nonResourceURLs"}
    for index, f in enumerate(p for p in parts if p.number == number):
        at = f"{where}[{index}]"
        fields = list(_fields(f.raw(at), at))
        rule: dict[str, Any] = {}
        for field_number, name in names.items():
            values = _strings_of(fields, field_number, f"{at}.{name}")
            if values:
                rule[name] = values
        rules.append(rule)
    return rules


def _decode_label_selector(buf: bytes, where: str) -> dict[str, Any]:
    """meta/v1 LabelSelector: {1 matchLabels, 2 matchExpressions {1 key, 2 operator, 3 values}}."""
    labels: dict[str, str] = {}
    expressions: list[dict[str, Any]] = []
    for f in _fields(buf, where):
        if f.number == 1:
            _decode_string_map(f.raw(f"{where}.matchLabels"), f"{where}.matchLabels", labels)
        elif f.number == 2:
            at = f"{where}.matchExpressions[{len(expressions)}]"
            parts = list(_fields(f.raw(at), at))
            expression: dict[str, Any] = _string_fields(parts, {1: "key", 2: "operator"}, at)
            expression["values"] = _strings_of(parts, 3, f"{at}.values")
            expressions.append(expression)
    out: dict[str, Any] = {}
    if labels:
        out["matchLabels"] = labels
    if expressions:
        out["matchExpressions"] = expressions
    return out


def _decode_role(rest: list[_Field], kind: str) -> dict[str, Any]:
    """rbac/v1 Role and ClusterRole: {1 metadata, 2 rules, 3 aggregationRule
    {1 clusterRoleSelectors}} (the last only on a ClusterRole)."""
    out: dict[str, Any] = {}
    rules = _decode_policy_rules(rest, 2, f"{kind}.rules")
    if rules:
        out["rules"] = rules
    if kind == "ClusterRole" and any(f.number == 3 for f in rest):
        where = f"{kind}.aggregationRule"
        selectors = [
            _decode_label_selector(f.raw(where), f"{where}.clusterRoleSelectors")
            for f in _message_fields(rest, 3, where)
            if f.number == 1
        ]
        out["aggregationRule"] = {"clusterRoleSelectors": selectors}
    return out


def _decode_binding(rest: list[_Field], kind: str) -> dict[str, Any]:
    """rbac/v1 RoleBinding and ClusterRoleBinding: {1 metadata, 2 subjects {1 kind,
    2 apiGroup, 3 name, 4 namespace}, 3 roleRef {1 apiGroup, 2 kind, 3 name}}."""
    subjects: list[dict[str, str]] = []
    for f in rest:
        if f.number == 2:
            at = f"{kind}.subjects[{len(subjects)}]"
            subjects.append(
                _string_fields(
                    list(_fields(f.raw(at), at)),
                    {1: "kind", 2: "apiGroup", 3: "name", 4: "namespace"},
                    at,
                )
            )
    out: dict[str, Any] = {}
    if subjects:
        out["subjects"] = subjects
    if any(f.number == 3 for f in rest):
        where = f"{kind}.roleRef"
        out["roleRef"] = _string_fields(
            _message_fields(rest, 3, where), {1: "apiGroup", 2: "kind", 3: "name"}, where
        )
    return out


_RBAC_DECODERS = {
    "Role": _decode_role,
    "ClusterRole": _decode_role,
    "RoleBinding": _decode_binding,
    "ClusterRoleBinding": _decode_binding,
}


def _decode_rbac(buf: bytes, kind: str) -> dict[str, Any]:
    rest, metadata = _split_metadata(buf, kind)
    return {"metadata": metadata, **_RBAC_DECODERS[kind](rest, kind)}


def _decode_rules_review_spec(spec: list[_Field], where: str) -> dict[str, Any]:
    """authorization/v1 SelfSubjectRulesReviewSpec: {1 namespace}."""
    return _string_fields(spec, {1: "namespace"}, where)


_SPEC_DECODERS = {
    ("authorization.k8s.io/v1", "SelfSubjectRulesReview"): _decode_rules_review_spec,
    ("authorization.k8s.io/v1", "SelfSubjectAccessReview"): _decode_access_review_spec,
    ("authorization.k8s.io/v1", "SubjectAccessReview"): _decode_access_review_spec,
    ("authentication.k8s.io/v1", "TokenRequest"): _decode_token_request_spec,
    ("authentication.k8s.io/v1", "TokenReview"): _decode_token_review_spec,
}
"""The request kinds of access control: metadata (field 1) and spec (field 2) are read."""


def _decode_with_spec(buf: bytes, api_version: str, kind: str) -> dict[str, Any]:
    rest, metadata = _split_metadata(buf, kind)
    spec = _message_fields(rest, 2, f"{kind}.spec")
    return {"metadata": metadata, "spec": _SPEC_DECODERS[api_version, kind](spec, f"{kind}.spec")}


def _decode_generic(buf: bytes, kind: str) -> dict[str, Any]:
    _, metadata = _split_metadata(buf, kind or "object")
    return {"metadata": metadata}


# --------------------------------------------------------------------------- entry point


def decode_object(body: bytes) -> dict[str, Any]:
    """Decode a ``k8s\\x00``-prefixed protobuf body into its Kubernetes JSON form.

    Raises :class:`ProtobufDecodeError` for anything that is not a well-formed body; see
    the module docstring for what is decoded and the exact guarantees.
    """
    if body[:4] != PROTOBUF_MAGIC:
        raise ProtobufDecodeError(
            f"not a Kubernetes protobuf body: expected the magic prefix b'k8s\\x00',"
            f" got {bytes(body[:4])!r}"
        )
    type_meta: list[bytes] = []
    raw = b""
    encoding = ""
    for f in _fields(body[4:], "Unknown"):
        if f.number == 1:
            type_meta.append(f.raw("Unknown.typeMeta"))
        elif f.number == 2:
            raw = f.raw("Unknown.raw")
        elif f.number == 3:
            encoding = f.string("Unknown.contentEncoding")
        elif f.number == 4:
            f.string("Unknown.contentType")  # checked; the raw bytes are protobuf regardless

    api_version = kind = ""
    for f in _fields(b"".join(type_meta), "Unknown.typeMeta"):
        if f.number == 1:
            api_version = f.string("Unknown.typeMeta.apiVersion")
        elif f.number == 2:
            kind = f.string("Unknown.typeMeta.kind")
    if encoding:
        raise ProtobufDecodeError(
            f"unsupported contentEncoding {encoding!r} for {kind or 'object'}"
        )

    if api_version == "v1" and kind == "Namespace":
        obj = _decode_namespace(raw)
    elif api_version == "v1" and kind == "ConfigMap":
        obj = _decode_config_map(raw)
    elif api_version == "v1" and kind == "Secret":
        obj = _decode_secret(raw)
    elif api_version == "v1" and kind == "Service":
        obj = _decode_service(raw)
    elif api_version == "rbac.authorization.k8s.io/v1" and kind in _RBAC_DECODERS:
        obj = _decode_rbac(raw, kind)
    elif (api_version, kind) in _SPEC_DECODERS:
        obj = _decode_with_spec(raw, api_version, kind)
    else:
        obj = _decode_generic(raw, kind)

    out: dict[str, Any] = {}
    if api_version:
        out["apiVersion"] = api_version
    if kind:
        out["kind"] = kind
    out.update(obj)
    return out
