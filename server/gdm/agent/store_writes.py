"""Store writes off the event loop: `off_loop` for a write the caller waits for, `SerialWriter`
for writes made from synchronous code on the loop (the patch book's listener), run in order on
one thread and awaited later at a settle point.

Both keep what a synchronous write gave: the order of one session's writes, a failure raised to
the code that made the write (at the latest at its next settle point, before anything more is
done or reported), and no write left running unseen when a task is cancelled.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


async def off_loop(fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)` in a worker thread, awaited: the event loop goes on meanwhile, and whoever reads
    after the await sees what it wrote. A cancel while it runs waits for it to end, then is raised
    (a store write is never left running unseen)."""
    future = asyncio.ensure_future(asyncio.to_thread(fn, *args))
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        await asyncio.wait({future})
        if not future.cancelled() and future.exception() is not None:
            log.error("a store write during a cancel failed: %s", future.exception())
        raise


def on_event_loop() -> bool:
    """Whether the calling thread is running an event loop (where a blocking write would stall it)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class SerialWriter:
    """One session's background writes, run one at a time in submission order on their own thread.

    A failed write is kept until a settle point raises it; writes submitted after it, before
    then, are not attempted (a synchronous caller would have stopped at the first failure)."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._executor: ThreadPoolExecutor | None = None  # its thread starts with the first write
        self._lock = threading.Lock()
        self._pending: list[Future[None]] = []
        self._failed = False  # a write failed, and no settle point has raised it yet

    def submit(self, write: Callable[[], None]) -> None:
        """Queue `write`; `settled()` / `settle()` wait for it and raise its failure."""
        with self._lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self._name)
            self._pending.append(self._executor.submit(self._run, write))

    def _run(self, write: Callable[[], None]) -> None:
        with self._lock:
            if self._failed:
                return  # not attempted: the failure before it is raised at the settle point
        try:
            write()
        except BaseException:
            with self._lock:
                self._failed = True
            raise

    async def settled(self) -> None:
        """Wait, off the loop, for every write queued so far; raise the first that failed. A cancel
        meanwhile waits for them to end, then is raised (they are settled by the next call)."""
        with self._lock:
            futures = list(self._pending)
        if not futures:
            return
        wrapped = [asyncio.wrap_future(f) for f in futures]
        waiter = asyncio.ensure_future(asyncio.wait(wrapped))
        try:
            await asyncio.shield(waiter)
        except asyncio.CancelledError:
            await asyncio.wait({waiter})
            raise
        finally:
            for w in wrapped:  # their errors are raised from `futures` (else asyncio logs them at GC)
                if w.done() and not w.cancelled():
                    w.exception()
        self._collect(futures)

    def settle(self) -> None:
        """`settled()` for a caller off the loop: blocks until the queued writes are done."""
        with self._lock:
            futures = list(self._pending)
        for future in futures:
            future.exception()  # waits
        self._collect(futures)

    def _collect(self, futures: list[Future[None]]) -> None:
        """Forget finished `futures`; raise the first failure among them."""
        with self._lock:
            done = set(futures)
            self._pending = [f for f in self._pending if f not in done]
            if not self._pending:
                self._failed = False  # raised below
        errors = [f.exception() for f in futures if f.exception() is not None]
        if errors:
            raise errors[0]

    def close(self) -> None:
        """Finish the queued writes (failures are logged: nobody is left to raise them to) and stop the thread."""
        try:
            self.settle()
        except Exception as exc:  # noqa: BLE001 - logged: at close there is no caller to raise it to
            log.error("%s: a store write failed at close: %s", self._name, exc)
        with self._lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True)
