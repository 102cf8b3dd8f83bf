"""What the model knows of the project when a task starts: the code map and the project rules.

Owned by the session. The code map's first full index runs in the background (started by the
server once the session exists, or by the first task); a task waits for it at most
`FIRST_MAP_WAIT_S`, then takes what is ready plus its focus files — it never waits for a large
workspace's whole index. Texts the map reads (open buffers) are taken on the event loop; parsing,
ranking and reading rules run in worker threads.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from gdm.context.repomap.index import Progress
from gdm.context.repomap.render import MapResult
from gdm.context.repomap.service import CodeMap, Overlay, prompt_focus
from gdm.context.rules import Rules, find_rules
from gdm.context.workspace import WorkspaceView
from gdm.models.llm import text_token_counter

log = logging.getLogger(__name__)

FIRST_MAP_WAIT_S = 3.0


class ProjectKnowledge:
    """The code map and the rules of one session's workspace."""

    def __init__(self, root: Path) -> None:
        self.code_map = CodeMap(root)
        self._indexing: asyncio.Task[None] | None = None
        self._counters: dict[str, Callable[[str], int] | None] = {}

    def start_indexing(self, progress: Progress | None = None) -> asyncio.Task[None]:
        """Build the index in the background once (a worker thread; `progress` called from it)."""
        if self._indexing is None:
            self._indexing = asyncio.ensure_future(self._index(progress))
        return self._indexing

    async def _index(self, progress: Progress | None) -> None:
        try:
            figures = await asyncio.to_thread(self.code_map.build, progress)
            log.info("code map: %d files indexed (%d parsed) in %.0f ms", figures["files"], figures["parsed"],
                     figures["total_ms"])
        except (OSError, RuntimeError, ValueError) as exc:  # a map that cannot be built is no task failure
            log.warning("code map: indexing failed: %s", exc)

    async def wait_indexed(self, timeout: float = FIRST_MAP_WAIT_S) -> bool:
        """Wait (at most `timeout` seconds) for the first index; start it if nobody has."""
        task = self.start_indexing()
        if not task.done():
            await asyncio.wait({task}, timeout=timeout)
        return task.done()

    def indexing_done(self) -> bool:
        """Whether the first index has finished."""
        return self._indexing is not None and self._indexing.done()

    async def task_map(self, view: WorkspaceView, prompt: str, path: str | None, max_tokens: int,
                       model: str | None) -> MapResult | None:
        """The map a task's first message carries (None when `max_tokens` is 0 or it fails)."""
        if max_tokens <= 0:
            return None
        await self.wait_indexed()
        overlay = Overlay({p: b.text for p in view.buffers.open_paths()
                           if (b := view.buffers.buffer(p)) is not None and not view.is_secret(p)})
        known = list(overlay.buffers) + ([path] if path else [])
        try:
            return await asyncio.to_thread(self._map, prompt, path, known, max_tokens, model, overlay)
        except (OSError, RuntimeError, ValueError) as exc:
            log.warning("code map: no map for this task: %s", exc)
            return None

    def _map(self, prompt: str, path: str | None, known: list[str], max_tokens: int, model: str | None,
             overlay: Overlay) -> MapResult:
        snapshot_paths = list(self.code_map.index.snapshot())
        files, names = prompt_focus(prompt, snapshot_paths)
        focus = list(dict.fromkeys(([path] if path else []) + files + known))
        if model not in self._counters:
            self._counters[model] = text_token_counter(model)
        return self.code_map.map(focus, max_tokens, mentioned=names, overlay=overlay, count=self._counters[model])

    async def rules(self, root: Path, path: str | None, setting: str) -> Rules:
        """The project rules for a task's focus file (none when the `rules` setting is off)."""
        if setting == "off":
            return Rules()
        return await asyncio.to_thread(find_rules, root, path)

    def close(self) -> None:
        """Stop using the disk cache."""
        if self._indexing is not None and not self._indexing.done():
            self._indexing.cancel()
        self.code_map.close()
