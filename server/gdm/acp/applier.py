"""Accepted patches written through the client (`fs/write_text_file`), else atomically to disk.

Before anything is written the file is read again (through the client when it offers reads, so
unsaved buffers count) and the patch's hunks are located in that text by content: the same drift
check as every front end; a hunk that no longer fits is a conflict, never forced. ACP has no
file deletion or move: those are done on disk, only when the file still holds exactly the text
that was reviewed (a deletion) and never over another file (a move).
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass, field
from typing import Any

from acp import RequestError

from gdm.acp.state import AcpSession
from gdm.context.workspace import PathRefused
from gdm.headless import _file_operation
from gdm.patches.apply import apply_hunks
from gdm.patches.model import FilePatch, HunkStatus, PatchKind

log = logging.getLogger(__name__)


@dataclass
class Applied:
    """How an accept went: `ok`, else the reason; `notes` a person should hear anyway."""

    ok: bool
    reason: str | None = None
    notes: list[str] = field(default_factory=list)


class AcpWriter:
    """Writes whole files for one ACP session: through the client when it offers writes."""

    def __init__(self, state: AcpSession, conn: Any) -> None:
        self.state = state
        self.conn = conn

    async def write(self, rel: str, text: str) -> str | None:
        """Write `text` to `rel`; the reason it was not written, or None."""
        view = self.state.session.view
        if self.state.fs.write:
            try:
                await self.conn.write_text_file(session_id=self.state.id, path=str(view.abs(rel)), content=text)
            except RequestError as exc:
                return f"the editor refused to write {rel}: {exc}"
        else:
            try:
                write_atomically(view.abs(rel), text)
            except OSError as exc:
                return f"could not write {rel}: {exc}"
        self.state.buffers.put(rel, text)  # what the client holds now
        return None


def write_atomically(path: Any, text: str) -> None:
    """Write through a temporary file and a rename: never half a file."""
    import os  # noqa: PLC0415 - tiny, kept beside its only use

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.gdm-tmp")
    tmp.write_bytes(text.encode("utf-8"))
    os.replace(tmp, path)


async def accept_patch(state: AcpSession, conn: Any, patch: FilePatch) -> Applied:
    """Accept every pending hunk of `patch` (or its move / deletion) and record it."""
    session = state.session
    await state.buffers.fetch(patch.path)
    if patch.kind in (PatchKind.DELETE, PatchKind.RENAME):
        out = io.StringIO()
        ok = _file_operation(session, patch, out)
        state.buffers.forget(patch.path)
        message = out.getvalue().strip()
        return Applied(ok, None if ok else message, [f"{message} (on disk: ACP has no file operations)"] if ok else [])
    try:
        current = session.view.current(patch.path)
    except PathRefused as exc:
        return Applied(False, str(exc))
    result = apply_hunks(patch, current.text if current else "", None)
    conflicts = [c.reason for c in result.conflicts]
    if not result.applied:
        return Applied(False, "; ".join(conflicts) or "nothing to apply")
    refused = await AcpWriter(state, conn).write(patch.path, result.text)
    if refused:
        return Applied(False, refused)
    session.patches.set_hunks(patch, result.applied, HunkStatus.ACCEPTED)
    return Applied(True, None, [f"not applied: {c}" for c in conflicts])
