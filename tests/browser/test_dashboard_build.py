"""The committed dashboard build (server/event_registry/static/ui/) is the build of
clients/web as committed: rebuilt with ``npm ci && npm run build`` into a temporary directory,
every file is identical (Vite's content-hashed names make the build reproducible). Like the
schema.graphql check, this fails when someone changes the source without rebuilding.

Needs Node.js 20+ and npm (never skipped: tests/support/node.py fails with what to install).
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.support import node
from tests.support.controlplane import REPO

SOURCE = REPO / "clients" / "web"
COMMITTED = REPO / "server" / "event_registry" / "static" / "ui"
REMOTE = re.compile(rb"""(?:src|href)=["'](?:https?:)?//|@import|url\(["']?(?:https?:)?//""")


def files_under(directory: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def test_the_committed_build_is_the_build_of_the_source(tmp_path: Path) -> None:
    node.installed(SOURCE)
    out = tmp_path / "ui"
    result = subprocess.run(
        [node.tool("npm"), "run", "build"],
        cwd=SOURCE,
        env={**os.environ, "DASHBOARD_OUT_DIR": str(out)},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"npm run build failed:\n{result.stdout}\n{result.stderr}"
    built, committed = files_under(out), files_under(COMMITTED)
    assert sorted(built) == sorted(committed), (
        "server/event_registry/static/ui is stale: run `npm ci && npm run build` in clients/web "
        "and commit the result"
    )
    stale = [name for name in built if built[name] != committed[name]]
    assert stale == [], f"stale files in server/event_registry/static/ui: {stale}"


def test_the_build_loads_nothing_from_another_host() -> None:
    committed = files_under(COMMITTED)
    assert "index.html" in committed
    for name, content in committed.items():
        if name.endswith((".html", ".css")):
            assert not REMOTE.search(content), f"{name} loads something remote"
