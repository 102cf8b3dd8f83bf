"""Accepting whole-file operations: deleting and moving files.

The editor does them, as `DeleteFile` / `RenameFile` resource operations of a
`workspace/applyEdit`, so they land in its undo history and its open editors follow. An editor
without those operations gets a fallback only where nothing of its state can be lost: a file it
does not have open is deleted or moved on disk by the server (the reviewed content stays in the
store's patch row); an open one is refused with what to do instead.

A move is one decision, reported as hunk 0 of its patch.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp

from gdm.agent.session import Session
from gdm.features.apply_edit import changed, refusal, send_edit
from gdm.patches.lsp import UnsupportedEdit, can, rename_edit, workspace_edit
from gdm.patches.model import FilePatch, HunkStatus

if TYPE_CHECKING:
    from gdm.server import GdmServer

MOVE = 0  # the hunk index that stands for a move


async def accept_delete(server: GdmServer, session: Session, patch: FilePatch) -> dict[str, Any]:
    """Delete the file, only if it still holds exactly what the user reviewed for deletion."""
    hunks = [h.index for h in patch.pending_hunks()]
    current = session.view.current(patch.path)
    if current is None:
        return refusal(hunks, f"{patch.path} no longer exists")
    if current.text != patch.base_text:
        return refusal(hunks, f"{patch.path} changed since its deletion was proposed; not deleting that work")
    support = server.caps.edit_support()
    if can(support, "delete"):
        edit = workspace_edit(patch, session.view.uri(patch.path), None, [], support, session.task_label(patch.task_id))
        why = await send_edit(server, patch.path, edit, lambda: session.view.current(patch.path) is None)
        if why is not None:
            return refusal(hunks, why)
    else:
        why = _on_disk(session, patch, lambda path: path.unlink())
        if why is not None:
            return refusal(hunks, why)
        server.show(f"gdm: deleted {patch.path} on disk (this editor cannot delete files through LSP)",
                    lsp.MessageType.Info)
    session.patches.set_hunks(patch, hunks, HunkStatus.ACCEPTED)
    changed(server, session, patch)
    return {"applied": True, "appliedHunks": hunks, "conflicts": []}


async def accept_rename(server: GdmServer, session: Session, patch: FilePatch,
                        hunks: list[int] | None = None) -> dict[str, Any]:
    """Move the file to its new path, never over an existing file."""
    new = patch.new_path or patch.path
    if hunks not in (None, [MOVE]):
        return refusal([i for i in hunks if i != MOVE], "a move has only hunk 0")
    if patch.decision is not HunkStatus.PENDING:
        return refusal([MOVE], f"the move is already {patch.decision.value}")
    if session.view.current(patch.path) is None:
        return refusal([MOVE], f"{patch.path} no longer exists")
    if session.view.current(new) is not None or session.view.abs(new).exists():
        return refusal([MOVE], f"{new} exists now; not overwriting it")
    support = server.caps.edit_support()
    if can(support, "rename"):
        try:
            edit = rename_edit(patch, session.view.uri(patch.path), session.view.uri(new), support,
                               session.task_label(patch.task_id))
        except UnsupportedEdit as exc:
            return refusal([MOVE], str(exc))
        why = await send_edit(server, patch.path, edit, lambda: session.view.abs(new).exists())
        if why is not None:
            return refusal([MOVE], why)
    else:
        target = session.view.abs(new)

        def move(path: Any) -> None:
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists():
                raise FileExistsError(f"{new} exists")
            os.rename(path, target)
        why = _on_disk(session, patch, move)
        if why is not None:
            return refusal([MOVE], why)
        server.show(f"gdm: moved {patch.path} to {new} on disk (this editor cannot rename files through LSP)",
                    lsp.MessageType.Info)
    session.patches.decide(patch, HunkStatus.ACCEPTED)
    session.patches.moved(patch.path, new)
    changed(server, session, patch)
    return {"applied": True, "appliedHunks": [MOVE], "conflicts": []}


def _on_disk(session: Session, patch: FilePatch, operation: Any) -> str | None:
    """The fallback: do it on disk, only for a file the editor does not have open."""
    if session.view.buffers.buffer(patch.path) is not None:
        return (f"this editor cannot {'delete' if patch.new_path is None else 'move'} files through LSP and "
                f"{patch.path} is open in it: close it and accept again, or do it yourself")
    try:
        operation(session.view.abs(patch.path))
    except OSError as exc:
        return f"cannot change {patch.path} on disk: {exc}"
    return None
