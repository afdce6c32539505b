"""Node.js for the e2e tests that run npm clients (@apollo/gateway, graphql-ws).

Never skips: a missing Node or npm fails the test with what to install.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(
            f"`{name}` is not on PATH: the Node e2e tests need Node.js 20+ and npm "
            "(e.g. `apt-get install nodejs npm`)"
        )
    return found


def installed(directory: Path) -> str:
    """The node binary, after ``npm ci`` in ``directory`` when its node_modules is missing
    or older than its lockfile."""
    node = tool("node")
    marker = directory / "node_modules" / ".package-lock.json"
    lockfile = directory / "package-lock.json"
    if not marker.exists() or marker.stat().st_mtime < lockfile.stat().st_mtime:
        result = subprocess.run(
            [tool("npm"), "ci", "--no-audit", "--no-fund"],
            cwd=directory,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if result.returncode != 0:
            pytest.fail(f"npm ci failed in {directory}:\n{result.stdout}\n{result.stderr}")
    return node
