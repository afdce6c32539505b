"""The background tasks of one controller: started together, cancelled and awaited together.

:meth:`ControllerTasks.start` starts each named coroutine as a task called
``<controller>-<name>``; :meth:`ControllerTasks.stop` cancels every task and waits for each to
end, whatever it raised, so a stopped controller leaves nothing running. The readiness
controller and the source registrar both run on it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any


class ControllerTasks:
    def __init__(self, controller: str) -> None:
        self._controller = controller
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def running(self) -> bool:
        return bool(self._tasks)

    def start(self, **coroutines: Coroutine[Any, Any, None]) -> None:
        self._tasks += [
            asyncio.create_task(coroutine, name=f"{self._controller}-{name}")
            for name, coroutine in coroutines.items()
        ]

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
