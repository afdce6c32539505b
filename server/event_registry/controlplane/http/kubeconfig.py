"""The kubeconfig file that points kubectl and client libraries at the control plane."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import yaml

CONTEXT = "event-registry"


def render(
    server_url: str,
    *,
    token: str,
    certificate_authority: bytes | None = None,
    namespace: str = "default",
) -> str:
    cluster: dict[str, str] = {"server": server_url}
    if certificate_authority is not None:
        cluster["certificate-authority-data"] = base64.b64encode(certificate_authority).decode()
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CONTEXT, "cluster": cluster}],
        "users": [{"name": CONTEXT, "user": {"token": token}}],
        "contexts": [
            {
                "name": CONTEXT,
                "context": {"cluster": CONTEXT, "user": CONTEXT, "namespace": namespace},
            }
        ],
        "current-context": CONTEXT,
        "preferences": {},
    }
    return yaml.safe_dump(config, sort_keys=False)


def write(
    path: Path, server_url: str, *, token: str, certificate_authority: bytes | None = None
) -> Path:
    """Write atomically (readers never see a half-written file), readable by the owner only.

    ``token`` is the bearer token of the file's only user (the admin token when the control
    plane authenticates requests); ``certificate_authority`` the PEM CA of an HTTPS server."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(
        render(server_url, token=token, certificate_authority=certificate_authority)
    )
    os.chmod(temporary, 0o600)
    temporary.replace(path)
    return path
