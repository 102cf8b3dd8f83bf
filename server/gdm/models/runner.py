"""Where litellm's calls run: an event loop on a thread of its own.

litellm does real work on the loop that awaits it: it parses every streamed chunk, and when a
stream ends it rebuilds the whole reply, copies it and runs its logging and cost handlers. On the
editor's loop that was ~0.1 s with nothing else served (the worst code action and code lens
latency measured while tasks stream). On this loop it only competes for the GIL, which the
server hands over every fraction of a millisecond (`__main__`). Retries, fallback and the
circuit breaker stay on the caller's loop; only the HTTP call and its stream run here.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class ModelLoop:
    """One thread running one event loop, started on first use, for the model calls of a session."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def _running(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(target=loop.run_forever, name="gdm-model-loop", daemon=True)
                thread.start()
                self._loop, self._thread = loop, thread
            return self._loop

    async def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await `coro` on the model loop. Cancelling the caller cancels it there (and its HTTP call)."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._running()))

    def relay(self, on_text: Callable[[str], None]) -> Callable[[str], None]:
        """A callback for the model loop that hands text to `on_text` on the calling loop, in order.

        Pieces that arrive while one hand-over is pending join it: one wake-up of the caller's
        loop per burst, not per streamed chunk.
        """
        caller = asyncio.get_running_loop()
        pending: list[str] = []
        lock = threading.Lock()

        def deliver() -> None:
            with lock:
                text = "".join(pending)
                pending.clear()
            if text:
                on_text(text)

        def relay(text: str) -> None:
            with lock:
                first = not pending
                pending.append(text)
            if first:
                caller.call_soon_threadsafe(deliver)
        return relay

    def close(self) -> None:
        """Stop the loop and its thread (a session that ends)."""
        with self._lock:
            loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        if not thread.is_alive():
            loop.close()
