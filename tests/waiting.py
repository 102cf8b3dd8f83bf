"""Waiting for a condition in a test: poll it, with a deadline (a sleep is not a synchronisation)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable


async def until(condition: Callable[[], object], timeout: float = 10.0, every: float = 0.005) -> None:
    """Return once `condition()` is true; TimeoutError after `timeout` seconds."""
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(every)
    await asyncio.wait_for(poll(), timeout)
