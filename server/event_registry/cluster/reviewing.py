"""Asking the cluster who a caller is and what it may do: TokenReview, SubjectAccessReview.

What a delegating server (kube-rbac-proxy, an aggregated API server) does: the caller's
bearer token goes to the API server in a ``TokenReview``, and each access in a
``SubjectAccessReview`` for the identity that review reported (user, uid, groups, extra).
Our own account needs ``create`` on both (``system:auth-delegator``).

Guarantees: a token the API server does not authenticate is ``None``, never an error; a
review the API server refuses or cannot answer raises the client's
:class:`~.errors.ClusterError` (our own credentials or the cluster are at fault, not the
caller). Nothing is cached here (the caller's layer does it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..domain.access import Identity
from .client import ClusterClient
from .kinds import SUBJECT_ACCESS_REVIEWS, TOKEN_REVIEWS


@dataclass(frozen=True)
class Access:
    """What a SubjectAccessReview asks: may the identity ``verb`` ``resource`` here?"""

    verb: str
    group: str
    resource: str
    namespace: str = ""
    """Empty: in every namespace (a cluster-wide grant)."""


def identity_of(user: Mapping[str, Any]) -> Identity:
    """A TokenReview's ``status.user`` as an :class:`Identity`."""
    extra = user.get("extra")
    pairs = (
        tuple(
            sorted(
                (str(key), tuple(str(v) for v in values))
                for key, values in extra.items()
                if isinstance(values, list)
            )
        )
        if isinstance(extra, Mapping)
        else ()
    )
    groups = user.get("groups")
    return Identity(
        username=str(user.get("username") or ""),
        uid=str(user.get("uid") or ""),
        groups=tuple(str(g) for g in groups) if isinstance(groups, list) else (),
        extra=pairs,
    )


async def review_token(client: ClusterClient, token: str) -> Identity | None:
    """The identity ``token`` proves to the cluster, or None when it proves none."""
    review = {
        "apiVersion": TOKEN_REVIEWS.api_version,
        "kind": TOKEN_REVIEWS.kind,
        "spec": {"token": token},
    }
    answer = await client.request("POST", TOKEN_REVIEWS.path(), body=review)
    status = answer.get("status")
    if not isinstance(status, Mapping) or status.get("authenticated") is not True:
        return None
    user = status.get("user")
    identity = identity_of(user if isinstance(user, Mapping) else {})
    return identity if identity.username else None


def access_review(identity: Identity, access: Access) -> dict[str, Any]:
    """The SubjectAccessReview asking ``access`` for ``identity``."""
    attributes = {
        "verb": access.verb,
        "group": access.group,
        "resource": access.resource,
        "namespace": access.namespace,
    }
    spec: dict[str, Any] = {
        "resourceAttributes": attributes,
        "user": identity.username,
        "groups": list(identity.groups),
    }
    if identity.uid:
        spec["uid"] = identity.uid
    if identity.extra:
        spec["extra"] = {key: list(values) for key, values in identity.extra}
    return {
        "apiVersion": SUBJECT_ACCESS_REVIEWS.api_version,
        "kind": SUBJECT_ACCESS_REVIEWS.kind,
        "spec": spec,
    }


async def review_access(client: ClusterClient, identity: Identity, access: Access) -> bool:
    """Whether the cluster allows ``identity`` the ``access``."""
    answer = await client.request(
        "POST", SUBJECT_ACCESS_REVIEWS.path(), body=access_review(identity, access)
    )
    status = answer.get("status")
    return isinstance(status, Mapping) and status.get("allowed") is True
