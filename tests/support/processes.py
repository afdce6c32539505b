"""Every child process the tests start is tracked here, so none outlives the test run.

Fixtures stop what they start (in ``finally``); :func:`stop_leftovers`, called when the pytest
session finishes, is the net under them: a process still running then (a fixture whose setup
failed half-way, an interrupted run) is terminated, then killed.
"""

from __future__ import annotations

import subprocess
from typing import Any

_running: set[subprocess.Popen[Any]] = set()


def track(process: subprocess.Popen[Any]) -> None:
    _running.add(process)


def untrack(process: subprocess.Popen[Any]) -> None:
    _running.discard(process)


def stop_leftovers(timeout: float = 10) -> int:
    """Terminate (then kill) every tracked process still running; how many there were."""
    alive = [process for process in _running if process.poll() is None]
    for process in alive:
        process.terminate()
    for process in alive:
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    _running.clear()
    return len(alive)
