"""``Impersonate-User``/``-Group``/``-Uid``/``-Extra-<key>``: act as someone else, if allowed.

As kube-apiserver's impersonation filter: each requested attribute is authorized for the
*caller* with the verb ``impersonate`` on ``users`` (or ``serviceaccounts`` in its namespace
for a ``system:serviceaccount:<ns>:<name>`` user), ``groups``, ``uids`` and ``userextras/<key>``
(both in ``authentication.k8s.io``); the first refusal is a 403 naming it. Groups, uid or
extras without a user are a 400. Once allowed, the request is authorized as the impersonated
identity, which gets ``system:authenticated`` (``system:unauthenticated`` for
``system:anonymous``; a ServiceAccount also its fixed groups when no group is asked for).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from ..machinery import errors
from .attributes import Attributes, forbidden_message
from .identity import (
    UserInfo,
    service_account_groups,
    split_service_account,
    with_authenticated,
)
from .rbac import Decision

USER = "impersonate-user"
GROUP = "impersonate-group"
UID = "impersonate-uid"
EXTRA_PREFIX = "impersonate-extra-"
AUTHENTICATION_GROUP = "authentication.k8s.io"


def _check(
    caller: UserInfo,
    authorize: Callable[[Attributes], Decision],
    *,
    group: str,
    resource: str,
    name: str,
    namespace: str = "",
    subresource: str = "",
) -> None:
    attributes = Attributes(
        caller,
        "impersonate",
        True,
        api_group=group,
        resource=resource,
        subresource=subresource,
        namespace=namespace,
        name=name,
    )
    if not authorize(attributes).allowed:
        qualified = f"{resource}.{group}" if group else resource
        raise errors.Forbidden(
            f'{qualified} "{name}" is forbidden: {forbidden_message(attributes)}',
            errors.Details(name=name, group=group, kind=resource),
        )


def impersonate(
    caller: UserInfo,
    headers: Mapping[str, Sequence[str]],
    authorize: Callable[[Attributes], Decision],
) -> UserInfo:
    """The identity to act as; ``headers`` maps lowercased ``impersonate-*`` names to values."""
    users = headers.get(USER) or ()
    groups = tuple(g for g in headers.get(GROUP) or ())
    uids = headers.get(UID) or ()
    extra = {
        name.removeprefix(EXTRA_PREFIX): tuple(values)
        for name, values in headers.items()
        if name.startswith(EXTRA_PREFIX)
    }
    if not users:
        asked = [h for h, v in ((GROUP, groups), (UID, uids), ("extra", extra)) if v]
        raise errors.BadRequest(f"requested {asked} without impersonating a user")
    username = users[0]
    service_account = split_service_account(username)
    if service_account is not None:
        _check(
            caller,
            authorize,
            group="",
            resource="serviceaccounts",
            name=service_account[1],
            namespace=service_account[0],
        )
    else:
        _check(caller, authorize, group="", resource="users", name=username)
    for group in groups:
        _check(caller, authorize, group="", resource="groups", name=group)
    for uid in uids:
        _check(caller, authorize, group=AUTHENTICATION_GROUP, resource="uids", name=uid)
    for key, values in extra.items():
        for value in values:
            _check(
                caller,
                authorize,
                group=AUTHENTICATION_GROUP,
                resource="userextras",
                subresource=key,
                name=value,
            )
    if service_account is not None and not groups:
        groups = service_account_groups(service_account[0])
    return UserInfo(username, uids[0] if uids else "", with_authenticated(groups, username), extra)
