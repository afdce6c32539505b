"""Apply a PATCH request body to a stored object, the way kube-apiserver does.

``patch_type`` is the request's Content-Type with its parameters stripped:

* ``application/merge-patch+json``: RFC 7386 JSON merge patch (``null`` deletes a key, nested
  objects merge, everything else, lists included, replaces). The patch must be a JSON object.
* ``application/json-patch+json``: RFC 6902 JSON patch, applied with :mod:`jsonpatch`. The patch
  must be a JSON array of operations.
* ``application/strategic-merge-patch+json``: Kubernetes strategic merge patch, accepted only for
  built-in kinds (``strategic=True``). It implements what kubectl
  sends for those kinds: merge-patch semantics for maps; the directives ``$patch``
  (``replace``/``delete``), ``$retainKeys``, ``$setElementOrder/<field>`` and
  ``$deleteFromPrimitiveList/<field>``; and per-field list strategies taken from the data table
  :data:`LIST_STRATEGIES` (lists not named there are replaced; Service ports and the pod
  spec lists of Pods and pod templates merge by k8s.io/api's merge keys).
* ``application/apply-patch+yaml``: server-side apply is not a patch of a document; the API
  server handles it (``api/serverside.py``) and :func:`apply_patch` refuses it (415).

Guarantees:

* :func:`apply_patch` never mutates ``document`` or ``patch``, and its result shares no mutable
  container with either, so callers may change the result freely.
* It returns a ``dict`` or raises an :class:`~.errors.ApiError`:
  ``UnsupportedMediaType`` (415) for a content type not accepted for the resource,
  ``BadRequest`` (400) for a malformed patch document, ``Invalid`` (422) for a well-formed patch
  that cannot be applied to this document (a failed JSON patch ``test``, a missing path, ...);
  a JSON patch operation that does not apply is worded as kube-apiserver's JSON patch library
  words it (``replace operation does not apply: doc is missing key: /spec/x: missing value``),
  never with a Python type.
* A strategic merge result never contains a directive key (``$patch``, ``$retainKeys``,
  ``$setElementOrder/...``, ``$deleteFromPrimitiveList/...``).
* Pure: no I/O and no global state; the result depends only on the arguments.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any, Final, Literal, NamedTuple

import jsonpatch
import jsonpointer

from .errors import BadRequest, Cause, Invalid, UnsupportedMediaType

__all__ = [
    "APPLY_PATCH",
    "JSON_PATCH",
    "LIST_STRATEGIES",
    "MERGE_PATCH",
    "STRATEGIC_MERGE_PATCH",
    "ListStrategy",
    "apply_patch",
    "json_merge_patch",
    "strategic_merge_patch",
]

MERGE_PATCH: Final = "application/merge-patch+json"
JSON_PATCH: Final = "application/json-patch+json"
STRATEGIC_MERGE_PATCH: Final = "application/strategic-merge-patch+json"
APPLY_PATCH: Final = "application/apply-patch+yaml"

_CUSTOM_RESOURCE_TYPES: Final = (JSON_PATCH, MERGE_PATCH, APPLY_PATCH)
_BUILT_IN_TYPES: Final = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH)


class ListStrategy(NamedTuple):
    """How a strategic merge patch combines a list field with the stored one.

    ``replace``: the patch's list replaces the stored list. ``merge`` without a key: the lists
    are a set of primitives (union, stored order kept, no duplicates). ``merge`` with
    ``merge_key``: the elements are maps identified by that key; matching maps merge, others
    are appended, and a patch element ``{"$patch": "delete", <key>: <value>}`` removes one.
    """

    strategy: Literal["merge", "replace"]
    merge_key: str | None = None


_REPLACE: Final = ListStrategy("replace")

_POD_SPEC_KEYS: Final[Mapping[tuple[str, ...], str]] = {
    ("containers",): "name",
    ("initContainers",): "name",
    ("ephemeralContainers",): "name",
    ("volumes",): "name",
    ("imagePullSecrets",): "name",
    ("hostAliases",): "ip",
    ("topologySpreadConstraints",): "topologyKey",
    ("resourceClaims",): "name",
    ("schedulingGates",): "name",
    **{
        (containers, field): key
        for containers in ("containers", "initContainers", "ephemeralContainers")
        for field, key in (
            ("ports", "containerPort"),
            ("env", "name"),
            ("volumeMounts", "mountPath"),
            ("volumeDevices", "devicePath"),
            ("resizePolicy", "resourceName"),
        )
    },
}
"""The merge keys of k8s.io/api's PodSpec lists, relative to a pod spec."""
_POD_SPECS: Final = (
    ("spec",),  # Pod
    ("spec", "template", "spec"),  # ReplicationController, Deployment, ..., Job
    ("spec", "jobTemplate", "spec", "template", "spec"),  # CronJob
)

#: Strategic-merge list strategies by field path from the object root (list elements add no
#: path segment). Every list not named here is replaced.
LIST_STRATEGIES: Final[Mapping[tuple[str, ...], ListStrategy]] = {
    ("metadata", "finalizers"): ListStrategy("merge"),
    ("spec", "finalizers"): ListStrategy("merge"),
    ("metadata", "ownerReferences"): ListStrategy("merge", "uid"),
    ("metadata", "managedFields"): _REPLACE,
    ("spec", "ports"): ListStrategy("merge", "port"),  # Service
    **{
        (*pod_spec, *field): ListStrategy("merge", key)
        for pod_spec in _POD_SPECS
        for field, key in _POD_SPEC_KEYS.items()
    },
}

_PATCH_DIRECTIVE: Final = "$patch"
_RETAIN_KEYS: Final = "$retainKeys"
_SET_ELEMENT_ORDER: Final = "$setElementOrder/"
_DELETE_FROM_PRIMITIVE_LIST: Final = "$deleteFromPrimitiveList/"

_Path = tuple[str, ...]


def apply_patch(
    document: dict[str, Any], patch_type: str, patch: object, *, strategic: bool
) -> dict[str, Any]:
    """Return a new object: ``document`` with ``patch`` (a parsed body of ``patch_type``) applied.

    ``strategic`` says whether the resource accepts strategic merge patches (built-in kinds do,
    custom resources do not).
    """
    media_type = patch_type.strip().lower()
    if media_type == MERGE_PATCH:
        if not isinstance(patch, dict):
            raise BadRequest(f"a merge patch must be a JSON object, not {_json_type(patch)}")
        result = json_merge_patch(document, patch)
        assert isinstance(result, dict)  # an object patch always yields an object
        return result
    if media_type == JSON_PATCH:
        return _apply_json_patch(document, patch)
    if media_type == STRATEGIC_MERGE_PATCH:
        if not strategic:
            raise UnsupportedMediaType(_unknown_format_message(_CUSTOM_RESOURCE_TYPES))
        return strategic_merge_patch(document, patch)
    if media_type == APPLY_PATCH:
        raise UnsupportedMediaType(f"{APPLY_PATCH} is server-side apply, not a patch of a document")
    accepted = _BUILT_IN_TYPES if strategic else _CUSTOM_RESOURCE_TYPES
    raise UnsupportedMediaType(_unknown_format_message(accepted))


def _unknown_format_message(accepted: tuple[str, ...]) -> str:
    return (
        "the body of the request was in an unknown format - accepted media types include: "
        + ", ".join(accepted)
    )


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


# --- RFC 7386 merge patch ------------------------------------------------------------------


def json_merge_patch(target: object, patch: object) -> object:
    """RFC 7386 ``MergePatch(target, patch)`` for any JSON values; mutates neither argument."""
    return _merge_patch_into(copy.deepcopy(target), patch)


def _merge_patch_into(target: object, patch: object) -> object:
    """RFC 7386 merge; ``target`` is a private copy and may be modified in place."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result: dict[str, Any] = target if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = _merge_patch_into(result.get(name), value)
    return result


# --- RFC 6902 JSON patch -------------------------------------------------------------------


def _apply_json_patch(document: dict[str, Any], patch: object) -> dict[str, Any]:
    if not isinstance(patch, list):
        raise BadRequest(
            f"a JSON patch must be a JSON array of operations, not {_json_type(patch)}"
        )
    operations: list[Any] = copy.deepcopy(patch)
    compiled: list[Any] = []
    for index, operation in enumerate(operations):
        try:
            compiled.append(jsonpatch.JsonPatch([operation]))
        except (
            jsonpatch.JsonPatchException,
            jsonpointer.JsonPointerException,
            TypeError,
            AttributeError,
        ) as exc:
            raise BadRequest(
                f"invalid JSON patch: {_describe_operation(index, operation)}: {exc}"
            ) from exc
    result: object = copy.deepcopy(document)
    for index, (operation, single) in enumerate(zip(operations, compiled, strict=True)):
        where = _describe_operation(index, operation)
        source_found = _source_found(result, operation)
        try:
            result = single.apply(result, in_place=True)
        except jsonpatch.InvalidJsonPatch as exc:
            raise BadRequest(f"invalid JSON patch: {where}: {exc}") from exc
        except (
            jsonpatch.JsonPatchException,
            jsonpointer.JsonPointerException,
            KeyError,
            IndexError,
            TypeError,
        ) as exc:
            raise _not_applicable(operation, source_found=source_found) from exc
    if not isinstance(result, dict):
        raise Invalid(f"JSON patch result must be a JSON object, not {_json_type(result)}")
    return result


def _source_found(document: object, operation: dict[str, Any]) -> bool:
    """Whether the ``from`` of a move or copy names a value of ``document``."""
    source = operation.get("from")
    if operation.get("op") not in ("move", "copy") or not isinstance(source, str):
        return False
    try:
        jsonpointer.resolve_pointer(document, source)
    except (jsonpointer.JsonPointerException, KeyError, IndexError, TypeError):
        return False
    return True


def _not_applicable(operation: dict[str, Any], *, source_found: bool) -> Invalid:
    """An operation that does not apply to the document, worded as kube-apiserver's JSON patch
    library words it (``add operation does not apply: doc is missing path: "/spec/x": missing
    value``), with that text also as the Status' one ``UnexpectedServerResponse`` cause."""
    op, path, source = operation.get("op"), operation.get("path"), operation.get("from")
    if op == "test":
        message = f"testing value {path} failed: test failed"
    elif op in ("move", "copy") and source_found:
        message = f"{op} operation does not apply: doc is missing destination path: {path}"
    elif op in ("move", "copy"):
        message = f"{op} operation does not apply: doc is missing from path: {source}"
    elif op == "replace":
        message = f"replace operation does not apply: doc is missing key: {path}"
    else:
        message = f'{op} operation does not apply: doc is missing path: "{path}"'
    if op != "test":
        message += ": missing value"
    return Invalid(message, causes=(Cause("", "UnexpectedServerResponse", message),))


def _describe_operation(index: int, operation: object) -> str:
    if not isinstance(operation, dict):
        return f"operation {index}"
    parts = [f"operation {index}"]
    if isinstance(operation.get("op"), str):
        parts.append(f'"{operation["op"]}"')
    if isinstance(operation.get("from"), str):
        parts.append(f'from "{operation["from"]}"')
    if isinstance(operation.get("path"), str):
        parts.append(f'at path "{operation["path"]}"')
    return " ".join(parts)


# --- Kubernetes strategic merge patch ------------------------------------------------------


def strategic_merge_patch(document: dict[str, Any], patch: object) -> dict[str, Any]:
    """Apply a Kubernetes strategic merge patch; mutates neither argument.

    Map handling follows merge-patch semantics plus directives; list handling follows
    :data:`LIST_STRATEGIES`. A top-level ``$patch: delete`` yields an empty object.
    """
    if not isinstance(patch, dict):
        raise BadRequest(f"a strategic merge patch must be a JSON object, not {_json_type(patch)}")
    merged = _merge_map(copy.deepcopy(document), copy.deepcopy(patch), ())
    return {} if merged is None else merged


def _is_directive(key: str) -> bool:
    return key in (_PATCH_DIRECTIVE, _RETAIN_KEYS) or key.startswith(
        (_SET_ELEMENT_ORDER, _DELETE_FROM_PRIMITIVE_LIST)
    )


def _field_name(path: _Path) -> str:
    return ".".join(path) or "<root>"


def _merge_map(
    original: dict[str, Any], patch: dict[str, Any], path: _Path
) -> dict[str, Any] | None:
    """Merge ``patch`` into ``original`` (a private copy, modified in place).

    Returns the merged map, or ``None`` when the patch says ``$patch: delete`` (the caller
    drops the field). ``patch`` is a private copy too; its values may be moved into the result.
    """
    if _PATCH_DIRECTIVE in patch:
        directive = patch[_PATCH_DIRECTIVE]
        if directive == "delete":
            return None
        if directive == "replace":
            rest = {key: value for key, value in patch.items() if key != _PATCH_DIRECTIVE}
            return _merge_map({}, rest, path)
        raise BadRequest(
            f"unknown $patch directive {json.dumps(directive)} in map {_field_name(path)}; "
            'expected "replace" or "delete"'
        )

    if _RETAIN_KEYS in patch:
        _apply_retain_keys(original, patch, path)

    handled: set[str] = set()
    for key, order in patch.items():
        if key.startswith(_SET_ELEMENT_ORDER):
            field = key[len(_SET_ELEMENT_ORDER) :]
            if _set_element_order(original, patch, field, order, (*path, field)):
                handled.add(field)

    for key, value in patch.items():
        if _is_directive(key) or key in handled:
            continue
        if value is None:
            original.pop(key, None)
            continue
        merged = _merge_value(original.get(key), value, (*path, key))
        if merged is None:
            original.pop(key, None)
        else:
            original[key] = merged

    for key, values in patch.items():
        if key.startswith(_DELETE_FROM_PRIMITIVE_LIST):
            field = key[len(_DELETE_FROM_PRIMITIVE_LIST) :]
            _delete_from_list(original, field, values, (*path, field))
    return original


def _merge_value(original: object, patch: object, path: _Path) -> object:
    """Merge one field's patch value into its stored value; ``None`` means drop the field.

    A patch value whose type differs from the stored one replaces it (directives removed).
    """
    if isinstance(patch, dict):
        return _merge_map(original if isinstance(original, dict) else {}, patch, path)
    if isinstance(patch, list):
        return _merge_list(original if isinstance(original, list) else [], patch, path)
    return patch


def _apply_retain_keys(original: dict[str, Any], patch: dict[str, Any], path: _Path) -> None:
    retain = patch[_RETAIN_KEYS]
    if not isinstance(retain, list) or not all(isinstance(key, str) for key in retain):
        raise BadRequest(f"$retainKeys in {_field_name(path)} must be a list of strings")
    keep = set(retain)
    stray = sorted(
        key
        for key, value in patch.items()
        if not _is_directive(key) and value is not None and key not in keep
    )
    if stray:
        raise Invalid(
            f"patch content doesn't match $retainKeys list in {_field_name(path)}: "
            f"{', '.join(stray)} not retained"
        )
    for key in [key for key in original if key not in keep]:
        del original[key]


def _strategy(path: _Path) -> ListStrategy:
    return LIST_STRATEGIES.get(path, _REPLACE)


def _canonical(value: object) -> str:
    """A hashable identity for a JSON value (``1``, ``1.0`` and ``true`` stay distinct)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _identity(item: object, merge_key: str | None, path: _Path) -> str:
    if merge_key is None:
        return _canonical(item)
    if not isinstance(item, dict) or merge_key not in item:
        raise BadRequest(
            f"elements of {_field_name(path)} must be objects with the merge key "
            f"{json.dumps(merge_key)}; got {_canonical(item)}"
        )
    return _canonical(item[merge_key])


def _fresh_element(item: object, path: _Path) -> object:
    """A list element taken from the patch as is, with directives and nulls removed."""
    if isinstance(item, dict):
        return _merge_map({}, item, path)
    if isinstance(item, list):
        return _merge_list([], item, path)
    return item


def _merge_list(original: list[Any], patch: list[Any], path: _Path) -> list[Any]:
    """Combine a stored list (a private copy) with a patch list, per :data:`LIST_STRATEGIES`."""
    strategy = _strategy(path)
    if strategy.strategy == "replace":
        replaced = (_fresh_element(item, path) for item in patch)
        return [item for item in replaced if item is not None]
    key = strategy.merge_key
    if key is None:
        fresh = [
            item for item in (_fresh_element(item, path) for item in patch) if item is not None
        ]
        merged: list[Any] = []
        seen: set[str] = set()
        for item in [*original, *fresh]:
            identity = _canonical(item)
            if identity not in seen:
                seen.add(identity)
                merged.append(item)
        patch_ids = [_canonical(item) for item in fresh]
        return _order(merged, patch_ids, original, None)

    replace = False
    elements: list[dict[str, Any]] = []
    for item in patch:
        directive = item.get(_PATCH_DIRECTIVE) if isinstance(item, dict) else None
        if directive is None:
            _identity(item, key, path)  # every plain element needs the merge key
            elements.append(item)
        elif directive == "delete":
            doomed = _identity(item, key, path)
            original = [kept for kept in original if _identity_or_none(kept, key) != doomed]
        elif directive == "replace":
            replace = True
        else:
            raise BadRequest(
                f"unknown $patch directive {json.dumps(directive)} in list {_field_name(path)}; "
                'expected "replace" or "delete"'
            )
    stored: list[Any] = [] if replace else original
    merged = list(stored)
    positions = {_identity_or_none(item, key): index for index, item in enumerate(merged)}
    for element in elements:
        identity = _identity(element, key, path)
        position = positions.get(identity)
        if position is None:
            positions[identity] = len(merged)
            merged.append(_merge_map({}, element, path))
        else:
            merged[position] = _merge_map(merged[position], element, path)
    patch_ids = [_identity(element, key, path) for element in elements]
    return _order(merged, patch_ids, stored, key)


def _identity_or_none(item: object, merge_key: str) -> str | None:
    if isinstance(item, dict) and merge_key in item:
        return _canonical(item[merge_key])
    return None


def _item_identity(item: object, merge_key: str | None) -> str | None:
    return _canonical(item) if merge_key is None else _identity_or_none(item, merge_key)


def _order(
    merged: list[Any],
    patch_order: list[str],
    stored: list[Any],
    merge_key: str | None,
) -> list[Any]:
    """Order a merged list as kube-apiserver does.

    Items named by ``patch_order`` take that order; the other (server-only) items keep their
    stored order; the two runs are interleaved so that a server-only item precedes a patch item
    only when both are stored and it was stored before it. So items new to the list come
    before the server-only items that follow them, e.g. ``[a]`` merged with ``[b]`` is
    ``[b, a]``, as with kube-apiserver.
    """
    wanted = {identity: index for index, identity in reversed(list(enumerate(patch_order)))}
    stored_at: dict[str | None, int] = {}
    for index, item in enumerate(stored):
        stored_at.setdefault(_item_identity(item, merge_key), index)
    from_patch: list[tuple[int, int | None, Any]] = []
    server_only: list[tuple[int, int | None, Any]] = []
    unknown = len(stored) + len(patch_order)
    for item in merged:
        identity = _item_identity(item, merge_key)
        position = stored_at.get(identity)
        if identity is not None and identity in wanted:
            from_patch.append((wanted[identity], position, item))
        else:
            server_only.append((unknown if position is None else position, position, item))
    from_patch.sort(key=lambda entry: entry[0])
    server_only.sort(key=lambda entry: entry[0])

    result: list[Any] = []
    left, right = 0, 0
    while left < len(server_only) and right < len(from_patch):
        left_at, right_at = server_only[left][1], from_patch[right][1]
        if left_at is not None and right_at is not None and left_at < right_at:
            result.append(server_only[left][2])
            left += 1
        else:
            result.append(from_patch[right][2])
            right += 1
    result.extend(entry[2] for entry in server_only[left:])
    result.extend(entry[2] for entry in from_patch[right:])
    return result


def _set_element_order(
    original: dict[str, Any], patch: dict[str, Any], field: str, order: object, path: _Path
) -> bool:
    """Apply ``$setElementOrder/<field>``; return whether ``field`` is now fully handled."""
    if not isinstance(order, list):
        raise BadRequest(f"$setElementOrder/{field} must be a list")
    patch_list = patch.get(field)
    if field in patch and not isinstance(patch_list, list):
        return False  # the field itself is replaced or deleted; the order has nothing to sort
    key = _strategy(path).merge_key
    order_ids = [_identity(item, key, path) for item in order]
    stored = original.get(field)
    stored_list = stored if isinstance(stored, list) else None

    if patch_list is not None:
        _check_order_matches(patch_list, order_ids, key, path)
        merged = _merge_list(stored_list if stored_list is not None else [], patch_list, path)
    elif stored_list is not None:
        merged = stored_list
    else:
        return True
    original[field] = _order(merged, order_ids, stored_list or [], key)
    return True


def _check_order_matches(
    patch_list: list[Any], order_ids: list[str], merge_key: str | None, path: _Path
) -> None:
    """The patch list's elements (deletions aside) must appear in the order list, in order."""
    position = 0
    for item in patch_list:
        if isinstance(item, dict) and _PATCH_DIRECTIVE in item:
            continue
        identity = _identity(item, merge_key, path)
        while position < len(order_ids) and order_ids[position] != identity:
            position += 1
        if position == len(order_ids):
            raise BadRequest(
                f"the order of {_field_name(path)} in the patch does not match "
                f"$setElementOrder/{path[-1]}"
            )
        position += 1


def _delete_from_list(original: dict[str, Any], field: str, values: object, path: _Path) -> None:
    if not isinstance(values, list):
        raise BadRequest(f"$deleteFromPrimitiveList/{field} must be a list")
    stored = original.get(field)
    if not isinstance(stored, list):
        return
    doomed = {_canonical(value) for value in values}
    original[field] = [item for item in stored if _canonical(item) not in doomed]
