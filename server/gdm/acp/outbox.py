"""Session updates go out in order, without the engine waiting on the client's pipe.

The turn puts updates here and goes on; one sender task writes them in order. Streamed text that
queues up behind a slow pipe is joined into one `agent_message_chunk` (so a fast model never
floods the client), and the first piece of a reply goes out at once. `flush` waits until all is
written: before a permission request and before the prompt is answered, so the client has seen
every update of the turn by then.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from gdm.acp import mapping

log = logging.getLogger(__name__)

Send = Callable[[Any], Awaitable[None]]


class Outbox:
    """An ordered queue of session updates with one sender."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._items: deque[Any] = deque()  # updates, or str for streamed message text
        self._task: asyncio.Task[None] | None = None
        self.broken: BaseException | None = None

    def put(self, update: Any) -> None:
        """Queue an update."""
        self._queue(update)

    def text(self, piece: str) -> None:
        """Queue streamed message text (joined with text queued just before it)."""
        if self._items and isinstance(self._items[-1], str):
            self._items[-1] += piece
            return
        self._queue(piece)

    def _queue(self, item: Any) -> None:
        if self.broken is not None:
            return
        self._items.append(item)
        if self._task is None:
            self._task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        try:
            while self._items:
                item = self._items.popleft()
                await self._send(mapping.message(item) if isinstance(item, str) else item)
        except (ConnectionError, OSError) as exc:
            log.error("session updates cannot reach the client: %s", exc)
            self.broken = exc
            self._items.clear()
        finally:
            self._task = None

    async def flush(self) -> None:
        """Wait until every queued update is written (not cancelled by a cancelled caller)."""
        while self._task is not None:
            await asyncio.shield(self._task)
