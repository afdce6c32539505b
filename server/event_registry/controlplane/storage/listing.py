"""Lists: selectors, resourceVersion semantics and consistent paging with continue tokens.

A list is always consistent at one revision, reported as the collection's
``metadata.resourceVersion``. A paged list serves every page at the revision of the first
page (rebuilt from the change history), so objects changed between pages are neither lost nor
seen twice; once that revision is compacted the continue token answers 410 Expired, as
kube-apiserver does with an etcd-compacted token.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from ..machinery import errors, selectors
from ..machinery.field_labels import METADATA_ONLY, FieldLabels
from .sqlite import Storage, TooOld

_EXPIRED_CONTINUE = (
    "The provided continue parameter is too old to display a consistent list result. You can "
    "start a new list without the continue parameter."
)


@dataclass(frozen=True)
class ListOptions:
    label_selector: str | None = None
    field_selector: str | None = None
    limit: int = 0
    continue_token: str | None = None
    resource_version: str | None = None
    resource_version_match: str | None = None


def encode_continue(revision: int, namespace: str, name: str) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": revision, "start": [namespace, name]})
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_continue(token: str) -> tuple[int, tuple[str, str]]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        revision = int(data["rv"])
        namespace, name = data["start"]
        return revision, (str(namespace), str(name))
    except (ValueError, KeyError, TypeError, binascii.Error) as error:
        raise errors.BadRequest(f"invalid continue token: {error}") from error


def _parse_revision(text: str) -> int:
    try:
        revision = int(text)
    except ValueError as error:
        raise errors.BadRequest(f"invalid resource version: {text!r}") from error
    if revision < 0:
        raise errors.BadRequest(f"invalid resource version: {text!r}")
    return revision


def list_page(
    storage: Storage,
    resource_key: str,
    namespace: str | None,
    options: ListOptions,
    *,
    field_labels: FieldLabels = METADATA_ONLY,
) -> tuple[list[dict[str, Any]], int, str | None]:
    """(objects of this page, the revision they are consistent at, next continue token).

    ``namespace`` None (or empty) lists across all namespaces; ``field_labels``: what a
    ``fieldSelector`` may name for this resource.
    """
    labels = selectors.parse_label_selector(options.label_selector)
    fields = field_labels.parse(options.field_selector)
    namespace = namespace or None
    start: tuple[str, str] | None = None
    revision = storage.revision
    if options.continue_token:
        revision, start = decode_continue(options.continue_token)
    elif options.resource_version not in (None, "", "0"):
        requested = _parse_revision(options.resource_version)
        if options.resource_version_match == "Exact":
            revision = requested
        elif requested > storage.revision:
            raise errors.Timeout(
                f"Too large resource version: {requested}, current: {storage.revision}"
            )
    elif options.resource_version_match not in (None, "", "NotOlderThan", "Exact"):
        raise errors.BadRequest(
            f"resourceVersionMatch {options.resource_version_match!r} is not supported"
        )
    try:
        if revision == storage.revision:
            candidates = storage.items(resource_key, namespace)
        else:
            candidates = storage.items_at(resource_key, namespace, revision)
    except TooOld as error:
        if options.continue_token:
            raise errors.Expired(_EXPIRED_CONTINUE) from error
        raise errors.Expired(
            f"too old resource version: {error.requested} ({error.compacted + 1})"
        ) from error
    exact_name = fields.exact_value("metadata.name")
    page: list[dict[str, Any]] = []
    token: str | None = None
    for obj in candidates:
        meta = obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        if start is not None and key <= start:
            continue
        if exact_name is not None and meta["name"] != exact_name:
            continue
        if not fields.matches(field_labels.values(obj)):
            continue
        if not labels.matches(meta.get("labels") or {}):
            continue
        if options.limit and len(page) == options.limit:
            last = page[-1]["metadata"]
            token = encode_continue(revision, last.get("namespace", ""), last["name"])
            break
        page.append(obj)
    return page, revision, token
