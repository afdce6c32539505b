"""Access control for one control plane: who is calling (authentication and impersonation),
may they (RBAC), and the record of what they wrote (the audit log).

With ``enabled`` every request needs a valid bearer token (401 otherwise), except that a
request *without* credentials to ``/healthz``, ``/livez``, ``/readyz`` or ``/version`` acts
as ``system:anonymous`` (which ``system:public-info-viewer`` allows, as on a cluster with
anonymous access limited to those paths), and every request is authorized by RBAC (403 with
kube-apiserver's message otherwise), and a Role or binding may grant only what its writer
holds (:mod:`.escalation`). Disabled, every caller is ``admin`` in
``system:masters``, as before authentication existed; impersonation headers still apply, and
the impersonated identity is then authorized by RBAC exactly as when enabled, so ``kubectl
--as`` behaves the same either way. Token reviews, access reviews and TokenRequest work in
both modes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..api.apiserver import ApiServer
from ..machinery import errors
from . import bootstrap, escalation, impersonation, token_file, tokens
from .attributes import Attributes, forbidden_message
from .audit import AuditLog
from .authenticator import Authenticator, load_admin_token
from .identity import ADMIN, ANONYMOUS_NAME, UNAUTHENTICATED, UserInfo
from .rbac import Decision, RbacIndex
from .reviews import Reviewer
from .service_accounts import DefaultServiceAccounts

PUBLIC_PATHS = frozenset({"/healthz", "/livez", "/readyz", "/version"})
ANONYMOUS = UserInfo(ANONYMOUS_NAME, groups=(UNAUTHENTICATED,))
SIGNING_KEY_FILE = "serviceaccount-signing.key"
ADMIN_TOKEN_FILE = "admin.token"
AUDIT_LOG_FILE = "audit.log"


@dataclass(frozen=True)
class Caller:
    """Who authenticated, and whom the request acts as (the same without impersonation)."""

    authenticated: UserInfo
    user: UserInfo


class AccessControl:
    def __init__(
        self,
        api: ApiServer,
        data_dir: Path,
        *,
        enabled: bool = False,
        token_auth_file: Path | None = None,
    ) -> None:
        self.enabled = enabled
        self.authenticator = Authenticator(
            api.storage,
            signing_key=tokens.load_key(data_dir / SIGNING_KEY_FILE),
            admin_token=load_admin_token(data_dir / ADMIN_TOKEN_FILE),
            static_users=token_file.load(token_auth_file) if token_auth_file else None,
        )
        self.rbac = RbacIndex(api.storage)
        api.add_listener(self.rbac.observe)
        self.reviewer = Reviewer(api.storage, self.authenticator, self.rbac)
        self.audit = AuditLog(data_dir / AUDIT_LOG_FILE)
        bootstrap.install(api)
        self.default_service_accounts = DefaultServiceAccounts(api)
        self.default_service_accounts.start()

    @property
    def kubeconfig_token(self) -> str:
        """The token the control plane's own kubeconfig carries."""
        return self.authenticator.admin_token if self.enabled else "embedded-control-plane"

    def identify(
        self,
        path: str,
        authorization: str | None,
        impersonate: Mapping[str, Sequence[str]],
    ) -> Caller:
        """Authenticate (401) and apply impersonation headers (400/403)."""
        if not self.enabled:
            caller = ADMIN
        elif not authorization and path.rstrip("/") in PUBLIC_PATHS:
            caller = ANONYMOUS
        else:
            caller = self.authenticator.authenticate_request(authorization)
        if not impersonate:
            return Caller(caller, caller)
        return Caller(caller, impersonation.impersonate(caller, impersonate, self.rbac.authorize))

    def authorize(self, caller: Caller, attributes: Attributes) -> Decision:
        """RBAC's decision, or a 403 ``Forbidden`` in kube-apiserver's words."""
        if not self.enforces(caller):
            return Decision(True)
        decision = self.rbac.authorize(attributes)
        if decision.allowed:
            return decision
        message = forbidden_message(attributes)
        if not attributes.resource_request:
            raise errors.Forbidden(f"forbidden: {message}")
        group, resource, name = attributes.api_group, attributes.resource, attributes.name
        qualified = f"{resource}.{group}" if group else resource
        raise errors.Forbidden(
            f'{qualified} "{name}" is forbidden: {message}'
            if name
            else f"{qualified} is forbidden: {message}",
            errors.Details(name=name, group=group, kind=resource),
        )

    def enforces(self, caller: Caller) -> bool:
        """Whether RBAC decides for this caller (auth on, or an impersonated identity)."""
        return self.enabled or caller.user is not caller.authenticated

    def check_grant(self, caller: Caller, resource_key: str, obj: dict[str, Any]) -> None:
        """403 when writing ``obj`` (a Role, ClusterRole or binding) would grant permissions
        the caller does not hold (:mod:`.escalation`)."""
        if self.enforces(caller):
            escalation.check(self.rbac, caller.user, resource_key, obj)

    def close(self) -> None:
        self.audit.close()
