"""Structural-schema handling of custom resources: pruning, defaulting and validation.

:func:`check_object` does to a custom resource what kube-apiserver does with the
``openAPIV3Schema`` of the CRD version it is served under, in the same order:

1. **Pruning.** Fields the schema does not describe are dropped and reported in
   :attr:`SchemaCheck.unknown_fields` as dotted paths (``spec.foo``,
   ``spec.items[0].bar``, map keys as ``spec.labels.key``), in document order. A node
   keeps unknown fields when it says ``x-kubernetes-preserve-unknown-fields: true``
   (its listed ``properties`` are still pruned and defaulted) or when its
   ``additionalProperties`` is ``true`` or a schema (a map whose values follow that
   schema). ``x-kubernetes-embedded-resource: true`` keeps the embedded object's
   ``apiVersion``, ``kind`` and ``metadata``. A ``null`` in a non-nullable field that has
   no default is dropped silently, as the apiserver does.
2. **Defaulting.** ``default`` values are deep-copied into absent fields (and into
   non-nullable fields that are ``null``), outside-in, so defaults inside defaults apply.
3. **Validation** with :class:`jsonschema.Draft4Validator` (the draft closest to the
   OpenAPI 3.0 subset CRDs use) after converting the schema to JSON Schema: ``nullable``
   becomes a ``"null"`` type, ``x-kubernetes-int-or-string`` becomes
   ``type: [integer, string]``, vendor extensions and documentation keys are dropped.
   Only the formats Kubernetes checks are checked; unknown formats are ignored.
   Failures become :class:`~.errors.Cause` objects with the field path, reason and message
   wording kube-apiserver produces (via kube-openapi), deduplicated and sorted by field path.

Guarantees: the input object and the schema are never mutated; the returned object
shares no mutable containers with the input; top-level ``apiVersion``, ``kind`` and
``metadata`` are never pruned, defaulted or validated here (metadata is validated
elsewhere); with ``schema=None`` nothing is pruned, defaulted or reported. Converted
validators are cached by the schema's canonical JSON form, so a schema used for every
request is converted once.
"""

from __future__ import annotations

import base64
import binascii
import copy
import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from jsonschema import Draft4Validator, FormatChecker, ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import create

from .errors import Cause, invalid_value, required

__all__ = ["SchemaCheck", "check_object", "prune_object"]

_ROOT_META = ("apiVersion", "kind", "metadata")
_PRESERVE = "x-kubernetes-preserve-unknown-fields"
_EMBEDDED = "x-kubernetes-embedded-resource"
_INT_OR_STRING = "x-kubernetes-int-or-string"

PathPart = str | int


@dataclass(frozen=True)
class SchemaCheck:
    """The outcome of :func:`check_object`."""

    object: dict[str, Any]
    """A pruned and defaulted deep copy of the input."""
    unknown_fields: tuple[str, ...]
    """Dotted paths of the pruned fields, in document order."""
    causes: tuple[Cause, ...]
    """Validation failures, sorted by field path; empty means valid."""


def check_object(obj: dict[str, Any], schema: dict[str, Any] | None) -> SchemaCheck:
    """Prune, default and validate ``obj`` against a CRD version's ``openAPIV3Schema``."""
    if schema is None:
        return SchemaCheck(copy.deepcopy(obj), (), ())
    unknown: list[str] = []
    pruned = _prune_root(obj, schema, unknown)
    _default_object(pruned, schema, skip=_ROOT_META)
    instance = {key: value for key, value in pruned.items() if key not in _ROOT_META}
    causes = _validate(instance, _validator_for(_cache_key(schema)))
    return SchemaCheck(pruned, tuple(unknown), causes)


# --------------------------------------------------------------------------- pruning


def prune_object(
    obj: dict[str, Any], schema: dict[str, Any] | None
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Step 1 of :func:`check_object` alone: the pruned copy and the unknown fields' paths.

    For a partial object (a server-side apply configuration), which must be neither defaulted
    nor validated on its own.
    """
    if schema is None:
        return copy.deepcopy(obj), ()
    unknown: list[str] = []
    return _prune_root(obj, schema, unknown), tuple(unknown)


def _join(path: str, part: PathPart) -> str:
    if isinstance(part, int):
        return f"{path}[{part}]"
    return f"{path}.{part}" if path else part


def _node(value: Any) -> dict[str, Any] | None:
    """``value`` if it is a schema node (a mapping), else ``None``."""
    return value if isinstance(value, dict) else None


def _drops_null(node: dict[str, Any]) -> bool:
    """A ``null`` the apiserver removes: non-nullable field without a default."""
    return node.get("nullable") is not True and "default" not in node


def _prune_root(obj: dict[str, Any], schema: dict[str, Any], unknown: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if key in _ROOT_META:
            out[key] = copy.deepcopy(value)
            continue
        _prune_member(out, key, value, schema, "", unknown, embedded=False)
    return out


def _prune_member(
    out: dict[str, Any],
    key: str,
    value: Any,
    node: dict[str, Any],
    path: str,
    unknown: list[str],
    *,
    embedded: bool,
) -> None:
    """Copy ``key`` of an object described by ``node`` into ``out``, or drop it."""
    child = _join(path, key)
    properties = node.get("properties")
    additional = node.get("additionalProperties")
    sub = _node(properties.get(key)) if isinstance(properties, dict) else None
    if sub is None:
        sub = _node(additional)
    if sub is not None:
        if value is None and _drops_null(sub):
            return
        out[key] = _prune(value, sub, child, unknown)
    elif additional is True or node.get(_PRESERVE) is True or (embedded and key in _ROOT_META):
        out[key] = copy.deepcopy(value)
    else:
        unknown.append(child)


def _prune(value: Any, node: dict[str, Any], path: str, unknown: list[str]) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        embedded = node.get(_EMBEDDED) is True
        for key, item in value.items():
            _prune_member(out, key, item, node, path, unknown, embedded=embedded)
        return out
    if isinstance(value, list):
        items = _node(node.get("items"))
        if items is None:
            return copy.deepcopy(value)
        return [
            _prune(item, items, _join(path, index), unknown) for index, item in enumerate(value)
        ]
    return value


# ------------------------------------------------------------------------ defaulting


def _default_object(value: dict[str, Any], node: dict[str, Any], skip: Iterable[str] = ()) -> None:
    skipped = set(skip)
    properties = node.get("properties")
    props: dict[str, Any] = properties if isinstance(properties, dict) else {}
    for key, prop in props.items():
        if key in skipped or not isinstance(prop, dict) or "default" not in prop:
            continue
        if key not in value or (value[key] is None and prop.get("nullable") is not True):
            value[key] = copy.deepcopy(prop["default"])
    additional = _node(node.get("additionalProperties"))
    for key, item in value.items():
        if key in skipped:
            continue
        sub = _node(props.get(key))
        if sub is None:
            sub = additional
        if sub is not None:
            _default(item, sub)


def _default(value: Any, node: dict[str, Any]) -> None:
    if isinstance(value, dict):
        _default_object(value, node)
    elif isinstance(value, list):
        items = _node(node.get("items"))
        if items is not None:
            for item in value:
                _default(item, items)


# ------------------------------------------------------------------ schema conversion

_PLAIN_KEYWORDS = (
    "enum",
    "format",
    "pattern",
    "minimum",
    "maximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
)


def _convert(node: dict[str, Any]) -> dict[str, Any]:
    """Translate one OpenAPI v3 (CRD) schema node into draft-4 JSON Schema."""
    out: dict[str, Any] = {}
    types: list[str] = []
    if node.get(_INT_OR_STRING) is True:
        types = ["integer", "string"]
    elif isinstance(node.get("type"), str):
        types = [node["type"]]
    if types and node.get("nullable") is True:
        types.append("null")
    if types:
        out["type"] = types[0] if len(types) == 1 else types
    for keyword in _PLAIN_KEYWORDS:
        if keyword in node:
            out[keyword] = node[keyword]
    for keyword, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        flag = node.get(keyword)
        if isinstance(flag, bool):
            out[keyword] = flag
        elif isinstance(flag, int | float):  # draft-6 numeric form: make it draft-4
            out[bound] = flag
            out[keyword] = True
    if isinstance(node.get("required"), list) and node["required"]:
        out["required"] = list(node["required"])
    properties: dict[str, Any] = {}
    if isinstance(node.get("properties"), dict):
        properties = {k: _convert(v) for k, v in node["properties"].items() if isinstance(v, dict)}
    if node.get(_EMBEDDED) is True:
        properties.setdefault("apiVersion", {"type": "string"})
        properties.setdefault("kind", {"type": "string"})
        properties.setdefault("metadata", {"type": "object"})
    if properties:
        out["properties"] = properties
    additional = node.get("additionalProperties")
    if isinstance(additional, bool):
        out["additionalProperties"] = additional
    elif isinstance(additional, dict):
        out["additionalProperties"] = _convert(additional)
    items = node.get("items")
    if isinstance(items, dict):
        out["items"] = _convert(items)
    elif isinstance(items, list):
        out["items"] = [_convert(item) for item in items if isinstance(item, dict)]
    for keyword in ("allOf", "anyOf", "oneOf"):
        if isinstance(node.get(keyword), list):
            out[keyword] = [_convert(sub) for sub in node[keyword] if isinstance(sub, dict)]
    negated = node.get("not")
    if isinstance(negated, dict):
        out["not"] = _convert(negated)
    return out


def _convert_root(schema: dict[str, Any]) -> dict[str, Any]:
    root = _convert(schema)
    properties = root.get("properties")
    if isinstance(properties, dict):
        for key in _ROOT_META:
            properties.pop(key, None)
    if "required" in root:
        kept = [name for name in root["required"] if name not in _ROOT_META]
        if kept:
            root["required"] = kept
        else:
            del root["required"]
    return root


def _cache_key(schema: dict[str, Any]) -> str:
    return json.dumps(schema, sort_keys=True, default=str)


def _is_integer(_checker: Any, instance: Any) -> bool:
    """As kube-openapi: an integral float such as ``1.0`` is an integer."""
    if isinstance(instance, bool):
        return False
    return isinstance(instance, int) or (isinstance(instance, float) and instance.is_integer())


_Validator = create(
    meta_schema=Draft4Validator.META_SCHEMA,
    validators=Draft4Validator.VALIDATORS,
    type_checker=Draft4Validator.TYPE_CHECKER.redefine("integer", _is_integer),
)


@lru_cache(maxsize=256)
def _validator_for(key: str) -> Validator:
    root: dict[str, Any] = _convert_root(json.loads(key))
    validator: Validator = _Validator(root, format_checker=_FORMAT_CHECKER)
    return validator


# --------------------------------------------------------------------------- formats

_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_TIME = re.compile(r"^(\d{2}):(\d{2}):(\d{2})(\.\d+)?(z|[+-]\d{2}:\d{2})$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_EMAIL = re.compile(r"^[^\s@<>()\[\],;:\"]+@[^\s@<>()\[\],;:\"]+$")
_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_HEX2, _HEX4 = "[0-9A-Fa-f]{2}", "[0-9A-Fa-f]{4}"
_MAC = re.compile(
    "|".join(
        [f"^{_HEX2}({sep}{_HEX2}){{{n - 1}}}$" for sep in (":", "-") for n in (6, 8, 20)]
        + [f"^{_HEX4}(\\.{_HEX4}){{{n // 2 - 1}}}$" for n in (6, 8, 20)]
    )
)
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_GO_DURATION = re.compile(r"^[-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$")
_UNIT_DURATION = re.compile(
    r"^\s*\d+\s*(?:ns|us|µs|μs|ms|s|m|h|d|w|nanoseconds?|microseconds?|milliseconds?"
    r"|seconds?|sec|minutes?|min|hours?|hr|days?|weeks?|wk)\s*$",
    re.I,
)


def _is_byte(value: str) -> bool:
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _is_date(value: str) -> bool:
    match = _DATE.match(value)
    if match is None:
        return False
    try:
        date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return False
    return True


def _is_date_time(value: str) -> bool:
    """RFC 3339 with a mandatory offset, as kube-openapi's ``IsDateTime``."""
    parts = value.lower().split("t")
    if len(parts) != 2 or not _is_date(parts[0]):
        return False
    match = _TIME.match(parts[1])
    if match is None:
        return False
    return int(match[1]) <= 23 and int(match[2]) <= 59 and int(match[3]) <= 59


def _is_uri(value: str) -> bool:
    """As Go's ``url.ParseRequestURI``: an absolute URI (with scheme) or an absolute path."""
    if not value or any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        return False
    if _BAD_ESCAPE.search(value):
        return False
    scheme = _SCHEME.match(value)
    if scheme is None:
        return value.startswith("/")
    rest = value[scheme.end() :]
    if rest.startswith("//"):
        authority = re.split(r"[/?#]", rest[2:], maxsplit=1)[0]
        return not any(char in authority for char in ' <>"{}|\\^`')
    return True


def _is_email(value: str) -> bool:
    address = value.strip()
    if address.endswith(">") and "<" in address:
        address = address[address.rindex("<") + 1 : -1]
    return _EMAIL.match(address) is not None


def _is_hostname(value: str) -> bool:
    if not value or len(value) > 255:
        return False
    return all(_LABEL.match(label) for label in value.split("."))


def _is_ipv4(value: str) -> bool:
    try:
        ipaddress.IPv4Address(value)
    except ValueError:
        return False
    return True


def _is_ipv6(value: str) -> bool:
    if "%" in value:
        return False
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return True


def _is_cidr(value: str) -> bool:
    if "/" not in value or "%" in value:
        return False
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError:
        return False
    return True


def _is_mac(value: str) -> bool:
    return _MAC.match(value) is not None


def _is_uuid(value: str) -> bool:
    return _UUID.match(value) is not None


def _is_duration(value: str) -> bool:
    return value == "0" or bool(_GO_DURATION.match(value) or _UNIT_DURATION.match(value))


_STRING_FORMATS: dict[str, Callable[[str], bool]] = {
    "byte": _is_byte,
    "date": _is_date,
    "date-time": _is_date_time,
    "uri": _is_uri,
    "email": _is_email,
    "hostname": _is_hostname,
    "ipv4": _is_ipv4,
    "ipv6": _is_ipv6,
    "cidr": _is_cidr,
    "mac": _is_mac,
    "uuid": _is_uuid,
    "duration": _is_duration,
}
_INTEGER_BITS: dict[str, int | None] = {"int32": 32, "int64": 64, "float": None, "double": None}


def _string_format(check: Callable[[str], bool]) -> Callable[[object], bool]:
    """Values of other JSON types pass a string format (kube-openapi checks strings only)."""

    def wrapped(instance: object) -> bool:
        return not isinstance(instance, str) or check(instance)

    return wrapped


def _number_format(bits: int | None) -> Callable[[object], bool]:
    """``int32``/``int64`` bound integers; ``float``/``double`` accept every number."""

    def wrapped(instance: object) -> bool:
        if bits is None or isinstance(instance, bool) or not isinstance(instance, int):
            return True
        bound: int = 1 << (bits - 1)
        return -bound <= instance < bound

    return wrapped


_FORMAT_CHECKER = FormatChecker(formats=())
for _name, _check in _STRING_FORMATS.items():
    _FORMAT_CHECKER.checks(_name)(_string_format(_check))
for _name, _bits in _INTEGER_BITS.items():
    _FORMAT_CHECKER.checks(_name)(_number_format(_bits))


# ------------------------------------------------------------------- error mapping

_COMBINATORS = {
    "anyOf": "must validate at least one schema (anyOf)",
    "oneOf": "must validate one and only one schema (oneOf)",
    "allOf": "must validate all the schemas (allOf)",
    "not": "must not validate the schema (not)",
}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _quote(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _path_key(parts: tuple[PathPart, ...]) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, part, "") if isinstance(part, int) else (1, 0, part) for part in parts)


def _path_text(parts: tuple[PathPart, ...]) -> str:
    text = ""
    for part in parts:
        text = _join(text, part)
    return text


def _validate(instance: dict[str, Any], validator: Validator) -> tuple[Cause, ...]:
    found: list[tuple[tuple[PathPart, ...], Cause]] = []
    for error in validator.iter_errors(instance):
        found.extend(_causes(error))
    unique: dict[Cause, tuple[PathPart, ...]] = {}
    for parts, cause in found:
        unique.setdefault(cause, parts)
    ordered = sorted(unique.items(), key=lambda item: (_path_key(item[1]), item[0].message))
    return tuple(cause for cause, _ in ordered)


def _causes(error: ValidationError) -> Iterator[tuple[tuple[PathPart, ...], Cause]]:
    parts: tuple[PathPart, ...] = tuple(error.absolute_path)
    field = _path_text(parts)
    where = f"{field} in body" if field else "body"
    value: Any = error.instance
    keyword = str(error.validator)
    limit: Any = error.validator_value
    schema = error.schema if isinstance(error.schema, dict) else {}

    if keyword == "required":
        present = value if isinstance(value, dict) else {}
        for name in limit:
            if name not in present:
                child = (*parts, name)
                yield child, required(_path_text(child))
        return
    if keyword == "type":
        expected = [limit] if isinstance(limit, str) else [t for t in limit if t != "null"]
        actual = _json_type(value)
        detail = f'{where} must be of type {",".join(expected)}: "{actual}"'
        yield parts, _type_invalid(field, actual, detail)
        return
    if keyword == "format":
        detail = f"{where} must be of type {limit}"
        if isinstance(value, str):
            detail += f": {_quote(value)}"
        yield parts, _type_invalid(field, value, detail)
        return
    if keyword == "enum":
        supported = ", ".join(_quote(v if isinstance(v, str) else _quote(v)) for v in limit)
        message = f"Unsupported value: {_quote(value)}: supported values: {supported}"
        yield parts, Cause(field, "FieldValueNotSupported", message)
        return
    if keyword == "maxLength":
        yield (
            parts,
            Cause(field, "FieldValueTooLong", f"Too long: may not be more than {limit} bytes"),
        )
        return
    if keyword in ("maxItems", "maxProperties"):
        message = f"Too many: {len(value)}: must have at most {limit} items"
        yield parts, Cause(field, "FieldValueTooMany", message)
        return
    yield parts, _invalid(keyword, field, where, value, limit, schema)


def _invalid(
    keyword: str, field: str, where: str, value: Any, limit: Any, schema: dict[str, Any]
) -> Cause:
    shown: Any = value
    if keyword == "pattern":
        detail = f"{where} should match '{limit}'"
    elif keyword == "minimum":
        strict = schema.get("exclusiveMinimum") is True
        relation = "greater than" if strict else "greater than or equal to"
        detail = f"{where} should be {relation} {_number(limit)}"
    elif keyword == "maximum":
        strict = schema.get("exclusiveMaximum") is True
        relation = "less than" if strict else "less than or equal to"
        detail = f"{where} should be {relation} {_number(limit)}"
    elif keyword == "multipleOf":
        detail = f"{where} should be a multiple of {_number(limit)}"
    elif keyword == "minLength":
        detail = f"{where} should be at least {limit} chars long"
    elif keyword == "minItems":
        shown = len(value)
        detail = f"{where} should have at least {limit} items"
    elif keyword == "minProperties":
        shown = len(value)
        detail = f"{where} should have at least {limit} properties"
    elif keyword == "uniqueItems":
        shown = ""
        detail = f"{where} shouldn't contain duplicates"
    elif keyword == "additionalProperties" and isinstance(value, dict):
        allowed = schema.get("properties", {})
        extra = ", ".join(sorted(key for key in value if key not in allowed))
        detail = f"{where} has forbidden properties: {extra}"
    elif keyword in _COMBINATORS:
        detail = f"{where} {_COMBINATORS[keyword]}"
    else:
        detail = f"{where}: {keyword}"
    return invalid_value(field, shown, detail)


def _type_invalid(field: str, value: Any, detail: str) -> Cause:
    return Cause(field, "FieldValueTypeInvalid", f"Invalid value: {_quote(value)}: {detail}")
