"""BufferFeed: the code map re-parses a buffer being typed in once typing pauses, the latest text only."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from gdm.features.code_map import BufferFeed
from tests.waiting import until


class Index:
    """What the feed calls on the code index, recorded."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str | None]] = []

    def update_buffer(self, rel: str, text: str) -> None:
        self.calls.append(("update", rel, text))

    def close_buffer(self, rel: str) -> None:
        self.calls.append(("close", rel, None))


def session_with(index: Index) -> SimpleNamespace:
    return SimpleNamespace(knowledge=SimpleNamespace(code_map=SimpleNamespace(index=index)))


async def test_a_burst_of_keystrokes_is_parsed_once_after_the_pause_with_its_last_text():
    index, feed = Index(), BufferFeed(quiet_s=1.0)
    session = session_with(index)
    for i in range(10):
        feed.changed(session, "a.py", f"x = {i}\n")
        await asyncio.sleep(0.02)  # typing: each key well inside the quiet time
    assert index.calls == []  # nothing parsed while the user types
    await until(lambda: index.calls)
    await until(lambda: "a.py" not in feed._running)
    assert index.calls == [("update", "a.py", "x = 9\n")]


async def test_a_close_is_applied_at_once_and_drops_the_text_typed_before_it():
    index, feed = Index(), BufferFeed(quiet_s=30)
    session = session_with(index)
    feed.changed(session, "a.py", "x = 1\n")
    feed.changed(session, "a.py", None)
    await until(lambda: index.calls)
    assert index.calls == [("close", "a.py", None)]
