"""The kubeconfig file that points kubectl and client libraries at the control plane."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

CONTEXT = "event-registry"


def render(server_url: str, *, namespace: str = "default") -> str:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CONTEXT, "cluster": {"server": server_url}}],
        "users": [{"name": CONTEXT, "user": {"token": "embedded-control-plane"}}],
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


def write(path: Path, server_url: str) -> Path:
    """Write atomically (readers never see a half-written file), readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(render(server_url))
    os.chmod(temporary, 0o600)
    temporary.replace(path)
    return path
