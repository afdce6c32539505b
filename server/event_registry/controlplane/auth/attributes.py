"""What a request asks to do, in the authorizer's terms (kube-apiserver's RequestInfo).

API paths (``/api/v1/...``, ``/apis/<group>/<version>/...`` below a resource) are resource
requests: the verb is ``get``/``list``/``watch`` for GET (an item, a collection, or
``watch=true``), ``create``, ``update``, ``patch``, ``delete`` or ``deletecollection``; a
list or watch narrowed by ``fieldSelector=metadata.name=<n>`` names ``<n>``, and a Namespace
is its own namespace. Everything else (``/api``, ``/apis``, group roots, ``/openapi/...``,
``/version``, ``/healthz``) is a non-resource request on its path, verb = lowercased method.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..machinery import paths
from .identity import UserInfo

_METHOD_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch"}


@dataclass(frozen=True)
class Attributes:
    """One authorization question: may ``user`` do ``verb`` on this resource or path."""

    user: UserInfo
    verb: str
    resource_request: bool
    api_group: str = ""
    api_version: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    path: str = ""

    @property
    def combined_resource(self) -> str:
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource


def _named_by_selector(field_selector: str | None) -> str:
    for term in (field_selector or "").split(","):
        key, operator, value = term.partition("=")
        key = key.rstrip("=")
        value = value.lstrip("=")
        if key.strip() == "metadata.name" and operator and not key.endswith("!"):
            return value.strip()
    return ""


def from_request(user: UserInfo, method: str, path: str, query: Mapping[str, str]) -> Attributes:
    parsed = paths.parse(path)
    if not isinstance(parsed, paths.ResourcePath):
        return Attributes(user, method.lower(), False, path=path)
    name = parsed.name
    namespace = parsed.namespace
    if parsed.group == "" and parsed.plural == "namespaces" and name:
        namespace = name
    if method in ("GET", "HEAD"):
        if name:
            verb = "get"
        else:
            verb = "watch" if (query.get("watch") or "").lower() in ("true", "1") else "list"
            name = _named_by_selector(query.get("fieldSelector"))
    elif method == "DELETE":
        verb = "delete" if name else "deletecollection"
    else:
        verb = _METHOD_VERBS.get(method, method.lower())
    return Attributes(
        user,
        verb,
        True,
        api_group=parsed.group,
        api_version=parsed.version,
        resource=parsed.plural,
        subresource=parsed.subresource,
        namespace=namespace,
        name=name,
        path=path,
    )


def forbidden_message(attributes: Attributes) -> str:
    """kube-apiserver's words: ``User "u" cannot list resource "r" in API group "g" ...``."""
    user = attributes.user.name
    if not attributes.resource_request:
        return f'User "{user}" cannot {attributes.verb} path "{attributes.path}"'
    head = (
        f'User "{user}" cannot {attributes.verb} resource "{attributes.combined_resource}" '
        f'in API group "{attributes.api_group}"'
    )
    if attributes.namespace:
        return f'{head} in the namespace "{attributes.namespace}"'
    return f"{head} at the cluster scope"
