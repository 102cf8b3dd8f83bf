"""Review: `gdm.patch.accept`, `gdm.patch.reject`, `gdm.patch.list`, `gdm.patch.showRisk`, `gdm.task.accept`.

Accepting never writes a file: it re-locates the chosen hunks in the text the user has now
and sends a versioned `workspace/applyEdit`; what does not fit is a conflict, never forced,
and a client that answers `applied: false` leaves the patch pending.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcInvalidParams

from gdm.agent.session import Session
from gdm.commands import Command
from gdm.features import file_ops, notifications
from gdm.features.apply_edit import changed, refusal, send_edit
from gdm.features.params import PatchParams, TaskIdParams, parse
from gdm.patches.apply import TextEdit, apply_hunks
from gdm.patches.lsp import UnsupportedEdit, can, workspace_edit
from gdm.patches.model import FilePatch, HunkStatus, PatchKind

if TYPE_CHECKING:
    from gdm.server import GdmServer

def register(server: GdmServer) -> None:
    """Register the review commands."""
    ls = server.ls

    @ls.command(Command.PATCH_ACCEPT.identifier)
    async def accept(*args: Any) -> dict[str, Any]:
        params = parse(PatchParams, Command.PATCH_ACCEPT.identifier, args)
        session = await server.get_session()
        return await accept_patch(server, session, _patch(session, params.patch_id), params.hunks)

    @ls.command(Command.PATCH_REJECT.identifier)
    async def reject(*args: Any) -> dict[str, Any]:
        params = parse(PatchParams, Command.PATCH_REJECT.identifier, args)
        session = await server.get_session()
        patch = _patch(session, params.patch_id)
        if patch.kind is PatchKind.RENAME:
            return _reject_move(server, session, patch, params.hunks)
        pending = {h.index for h in patch.pending_hunks()}
        wanted = sorted(pending) if params.hunks is None else params.hunks
        rejected = [i for i in wanted if i in pending]
        conflicts = [{"hunk": i, "reason": _not_pending(patch, i)} for i in wanted if i not in pending]
        session.patches.set_hunks(patch, rejected, HunkStatus.REJECTED)
        changed(server, session, patch)
        return {"applied": False, "rejected": rejected, "conflicts": conflicts}

    @ls.command(Command.PATCH_LIST.identifier)
    async def list_patches(*args: Any) -> dict[str, Any]:
        session = await server.get_session()
        return {"patches": [notifications.patch_payload(session, p) for p in session.patches.open()]}

    @ls.command(Command.PATCH_SHOW_RISK.identifier)
    async def show_risk(*args: Any) -> dict[str, Any]:
        params = parse(PatchParams, Command.PATCH_SHOW_RISK.identifier, args)
        session = await server.get_session()
        patch = _patch(session, params.patch_id)
        risk = patch.risk.to_json() if patch.risk else None
        if risk is not None:
            reasons = "; ".join(f"{r['message']} (+{r['weight']:.2f})" for r in risk["reasons"]) or "no risk signals"
            server.show(f"gdm: {patch.path}: risk {risk['tier']} {risk['score']:.2f} — {reasons}",
                        lsp.MessageType.Info)
        return {"patchId": patch.id, "risk": risk}

    @ls.command(Command.TASK_ACCEPT.identifier)
    async def accept_task(*args: Any) -> dict[str, Any]:
        params = parse(TaskIdParams, Command.TASK_ACCEPT.identifier, args)
        session = await server.get_session()
        open_patches = [p for p in session.patches.open() if p.task_id == params.task_id]
        if not params.task_id or not open_patches:
            raise JsonRpcInvalidParams(f"gdm.task.accept: no pending changes for task {params.task_id!r}")
        # Moves last: the task's edits land on each file where the user has it now, then it moves.
        open_patches.sort(key=lambda p: p.kind is PatchKind.RENAME)
        results = [{"patchId": p.id, **await accept_patch(server, session, p, None)} for p in open_patches]
        return {"applied": all(r["applied"] for r in results), "results": results}


def _patch(session: Session, patch_id: str) -> FilePatch:
    patch = session.patches.get(patch_id)
    if patch is None:
        raise JsonRpcInvalidParams(f"unknown patch id {patch_id!r} (gdm.patch.list shows the pending ones)")
    return patch


def _reject_move(server: GdmServer, session: Session, patch: FilePatch, hunks: list[int] | None) -> dict[str, Any]:
    wanted = [file_ops.MOVE] if hunks is None else hunks
    if wanted != [file_ops.MOVE] or patch.decision is not HunkStatus.PENDING:
        reason = f"the move is already {patch.decision.value}" if wanted == [file_ops.MOVE] else "a move has only hunk 0"
        return {"applied": False, "rejected": [], "conflicts": [{"hunk": i, "reason": reason} for i in wanted]}
    session.patches.decide(patch, HunkStatus.REJECTED)
    changed(server, session, patch)
    return {"applied": False, "rejected": [file_ops.MOVE], "conflicts": []}


def _not_pending(patch: FilePatch, index: int) -> str:
    if not 0 <= index < len(patch.hunks):
        return f"no hunk {index} (the patch has {len(patch.hunks)})"
    return f"hunk {index} is already {patch.hunks[index].status.value}"


async def accept_patch(server: GdmServer, session: Session, patch: FilePatch,
                       hunks: list[int] | None) -> dict[str, Any]:
    """Locate the hunks in the current text, send `workspace/applyEdit`, record the outcome."""
    if patch.kind is PatchKind.RENAME:
        return await file_ops.accept_rename(server, session, patch, hunks)
    if patch.kind is PatchKind.DELETE and patch.pending_hunks():
        return await file_ops.accept_delete(server, session, patch)
    if hunks is None and not patch.pending_hunks():
        return {"applied": False, "appliedHunks": [],
                "conflicts": [{"hunk": h.index, "reason": _not_pending(patch, h.index)} for h in patch.hunks]}
    current = session.view.current(patch.path)
    if patch.kind is PatchKind.CREATE and current is not None and current.text != "":
        return refused(patch, hunks, f"{patch.path} was created meanwhile; not overwriting it")
    text = current.text if current is not None else ""
    located = apply_hunks(patch, text, hunks)
    conflicts = [{"hunk": c.hunk, "reason": c.reason} for c in located.conflicts]
    if not located.applied:
        return {"applied": False, "conflicts": conflicts, "appliedHunks": []}
    support = server.caps.edit_support()
    version = current.version if current is not None else None
    create = patch.kind is PatchKind.CREATE and current is None
    if create and not can(support, "create"):
        # The client cannot create files: make it empty on disk; its content still arrives as an
        # undoable editor edit.
        try:
            _create_empty(session.view.abs(patch.path))
        except OSError as exc:
            return refused(patch, located.applied, f"cannot create {patch.path}: {exc}", conflicts)
        create = False
    edits = _in_client_units(located.edits, text, str(server.ls.workspace.position_encoding or "utf-16"))
    try:
        edit = workspace_edit(patch, session.view.uri(patch.path), version, edits, support,
                              session.task_label(patch.task_id), create=create)
    except UnsupportedEdit as exc:
        return refused(patch, located.applied, str(exc), conflicts)
    landed = lambda: (now := session.view.current(patch.path)) is not None and now.text == located.text  # noqa: E731
    why = await send_edit(server, patch.path, edit, landed)
    if why is not None:
        return refused(patch, located.applied, why, conflicts)
    session.patches.set_hunks(patch, located.applied, HunkStatus.ACCEPTED)
    changed(server, session, patch)
    return {"applied": True, "conflicts": conflicts, "appliedHunks": located.applied}


def _in_client_units(edits: list[TextEdit], text: str, encoding: str) -> list[TextEdit]:
    """Edits carry UTF-16 columns; a client that negotiated utf-8 or utf-32 counts differently."""
    if encoding == "utf-16" or all(e.start_char == 0 and e.end_char == 0 for e in edits):
        return edits
    lines = text.splitlines(keepends=True) or [""]

    def convert(line: int, units: int) -> int:
        if units == 0 or line >= len(lines):
            return units
        source, seen, index = lines[line], 0, 0
        while index < len(source) and seen < units:
            seen += 2 if ord(source[index]) > 0xFFFF else 1
            index += 1
        prefix = source[:index]
        return len(prefix.encode("utf-8")) if encoding == "utf-8" else len(prefix)

    return [replace(e, start_char=convert(e.start_line, e.start_char), end_char=convert(e.end_line, e.end_char))
            for e in edits]


def _create_empty(path: Path) -> None:
    """An empty new file (never overwriting one that appeared meanwhile)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "x", encoding="utf-8"):
        pass


def refused(patch: FilePatch, hunks: list[int] | None, reason: str,
             earlier: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return refusal([h.index for h in patch.pending_hunks()] if hunks is None else hunks, reason, earlier)
