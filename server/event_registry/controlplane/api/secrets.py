"""What a write does to a Secret beyond its schema, as kube-apiserver does it.

- ``data`` values are base64; one that is not fails the whole request with 400, worded as
  kube-apiserver's decoder words it (``Secret in version "v1" cannot be handled as a Secret:
  illegal base64 data at input byte N``), before anything is validated or stored.
- ``stringData`` is write-only: its entries are encoded into ``data`` (replacing a key both
  name) and it is never stored or served.
- ``type`` defaults to ``Opaque`` and cannot change; the well-known types require their keys
  (``tls.crt``/``tls.key``, ``ssh-privatekey``, ``username`` or ``password``,
  ``.dockerconfigjson`` as JSON, the ``kubernetes.io/service-account.name`` annotation).
- keys are config keys (``[-._a-zA-Z0-9]+``, at most 253 characters, not ``.`` or ``..``),
  and all values together hold at most 1 MiB.
- once ``immutable`` is true, neither ``data`` nor ``immutable`` can change (the object can
  still be deleted, and its metadata changed).

Every refusal is a 422 naming the field, as kube-apiserver's validation answers.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from ..machinery import errors
from .admission import Request

MAX_SECRET_BYTES = 1024 * 1024
_KEY = re.compile(r"[-._a-zA-Z0-9]+")
_BASE64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
_KEY_MESSAGE = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' "
    "(e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is "
    "'[-._a-zA-Z0-9]+')"
)
_REQUIRED_KEYS = {
    "kubernetes.io/tls": (("tls.crt", "tls.key"), True),
    "kubernetes.io/ssh-auth": (("ssh-privatekey",), True),
    "kubernetes.io/dockercfg": ((".dockercfg",), True),
    "kubernetes.io/dockerconfigjson": ((".dockerconfigjson",), True),
    "kubernetes.io/basic-auth": (("username", "password"), False),
}
"""Per type: the keys it names, and whether all are required (else at least one)."""
_JSON_KEYS = {
    "kubernetes.io/dockercfg": ".dockercfg",
    "kubernetes.io/dockerconfigjson": ".dockerconfigjson",
}
SERVICE_ACCOUNT_NAME = "kubernetes.io/service-account.name"


def base64_error_offset(value: str) -> int | None:
    """Where Go's ``base64.StdEncoding`` gives up on ``value`` (None: it decodes)."""
    stripped = value.replace("\r", "").replace("\n", "")
    try:
        base64.b64decode(stripped, validate=True)
    except (binascii.Error, ValueError):
        pass
    else:
        return None
    for index, char in enumerate(value):
        if char not in _BASE64_ALPHABET and char not in "\r\n":
            return index
    padding = stripped.find("=")
    if padding >= 0 and (stripped[padding:].strip("=") or len(stripped) - padding > 2):
        return padding
    return len(stripped) - len(stripped) % 4


def _decoded(data: dict[str, Any]) -> dict[str, bytes]:
    decoded: dict[str, bytes] = {}
    for key, value in data.items():
        offset = base64_error_offset(value)
        if offset is not None:
            raise errors.BadRequest(
                'Secret in version "v1" cannot be handled as a Secret: '
                f"illegal base64 data at input byte {offset}"
            )
        decoded[key] = base64.b64decode(value.replace("\r", "").replace("\n", ""))
    return decoded


def _key_causes(data: dict[str, bytes]) -> list[errors.Cause]:
    causes: list[errors.Cause] = []
    for key in data:
        path = f"data[{key}]"
        if len(key) > 253:
            causes.append(
                errors.Cause(path, "FieldValueTooLong", "Too long: may not be more than 253 bytes")
            )
        elif key in (".", ".."):
            causes.append(errors.invalid_value(path, key, f"must not be '{key}'"))
        elif not _KEY.fullmatch(key):
            causes.append(errors.invalid_value(path, key, _KEY_MESSAGE))
    if sum(len(value) for value in data.values()) > MAX_SECRET_BYTES:
        causes.append(
            errors.Cause(
                "data", "FieldValueTooLong", f"Too long: must have at most {MAX_SECRET_BYTES} bytes"
            )
        )
    return causes


def _type_causes(secret: dict[str, Any], data: dict[str, bytes]) -> list[errors.Cause]:
    kind = secret["type"]
    if kind == "kubernetes.io/service-account-token":
        annotations = secret["metadata"].get("annotations") or {}
        if not annotations.get(SERVICE_ACCOUNT_NAME):
            return [errors.required(f"metadata.annotations[{SERVICE_ACCOUNT_NAME}]")]
        return []
    if kind not in _REQUIRED_KEYS:
        return []
    keys, all_required = _REQUIRED_KEYS[kind]
    missing = [key for key in keys if key not in data]
    if (missing and all_required) or len(missing) == len(keys):
        return [errors.required(f"data[{key}]") for key in missing]
    json_key = _JSON_KEYS.get(kind)
    if json_key is not None:
        try:
            json.loads(data[json_key])
        except ValueError as error:
            return [
                errors.invalid_value(f"data[{json_key}]", "<secret contents redacted>", str(error))
            ]
    return []


def _immutability_causes(secret: dict[str, Any], old: dict[str, Any]) -> list[errors.Cause]:
    causes: list[errors.Cause] = []
    if secret["type"] != old.get("type", "Opaque"):
        causes.append(errors.invalid_value("type", secret["type"], "field is immutable"))
    if old.get("immutable"):
        detail = "field is immutable when `immutable` is set"
        if (secret.get("data") or {}) != (old.get("data") or {}):
            causes.append(errors.forbidden_field("data", detail))
        if not secret.get("immutable"):
            causes.append(errors.forbidden_field("immutable", detail))
    return causes


def admit_secret(request: Request) -> list[errors.Cause]:
    """Merge ``stringData``, default ``type``, then validate (see the module docstring)."""
    secret = request.new
    data = secret.get("data") or {}
    decoded = _decoded(data)
    for key, value in (secret.pop("stringData", None) or {}).items():
        decoded[key] = value.encode()
        data[key] = base64.b64encode(decoded[key]).decode("ascii")
    if data:
        secret["data"] = data
    else:
        secret.pop("data", None)
    secret["type"] = secret.get("type") or "Opaque"
    causes = [*_key_causes(decoded), *_type_causes(secret, decoded)]
    if request.old is not None:
        causes.extend(_immutability_causes(secret, request.old))
    return causes
