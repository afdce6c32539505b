"""Name, label and annotation validation with kube-apiserver's exact messages.

Guarantees:

* Every ``*_errors`` function returns ``[]`` for a valid value and otherwise the list of
  messages ``k8s.io/apimachinery/pkg/util/validation`` produces for it, in the same order and
  with the same wording (including the upstream double space between examples), so clients
  that show or match on them see what a real cluster says.
* Lengths are counted in UTF-8 bytes, as Go's ``len`` does.
* Matching never backtracks catastrophically: every pattern is linear in the input, so an
  attacker-sized name costs time proportional to its length.
* :func:`validate_object_meta` never raises on malformed metadata: wrongly typed fields are
  reported as causes, like every other problem.
* :func:`generate_name` output is ``prefix[:58]`` plus five characters from the apiserver's
  alphabet, so it is at most 63 characters and, for any prefix accepted as a ``generateName``
  under the subdomain or label rule, a valid name under that rule.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping
from typing import Any, Literal

from .errors import Cause, invalid_value

__all__ = [
    "DNS1123_LABEL_MAX_LENGTH",
    "DNS1123_SUBDOMAIN_MAX_LENGTH",
    "GENERATED_SUFFIX_ALPHABET",
    "GENERATED_SUFFIX_LENGTH",
    "LABEL_VALUE_MAX_LENGTH",
    "MAX_GENERATED_NAME_PREFIX_LENGTH",
    "QUALIFIED_NAME_MAX_LENGTH",
    "TOTAL_ANNOTATION_SIZE_LIMIT",
    "NameRule",
    "dns1123_label_errors",
    "dns1123_subdomain_errors",
    "generate_name",
    "label_value_errors",
    "name_errors",
    "path_segment_name_errors",
    "qualified_name_errors",
    "validate_object_meta",
]

NameRule = Literal["subdomain", "label", "path-segment"]

DNS1123_LABEL_MAX_LENGTH = 63
DNS1123_SUBDOMAIN_MAX_LENGTH = 253
QUALIFIED_NAME_MAX_LENGTH = 63
LABEL_VALUE_MAX_LENGTH = 63
TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024

GENERATED_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
GENERATED_SUFFIX_LENGTH = 5
MAX_GENERATED_NAME_PREFIX_LENGTH = DNS1123_LABEL_MAX_LENGTH - GENERATED_SUFFIX_LENGTH

_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + "(\\." + _DNS1123_LABEL_FMT + ")*"
_QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_VALUE_FMT = "(" + _QUALIFIED_NAME_FMT + ")?"

_DNS1123_LABEL_RE = re.compile(_DNS1123_LABEL_FMT)
_DNS1123_SUBDOMAIN_RE = re.compile(_DNS1123_SUBDOMAIN_FMT)
_QUALIFIED_NAME_RE = re.compile(_QUALIFIED_NAME_FMT)
_LABEL_VALUE_RE = re.compile(_LABEL_VALUE_FMT)

_DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
    "'-' or '.', and must start and end with an alphanumeric character"
)
_QUALIFIED_NAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, "
    "'-', '_' or '.', and must start and end with an alphanumeric character"
)

_SYSTEM_RANDOM = random.SystemRandom()


def _regex_error(message: str, fmt: str, *examples: str) -> str:
    """Upstream ``RegexError``: examples joined by ``"', " + " or "``, hence the double space."""
    if not examples:
        return f"{message} (regex used for validation is '{fmt}')"
    quoted = " or ".join(f"'{example}', " for example in examples)
    return f"{message} (e.g. {quoted}regex used for validation is '{fmt}')"


def _max_len_error(length: int) -> str:
    return f"must be no more than {length} characters"


def _byte_len(value: str) -> int:
    return len(value) if value.isascii() else len(value.encode("utf-8", "surrogatepass"))


_DNS1123_LABEL_REGEX_ERROR = _regex_error(
    _DNS1123_LABEL_MSG, _DNS1123_LABEL_FMT, "my-name", "123-abc"
)
_DNS1123_SUBDOMAIN_REGEX_ERROR = _regex_error(
    _DNS1123_SUBDOMAIN_MSG, _DNS1123_SUBDOMAIN_FMT, "example.com"
)
_QUALIFIED_NAME_REGEX_ERROR = _regex_error(
    _QUALIFIED_NAME_MSG, _QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc"
)
_LABEL_VALUE_REGEX_ERROR = _regex_error(
    _LABEL_VALUE_MSG, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345"
)


def _subdomain_errors(value: str, length_of: str) -> list[str]:
    errors: list[str] = []
    if _byte_len(length_of) > DNS1123_SUBDOMAIN_MAX_LENGTH:
        errors.append(_max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH))
    if _DNS1123_SUBDOMAIN_RE.fullmatch(value) is None:
        errors.append(_DNS1123_SUBDOMAIN_REGEX_ERROR)
    return errors


def _label_errors(value: str, length_of: str) -> list[str]:
    errors: list[str] = []
    if _byte_len(length_of) > DNS1123_LABEL_MAX_LENGTH:
        errors.append(_max_len_error(DNS1123_LABEL_MAX_LENGTH))
    if _DNS1123_LABEL_RE.fullmatch(value) is None:
        if _DNS1123_SUBDOMAIN_RE.fullmatch(value) is not None:
            # A valid subdomain that is not a valid label: the only difference is dots.
            errors.append("must not contain dots")
        else:
            errors.append(_DNS1123_LABEL_REGEX_ERROR)
    return errors


def dns1123_subdomain_errors(value: str) -> list[str]:
    """Upstream ``IsDNS1123Subdomain``: at most 253 bytes, dot-separated RFC 1123 labels."""
    return _subdomain_errors(value, value)


def dns1123_label_errors(value: str) -> list[str]:
    """Upstream ``IsDNS1123Label``: at most 63 bytes, ``[a-z0-9]([-a-z0-9]*[a-z0-9])?``."""
    return _label_errors(value, value)


def qualified_name_errors(value: str) -> list[str]:
    """Upstream ``IsQualifiedName`` (label and annotation keys): ``[prefix/]name``."""
    errors: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errors.append("prefix part must be non-empty")
        else:
            errors.extend(f"prefix part {message}" for message in dns1123_subdomain_errors(prefix))
    else:
        return [
            f"a qualified name {_QUALIFIED_NAME_REGEX_ERROR} with an optional DNS subdomain "
            "prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errors.append("name part must be non-empty")
    elif _byte_len(name) > QUALIFIED_NAME_MAX_LENGTH:
        errors.append(f"name part {_max_len_error(QUALIFIED_NAME_MAX_LENGTH)}")
    if _QUALIFIED_NAME_RE.fullmatch(name) is None:
        errors.append(f"name part {_QUALIFIED_NAME_REGEX_ERROR}")
    return errors


def label_value_errors(value: str) -> list[str]:
    """Upstream ``IsValidLabelValue``: empty, or at most 63 bytes of the qualified-name charset."""
    errors: list[str] = []
    if _byte_len(value) > LABEL_VALUE_MAX_LENGTH:
        errors.append(_max_len_error(LABEL_VALUE_MAX_LENGTH))
    if _LABEL_VALUE_RE.fullmatch(value) is None:
        errors.append(_LABEL_VALUE_REGEX_ERROR)
    return errors


def path_segment_name_errors(value: str, *, prefix: bool = False) -> list[str]:
    """Upstream ``IsPathSegmentName`` / ``IsPathSegmentPrefix``: safe as one URL path segment."""
    if not prefix and value in (".", ".."):
        return [f"may not be '{value}'"]
    return [f"may not contain '{bad}'" for bad in ("/", "%") if bad in value]


def name_errors(value: str, rule: NameRule, *, prefix: bool = False) -> list[str]:
    """Errors of ``value`` as an object name under ``rule``.

    With ``prefix=True`` the value is a ``generateName``: it must be no longer than the rule's
    maximum and must become a valid name once an alphanumeric character is appended, which is
    exactly the condition for every name :func:`generate_name` derives from it to be valid.
    """
    if rule == "path-segment":
        return path_segment_name_errors(value, prefix=prefix)
    check: Callable[[str, str], list[str]] = (
        _subdomain_errors if rule == "subdomain" else _label_errors
    )
    return check(value + "a", value) if prefix else check(value, value)


def _string_field(causes: list[Cause], meta: Mapping[str, Any], key: str) -> str | None:
    value = meta.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        causes.append(invalid_value(f"metadata.{key}", value, "must be a string"))
        return None
    return value


def _string_map(
    causes: list[Cause], meta: Mapping[str, Any], key: str
) -> list[tuple[str, str]] | None:
    value = meta.get(key)
    if value is None:
        return None
    field_path = f"metadata.{key}"
    if not isinstance(value, Mapping):
        causes.append(invalid_value(field_path, value, "must be a map of string to string"))
        return None
    items: list[tuple[str, str]] = []
    for item_key, item_value in value.items():
        if not isinstance(item_key, str):
            causes.append(invalid_value(field_path, str(item_key), "key must be a string"))
        elif not isinstance(item_value, str):
            causes.append(invalid_value(field_path, item_value, "must be a string"))
        else:
            items.append((item_key, item_value))
    return items


def validate_object_meta(
    meta: Mapping[str, Any], *, namespaced: bool, name_rule: NameRule
) -> list[Cause]:
    """Validate ``metadata`` of an object being created, as upstream ``ValidateObjectMeta``.

    Checks ``generateName`` (see :func:`name_errors` with ``prefix=True``), ``name`` when set
    (that it is required unless ``generateName`` is given is the caller's check), ``namespace``
    when ``namespaced`` and set (DNS label), label keys and values, annotation keys (qualified
    names, case-insensitively) and the total annotation size (256 KiB). Causes come in that
    order, one per message, with the field paths the apiserver uses.
    """
    causes: list[Cause] = []

    generate = _string_field(causes, meta, "generateName")
    if generate:
        for message in name_errors(generate, name_rule, prefix=True):
            causes.append(invalid_value("metadata.generateName", generate, message))

    name = _string_field(causes, meta, "name")
    if name:
        for message in name_errors(name, name_rule):
            causes.append(invalid_value("metadata.name", name, message))

    if namespaced:
        namespace = _string_field(causes, meta, "namespace")
        if namespace:
            for message in dns1123_label_errors(namespace):
                causes.append(invalid_value("metadata.namespace", namespace, message))

    labels = _string_map(causes, meta, "labels")
    for key, value in labels or ():
        for message in qualified_name_errors(key):
            causes.append(invalid_value("metadata.labels", key, message))
        for message in label_value_errors(value):
            causes.append(invalid_value("metadata.labels", value, message))

    annotations = _string_map(causes, meta, "annotations")
    if annotations is not None:
        total = 0
        for key, value in annotations:
            for message in qualified_name_errors(key.lower()):
                causes.append(invalid_value("metadata.annotations", key, message))
            total += _byte_len(key) + _byte_len(value)
        if total > TOTAL_ANNOTATION_SIZE_LIMIT:
            causes.append(
                Cause(
                    "metadata.annotations",
                    "FieldValueTooLong",
                    f"Too long: must have at most {TOTAL_ANNOTATION_SIZE_LIMIT} bytes",
                )
            )
    return causes


def generate_name(prefix: str, rand: random.Random | None = None) -> str:
    """``prefix`` (cut to 58 characters) plus five random characters, as the apiserver does."""
    chooser = rand if rand is not None else _SYSTEM_RANDOM
    base = prefix[:MAX_GENERATED_NAME_PREFIX_LENGTH]
    suffix = "".join(
        chooser.choice(GENERATED_SUFFIX_ALPHABET) for _ in range(GENERATED_SUFFIX_LENGTH)
    )
    return base + suffix
