"""What every benchmark records about the machine, and how it rewrites its README section.

Guarantees: ``machine`` reads only this process's environment (and ``kubectl version`` when
asked); ``replace_section`` replaces exactly the section that starts with the given ``## ``
heading (up to the next ``## `` heading) or appends it, leaving every other section as it was.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from tests.support.controlplane import KUBECTL


def machine(*, kubectl: bool = True) -> dict[str, Any]:
    """Date, cores, Python, platform, load average now (and the PyPI kubectl's version)."""
    info: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    if kubectl:
        version = subprocess.run(
            [str(KUBECTL), "version", "--client", "-o", "json"],
            capture_output=True,
            text=True,
            check=True,
        )
        info["kubectl"] = json.loads(version.stdout)["clientVersion"]["gitVersion"]
    info["loadavg_at_start"] = list(os.getloadavg())
    return info


def replace_section(path: Path, heading: str, section: str) -> None:
    """Put ``section`` (starting with the line ``heading``) in place of the README's section
    with that heading, or append it."""
    text = path.read_text() if path.exists() else ""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == heading), None)
    if start is None:
        separator = (
            "" if not text or text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
        )
        path.write_text(text + separator + section)
        return
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    tail = "".join(lines[end:])
    path.write_text("".join(lines[:start]) + section + ("\n" + tail if tail else ""))
