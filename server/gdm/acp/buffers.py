"""The editor's buffers over ACP: a BufferSource that reads through `fs/read_text_file`.

The engine reads synchronously (`WorkspaceView.current`), ACP reads are requests to the client.
So a read is fetched *before* the engine needs it: the turn awaits `fetch` for the paths of each
tool call before the tool runs (the loop announces a call before running it), for the prompt's
focus, and before a patch is planned and applied. What was fetched is what `buffer` answers
until the next fetch of that path. A read the client refuses is remembered as refused: the
engine then gets PathRefused (a failed tool result the model sees) and never the disk behind the
client's back. A client without `fs.readTextFile` has nothing fetched: the engine reads the disk.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from gdm.context.workspace import Buffer, PathRefused

log = logging.getLogger(__name__)

ReadFn = Callable[[str], Awaitable[str]]  # absolute path -> text; raises ClientRefused


class ClientRefused(Exception):
    """The client answered a read or write with an error; the message is the client's."""


@dataclass(frozen=True)
class _Refused:
    reason: str


class ClientBuffers:
    """Texts fetched from the client, by workspace-relative path."""

    def __init__(self, root: Path, read: ReadFn | None) -> None:
        self.root = root
        self._read = read
        self._texts: dict[str, Buffer | _Refused] = {}

    @property
    def reads_through_client(self) -> bool:
        """Whether reads go to the client (it offered `fs.readTextFile`)."""
        return self._read is not None

    def buffer(self, path: str) -> Buffer | None:
        """The fetched text of `path`; None when nothing was fetched (the engine reads the disk)."""
        entry = self._texts.get(path)
        if isinstance(entry, _Refused):
            raise PathRefused(entry.reason)
        return entry

    def open_paths(self) -> set[str]:
        """ACP says nothing of which files are open in the editor."""
        return set()

    def put(self, path: str, text: str) -> None:
        """Text the client sent itself (an embedded resource): what the user sees of that file."""
        self._texts[path] = Buffer(text, None)

    async def fetch(self, path: str) -> Buffer | None:
        """Read `path` through the client now; None when the file does not exist (or reads go
        to disk). A refusal is remembered and raised by `buffer`."""
        if self._read is None:
            return None
        target = self.root / path if path else self.root
        try:
            text = await self._read(str(target))
        except ClientRefused as exc:
            if not target.exists():
                self._texts.pop(path, None)  # a file the task may create: not a refusal
                return None
            log.info("the client refused to read %s: %s", path, exc)
            self._texts[path] = _Refused(f"the editor refused to read {path}: {exc}")
            return None
        buf = Buffer(text, None)
        self._texts[path] = buf
        return buf

    def forget(self, path: str) -> None:
        """Drop what was fetched of `path` (it was written, moved or deleted)."""
        self._texts.pop(path, None)
