"""The caller of a request, as Kubernetes' ``user.Info``: name, uid, groups and extra.

ServiceAccounts are users named ``system:serviceaccount:<namespace>:<name>`` in the groups
``system:serviceaccounts`` and ``system:serviceaccounts:<namespace>``; every authenticated
caller is in ``system:authenticated``; ``system:masters`` bypasses authorization.
"""

from __future__ import annotations

from dataclasses import dataclass, field

AUTHENTICATED = "system:authenticated"
UNAUTHENTICATED = "system:unauthenticated"
MASTERS = "system:masters"
SERVICE_ACCOUNTS = "system:serviceaccounts"
SERVICE_ACCOUNT_PREFIX = "system:serviceaccount:"
ADMIN_NAME = "admin"


@dataclass(frozen=True)
class UserInfo:
    name: str
    uid: str = ""
    groups: tuple[str, ...] = ()
    extra: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)

    def to_dict(self) -> dict[str, object]:
        """As in TokenReview and SelfSubjectReview status: ``username``, ``uid``, ``groups``."""
        info: dict[str, object] = {"username": self.name, "groups": list(self.groups)}
        if self.uid:
            info["uid"] = self.uid
        if self.extra:
            info["extra"] = {key: list(values) for key, values in self.extra.items()}
        return info


ADMIN = UserInfo(ADMIN_NAME, groups=(MASTERS, AUTHENTICATED))
"""Who every request acts as when authentication is off, and the kubeconfig's user when on."""


def service_account_username(namespace: str, name: str) -> str:
    return f"{SERVICE_ACCOUNT_PREFIX}{namespace}:{name}"


def split_service_account(username: str) -> tuple[str, str] | None:
    """``(namespace, name)`` of a ServiceAccount username, else None."""
    if not username.startswith(SERVICE_ACCOUNT_PREFIX):
        return None
    namespace, _, name = username.removeprefix(SERVICE_ACCOUNT_PREFIX).partition(":")
    if not namespace or not name or ":" in name:
        return None
    return namespace, name


def service_account_groups(namespace: str) -> tuple[str, ...]:
    return (SERVICE_ACCOUNTS, f"{SERVICE_ACCOUNTS}:{namespace}", AUTHENTICATED)


ANONYMOUS_NAME = "system:anonymous"


def with_authenticated(groups: tuple[str, ...], name: str = "") -> tuple[str, ...]:
    """``groups`` plus ``system:authenticated`` (``system:unauthenticated`` for the anonymous
    user), as kube-apiserver adds them."""
    group = UNAUTHENTICATED if name == ANONYMOUS_NAME else AUTHENTICATED
    return groups if group in groups else (*groups, group)
