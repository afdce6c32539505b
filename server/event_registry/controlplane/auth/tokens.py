"""ServiceAccount tokens: JWTs signed with HMAC-SHA256 under the control plane's own key.

A token carries Kubernetes' bound-token claims: ``iss``, ``sub``
(``system:serviceaccount:<ns>:<name>``), ``aud``, ``iat``/``nbf``/``exp`` and
``kubernetes.io: {namespace, serviceaccount: {name, uid}}``. :func:`verify` accepts a token
only when it is well-formed, its signature is this key's (compared in constant time), it is
within its validity window and it is meant for one of the expected audiences; anything else is
:class:`InvalidToken` with a reason fit for a TokenReview's ``status.error``. The key is 32
random bytes in the data directory, created owner-readable on first use, so tokens survive
restarts and no other control plane accepts them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ISSUER = "https://kubernetes.default.svc.cluster.local"
API_AUDIENCE = ISSUER
"""The audience the API server itself accepts, and a TokenRequest's default."""
DEFAULT_EXPIRATION = 3600
MIN_EXPIRATION = 600


class InvalidToken(Exception):
    """The token is not one this control plane issued, or no longer valid."""


@dataclass(frozen=True)
class ServiceAccountClaims:
    namespace: str
    name: str
    uid: str
    audiences: tuple[str, ...]
    expires_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_key(path: Path) -> bytes:
    """The signing key at ``path``, created (0600) when missing."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_bytes(secrets.token_bytes(32))
        os.chmod(temporary, 0o600)
        temporary.replace(path)
    return path.read_bytes()


def _signature(key: bytes, signing_input: str) -> str:
    return _b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())


def sign(
    key: bytes,
    *,
    namespace: str,
    name: str,
    uid: str,
    audiences: tuple[str, ...],
    issued_at: int,
    expiration_seconds: int,
) -> str:
    header = {"alg": "HS256", "typ": "JWT"}
    claims = {
        "iss": ISSUER,
        "sub": f"system:serviceaccount:{namespace}:{name}",
        "aud": list(audiences),
        "iat": issued_at,
        "nbf": issued_at,
        "exp": issued_at + expiration_seconds,
        "jti": secrets.token_hex(8),
        "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": name, "uid": uid}},
    }
    signing_input = (
        f"{_b64(json.dumps(header, separators=(',', ':')).encode())}."
        f"{_b64(json.dumps(claims, separators=(',', ':')).encode())}"
    )
    return f"{signing_input}.{_signature(key, signing_input)}"


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


def verify(key: bytes, token: str, *, now: int, audiences: tuple[str, ...]) -> ServiceAccountClaims:
    """The claims of a valid token for one of ``audiences``; else :class:`InvalidToken`."""
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidToken("token is not a JWT")
    header_part, claims_part, signature = parts
    expected = _signature(key, f"{header_part}.{claims_part}")
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise InvalidToken("invalid signature")
    try:
        header = json.loads(_unb64(header_part))
        claims: dict[str, Any] = json.loads(_unb64(claims_part))
        bound = claims["kubernetes.io"]
        namespace, name = bound["namespace"], bound["serviceaccount"]["name"]
        uid = bound["serviceaccount"]["uid"]
        expires_at, not_before = int(claims["exp"]), int(claims.get("nbf", 0))
        token_audiences = tuple(claims.get("aud") or ())
    except (ValueError, KeyError, TypeError) as error:
        raise InvalidToken("malformed token") from error
    if header.get("alg") != "HS256" or claims.get("iss") != ISSUER:
        raise InvalidToken("token is not a service account token of this cluster")
    if now >= expires_at:
        raise InvalidToken("service account token has expired")
    if now < not_before:
        raise InvalidToken("service account token is not valid yet")
    if not set(token_audiences) & set(audiences):
        raise InvalidToken("token audiences is invalid for the target audience")
    return ServiceAccountClaims(namespace, name, uid, token_audiences, expires_at)
