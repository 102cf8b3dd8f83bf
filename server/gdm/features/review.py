"""Review: `gdm.patch.accept`, `gdm.patch.reject`, `gdm.patch.list`, `gdm.patch.showRisk`, `gdm.task.accept`.

Accepting never writes a file: the review engine (review/) plans the chosen hunks against the
text the user has now, and the LSP applier (features/lsp_applier.py) sends the plan as a
versioned `workspace/applyEdit`; what does not fit is a conflict, never forced, and a client
that answers `applied: false` leaves the patch pending.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcInvalidParams

from gdm.commands import Command
from gdm.features import notifications
from gdm.features.apply_edit import changed
from gdm.features.lsp_applier import LspApplier
from gdm.patches.model import FilePatch, HunkStatus, PatchKind
from gdm.review.accept import MOVE, not_pending
from gdm.review.service import Review

if TYPE_CHECKING:
    from gdm.agent.session import Session
    from gdm.server import GdmServer

def register(server: GdmServer) -> None:
    """Register the review commands."""
    ls = server.ls

    @ls.command(Command.PATCH_ACCEPT.identifier)
    async def accept(*args: Any) -> dict[str, Any]:
        from gdm.features.params import PatchParams, parse  # noqa: PLC0415 - pydantic after `initialize`

        params = parse(PatchParams, Command.PATCH_ACCEPT.identifier, args)
        session = await server.get_session()
        return await accept_patch(server, session, _patch(session, params.patch_id), params.hunks)

    @ls.command(Command.PATCH_REJECT.identifier)
    async def reject(*args: Any) -> dict[str, Any]:
        from gdm.features.params import PatchParams, parse  # noqa: PLC0415 - pydantic after `initialize`

        params = parse(PatchParams, Command.PATCH_REJECT.identifier, args)
        session = await server.get_session()
        patch = _patch(session, params.patch_id)
        if patch.kind is PatchKind.RENAME:
            return await _reject_move(server, session, patch, params.hunks)
        pending = {h.index for h in patch.pending_hunks()}
        wanted = sorted(pending) if params.hunks is None else params.hunks
        rejected = [i for i in wanted if i in pending]
        conflicts = [{"hunk": i, "reason": not_pending(patch, i)} for i in wanted if i not in pending]
        session.patches.set_hunks(patch, rejected, HunkStatus.REJECTED)
        await session.patches.settled()  # stored before the answer
        changed(server, session, patch)
        return {"applied": False, "rejected": rejected, "conflicts": conflicts}

    @ls.command(Command.PATCH_LIST.identifier)
    async def list_patches(*args: Any) -> dict[str, Any]:
        session = await server.get_session()
        return {"patches": [notifications.patch_payload(session, p) for p in session.patches.open()]}

    @ls.command(Command.PATCH_SHOW_RISK.identifier)
    async def show_risk(*args: Any) -> dict[str, Any]:
        from gdm.features.params import PatchParams, parse  # noqa: PLC0415 - pydantic after `initialize`

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
        from gdm.features.params import TaskIdParams, parse  # noqa: PLC0415 - pydantic after `initialize`

        params = parse(TaskIdParams, Command.TASK_ACCEPT.identifier, args)
        session = await server.get_session()
        open_patches = [p for p in session.patches.open() if p.task_id == params.task_id]
        if not params.task_id or not open_patches:
            raise JsonRpcInvalidParams(f"gdm.task.accept: no pending changes for task {params.task_id!r}")
        review, applier = engine(server, session)
        results = await review.accept_all(open_patches, applier)
        return {"applied": all(r["applied"] for r in results), "results": results}


def engine(server: GdmServer, session: Session) -> tuple[Review, LspApplier]:
    """The review engine over this session's patches, and the applier that sends its plans."""
    return (Review(session.view, session.patches, session.task_label, lambda p: changed(server, session, p)),
            LspApplier(server, session.view))


def _patch(session: Session, patch_id: str) -> FilePatch:
    patch = session.patches.get(patch_id)
    if patch is None:
        raise JsonRpcInvalidParams(f"unknown patch id {patch_id!r} (gdm.patch.list shows the pending ones)")
    return patch


async def _reject_move(server: GdmServer, session: Session, patch: FilePatch,
                       hunks: list[int] | None) -> dict[str, Any]:
    wanted = [MOVE] if hunks is None else hunks
    if wanted != [MOVE] or patch.decision is not HunkStatus.PENDING:
        reason = f"the move is already {patch.decision.value}" if wanted == [MOVE] else "a move has only hunk 0"
        return {"applied": False, "rejected": [], "conflicts": [{"hunk": i, "reason": reason} for i in wanted]}
    session.patches.decide(patch, HunkStatus.REJECTED)
    await session.patches.settled()
    changed(server, session, patch)
    return {"applied": False, "rejected": [MOVE], "conflicts": []}


async def accept_patch(server: GdmServer, session: Session, patch: FilePatch,
                       hunks: list[int] | None) -> dict[str, Any]:
    """Plan the hunks in the current text, send them as `workspace/applyEdit`, record the outcome."""
    review, applier = engine(server, session)
    return await review.accept(patch, hunks, applier)
