"""The running tasks of a server, by id: server state, not a feature (features/tasks.py starts
tasks through it; `$/cancelRequest`, `gdm.cancel` and shutdown cancel them through it)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any


class TaskRegistry:
    """Running tasks by id; the only place that starts or cancels them."""

    def __init__(self) -> None:
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._by_request: dict[Any, str] = {}  # JSON-RPC id of the request that started a task -> task id

    def start(self, task_id: str, work: Coroutine[Any, Any, None], request_id: Any = None) -> None:
        """Run `work` in the background under `task_id` (started by request `request_id`, if any)."""
        task = asyncio.ensure_future(work)
        self._tasks[task_id] = task
        if request_id is not None:
            self._by_request[request_id] = task_id

        def forget(_task: asyncio.Task[None]) -> None:
            self._tasks.pop(task_id, None)
            self._by_request.pop(request_id, None)
        task.add_done_callback(forget)

    def cancel_request(self, request_id: Any) -> bool:
        """`$/cancelRequest` for the request that started a task cancels the task.

        `gdm.ask` answers at once with the task id, so the request itself is long over; its id is
        what a client that knows only standard LSP holds to stop the work it asked for.
        """
        task_id = self._by_request.get(request_id)
        return task_id is not None and self.cancel(task_id)

    def cancel(self, task_id: str) -> bool:
        """Cancel a running task; False if there is none with that id."""
        task = self._tasks.get(task_id)
        if task is None or task.done():
            return False
        task.cancel()
        return True

    def cancel_all(self) -> None:
        """Cancel every running task (shutdown)."""
        for task in list(self._tasks.values()):
            task.cancel()

    def running(self) -> list[str]:
        """Ids of the running tasks."""
        return list(self._tasks)

    async def wait(self, task_id: str) -> None:
        """Wait for a task to finish (tests, headless)."""
        task = self._tasks.get(task_id)
        if task is not None:
            await asyncio.wait({task})
