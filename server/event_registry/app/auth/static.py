"""Authentication from static data: the request's bearer token → a :class:`Principal`.

``open`` mode (the embedded development default) gives everyone every namespace. ``tokens``
mode reads a file mapping tokens to namespaces; a request without a known token is refused
(401) before any GraphQL runs. Tokens are compared in constant time.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml

from ...domain import access

AuthMode = Literal["open", "tokens"]


@dataclass(frozen=True)
class Authenticator:
    mode: AuthMode
    principals: Mapping[str, access.Principal]

    @classmethod
    def open(cls) -> Authenticator:
        return cls("open", {})

    @classmethod
    def from_file(cls, path: Path) -> Authenticator:
        return cls("tokens", access.principals_from_tokens(yaml.safe_load(path.read_text())))

    def principal_for_token(self, token: str | None) -> access.Principal | None:
        if self.mode == "open":
            return access.OPEN
        if not token:
            return None
        found = None
        for known, principal in self.principals.items():
            if hmac.compare_digest(known.encode(), token.encode()):
                found = principal
        return found

    def principal_for_header(self, authorization: str | None) -> access.Principal | None:
        return self.principal_for_token(bearer_token(authorization))

    async def authenticate(self, authorization: str | None) -> access.Principal | None:
        return self.principal_for_header(authorization)

    @property
    def recheck_interval(self) -> float | None:
        return None

    async def wait_for_change(self, timeout: float) -> None:
        await asyncio.sleep(timeout)


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None
