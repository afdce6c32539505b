"""Giving the registry an account of its own on a cluster we administer (the embedded one).

With an administrator's client: a ServiceAccount, a ClusterRole with exactly
:func:`~.registry_role.rules` and a ClusterRoleBinding to it (created where missing, the
role's rules set again where they differ), then a token for the account (TokenRequest).
Idempotent: a restart reuses the objects and gets a fresh token.
"""

from __future__ import annotations

import contextlib
from typing import Any

from . import errors, registry_role
from .client import ClusterClient
from .kinds import RBAC_GROUP, ResourceRef

SERVICE_ACCOUNTS = ResourceRef("ServiceAccount", "", "v1", "serviceaccounts")
CLUSTER_ROLES = ResourceRef("ClusterRole", RBAC_GROUP, "v1", "clusterroles", False)
CLUSTER_ROLE_BINDINGS = ResourceRef(
    "ClusterRoleBinding", RBAC_GROUP, "v1", "clusterrolebindings", False
)
TOKEN_SECONDS = 1 << 31
"""How long the account's token lasts (a fresh one is asked for at every start)."""


async def _create_or_keep(
    client: ClusterClient, resource: ResourceRef, body: dict[str, Any]
) -> None:
    with contextlib.suppress(errors.AlreadyExists):
        await client.create(resource, body["metadata"].get("namespace", ""), body)


async def registry_token(client: ClusterClient, namespace: str) -> str:
    """Set up the registry's account in ``namespace``; a token for it."""
    name = registry_role.NAME
    await _create_or_keep(
        client,
        SERVICE_ACCOUNTS,
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": name, "namespace": namespace},
        },
    )
    rules = registry_role.rules()
    role = {
        "apiVersion": CLUSTER_ROLES.api_version,
        "kind": "ClusterRole",
        "metadata": {"name": name},
        "rules": rules,
    }
    await _create_or_keep(client, CLUSTER_ROLES, role)
    stored = await client.get(CLUSTER_ROLES, "", name)
    if stored.get("rules") != rules:
        await client.merge_patch(CLUSTER_ROLES, "", name, {"rules": rules})
    await _create_or_keep(
        client,
        CLUSTER_ROLE_BINDINGS,
        {
            "apiVersion": CLUSTER_ROLE_BINDINGS.api_version,
            "kind": "ClusterRoleBinding",
            "metadata": {"name": name},
            "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}],
        },
    )
    request = {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenRequest",
        "spec": {"expirationSeconds": TOKEN_SECONDS},
    }
    path = SERVICE_ACCOUNTS.path(namespace, name, "token")
    answer = await client.request("POST", path, body=request)
    status = answer.get("status")
    token = status.get("token") if isinstance(status, dict) else None
    if not isinstance(token, str) or not token:
        raise errors.ClusterError(0, "NoToken", f"TokenRequest for {namespace}/{name} gave none")
    return token
