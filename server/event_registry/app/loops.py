"""The event loop the servers run on: uvloop where it is installed (uvicorn[standard] brings
it), else asyncio's own. The fan-out of subscriptions and the HTTP servers spend most of their
time in the event loop, so every process of ``event-registry`` (each ``serve`` worker too)
starts its main coroutine through :func:`run`."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


def run(main: Coroutine[Any, Any, None]) -> None:
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
        return
    uvloop.run(main)
