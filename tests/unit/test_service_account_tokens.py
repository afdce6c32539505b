"""ServiceAccount tokens (sign, verify, expiry, forgery, audience) and the static token file."""

from __future__ import annotations

import base64
import json

import pytest

from event_registry.controlplane.auth import token_file, tokens

KEY = b"k" * 32
NOW = 1_800_000_000


def mint(**overrides: object) -> str:
    arguments: dict[str, object] = {
        "namespace": "team-a",
        "name": "bot",
        "uid": "u-1",
        "audiences": (tokens.API_AUDIENCE,),
        "issued_at": NOW,
        "expiration_seconds": 3600,
        **overrides,
    }
    return tokens.sign(KEY, **arguments)  # type: ignore[arg-type]


def test_a_fresh_token_verifies_with_its_claims() -> None:
    claims = tokens.verify(KEY, mint(), now=NOW + 10, audiences=(tokens.API_AUDIENCE,))
    assert (claims.namespace, claims.name, claims.uid) == ("team-a", "bot", "u-1")
    assert claims.expires_at == NOW + 3600


def test_the_token_is_a_jwt_with_kubernetes_claims() -> None:
    header, claims, _ = mint().split(".")
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {"alg": "HS256", "typ": "JWT"}
    decoded = json.loads(base64.urlsafe_b64decode(claims + "=="))
    assert decoded["sub"] == "system:serviceaccount:team-a:bot"
    assert decoded["kubernetes.io"] == {
        "namespace": "team-a",
        "serviceaccount": {"name": "bot", "uid": "u-1"},
    }


def test_an_expired_token_is_refused() -> None:
    token = mint(expiration_seconds=600)
    with pytest.raises(tokens.InvalidToken, match="expired"):
        tokens.verify(KEY, token, now=NOW + 600, audiences=(tokens.API_AUDIENCE,))


def test_a_token_from_another_key_is_refused() -> None:
    with pytest.raises(tokens.InvalidToken, match="signature"):
        tokens.verify(b"x" * 32, mint(), now=NOW, audiences=(tokens.API_AUDIENCE,))


def test_changed_claims_break_the_signature() -> None:
    header, claims, signature = mint().split(".")
    decoded = json.loads(base64.urlsafe_b64decode(claims + "=="))
    decoded["kubernetes.io"]["serviceaccount"]["name"] = "admin"
    forged_claims = base64.urlsafe_b64encode(json.dumps(decoded).encode()).rstrip(b"=").decode()
    with pytest.raises(tokens.InvalidToken, match="signature"):
        tokens.verify(
            KEY, f"{header}.{forged_claims}.{signature}", now=NOW, audiences=(tokens.API_AUDIENCE,)
        )


@pytest.mark.parametrize("garbage", ["", "a.b", "a.b.c", "....", "x" * 200])
def test_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(tokens.InvalidToken):
        tokens.verify(KEY, garbage, now=NOW, audiences=(tokens.API_AUDIENCE,))


def test_a_token_for_another_audience_is_refused() -> None:
    token = mint(audiences=("vault",))
    with pytest.raises(tokens.InvalidToken, match="audience"):
        tokens.verify(KEY, token, now=NOW, audiences=(tokens.API_AUDIENCE,))
    assert tokens.verify(KEY, token, now=NOW, audiences=("vault",)).audiences == ("vault",)


def test_the_key_is_created_once_and_private(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "key"
    first = tokens.load_key(path)
    assert len(first) == 32
    assert tokens.load_key(path) == first
    assert path.stat().st_mode & 0o777 == 0o600


def test_token_file_in_kube_apiserver_format() -> None:
    users = token_file.parse(
        '# comment\nt1,alice,u1,"team-a,team-b"\n\nt2,bob,u2\nt3,carol,u3,ops\n'
    )
    assert users["t1"].name == "alice"
    assert users["t1"].uid == "u1"
    assert users["t1"].groups == ("team-a", "team-b", "system:authenticated")
    assert users["t2"].groups == ("system:authenticated",)
    assert users["t3"].groups == ("ops", "system:authenticated")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("t1,alice\n", ":1: need"),
        ("t1,alice,u\nt1,bob,u\n", ":2: duplicate"),
        (",alice,u\n", "empty"),
    ],
)
def test_token_file_errors_name_the_line(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        token_file.parse(text)
