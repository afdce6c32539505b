"""Bearer tokens to identities: the admin token, the static token file, ServiceAccount tokens.

The admin token (user ``admin`` in ``system:masters``) is what the control plane's kubeconfig
carries when authentication is on; it is random, kept owner-readable in the data directory.
A ServiceAccount token is valid while its signature, validity window and audience hold *and*
the ServiceAccount it names still exists with the same uid, as for Kubernetes' bound tokens:
deleting the ServiceAccount revokes its tokens. Anything else is
:class:`~.tokens.InvalidToken`; :meth:`Authenticator.authenticate_request` turns a missing or
invalid token into kube-apiserver's 401 ``Unauthorized`` Status.
"""

from __future__ import annotations

import hmac
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path

from ..api import access
from ..machinery import errors
from ..storage.sqlite import Storage
from . import tokens
from .identity import ADMIN, UserInfo, service_account_groups, service_account_username


def load_admin_token(path: Path) -> str:
    """The admin token at ``path``, created (0600) when missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(secrets.token_urlsafe(32))
        os.chmod(temporary, 0o600)
        temporary.replace(path)
    return path.read_text().strip()


class Authenticator:
    def __init__(
        self,
        storage: Storage,
        *,
        signing_key: bytes,
        admin_token: str,
        static_users: dict[str, UserInfo] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._storage = storage
        self.signing_key = signing_key
        self.admin_token = admin_token
        self._static = static_users or {}
        self.clock = clock

    def authenticate(
        self, token: str, audiences: tuple[str, ...] = (tokens.API_AUDIENCE,)
    ) -> tuple[UserInfo, tuple[str, ...]]:
        """The identity a token proves and the audiences it is valid for."""
        if hmac.compare_digest(token.encode(), self.admin_token.encode()):
            return ADMIN, audiences
        static = self._static.get(token)
        if static is not None:
            return static, audiences
        if not tokens.looks_like_jwt(token):
            raise tokens.InvalidToken("invalid bearer token")
        claims = tokens.verify(self.signing_key, token, now=int(self.clock()), audiences=audiences)
        account = self._storage.get(access.SERVICE_ACCOUNTS.key, claims.namespace, claims.name)
        if account is None or account["metadata"].get("uid") != claims.uid:
            raise tokens.InvalidToken(
                f'service account "{claims.namespace}/{claims.name}" has been deleted'
            )
        user = UserInfo(
            service_account_username(claims.namespace, claims.name),
            claims.uid,
            service_account_groups(claims.namespace),
        )
        return user, tuple(a for a in claims.audiences if a in audiences)

    def authenticate_request(self, authorization: str | None) -> UserInfo:
        """The caller named by an ``Authorization: Bearer`` header; else 401."""
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise errors.Unauthorized("Unauthorized")
        try:
            return self.authenticate(token)[0]
        except tokens.InvalidToken as error:
            raise errors.Unauthorized("Unauthorized") from error
