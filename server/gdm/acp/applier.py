"""The ACP applier: the review engine's edit plans carried out through the client.

A text step (edit, create) is written whole (`Step.after`) with `fs/write_text_file` when the
client offers it, so the editor's buffers and undo stay in charge; just before, the file is read
again through the client and must still hold the text the step was planned on (`Step.before`;
nothing, for a file to create) — the same drift check as the disk applier's. ACP has no file
deletion or move, so those steps, and every step for a client without `fs.writeTextFile`, go to
the engine's disk applier (atomic writes, each step checked against the disk first). It never
raises for a refusal: the plan's result says why, and the patch stays pending.
"""

from __future__ import annotations

import logging
from typing import Any

from acp import RequestError

from gdm.acp.state import AcpSession
from gdm.patches.model import FilePatch
from gdm.patches.plan import EditPlan, Op, Step
from gdm.review.appliers import Applied, DiskApplier
from gdm.review.service import Review

log = logging.getLogger(__name__)


class AcpApplier:
    """Carries out an `EditPlan` for one ACP session (review/appliers.py's Applier protocol)."""

    def __init__(self, state: AcpSession, conn: Any) -> None:
        self.state = state
        self.conn = conn
        self.disk = DiskApplier(state.session.view)
        self.notes: list[str] = []

    async def apply(self, plan: EditPlan) -> Applied:
        """Do the steps in order; stop at the first that cannot be done (`done` says how many were)."""
        for done, step in enumerate(plan.steps):
            if step.op in (Op.EDIT, Op.CREATE) and self.state.fs.write:
                why = await self._write(step)
            else:
                why = await self._on_disk(plan, step)
            if why is not None:
                return Applied(False, why, done, list(self.notes))
        return Applied(True, done=len(plan.steps), notes=list(self.notes))

    async def _write(self, step: Step) -> str | None:
        buffers = self.state.buffers
        now = await buffers.fetch(step.path) if buffers.reads_through_client else None
        if buffers.reads_through_client:
            if step.op is Op.CREATE and now is not None:
                return f"{step.path} exists now; not overwriting it"
            if step.op is Op.EDIT and (now is None or now.text != step.before):
                return f"{step.path} changed in the editor meanwhile; not overwriting it"
        path = str(self.state.session.view.abs(step.path))
        try:
            await self.conn.write_text_file(session_id=self.state.id, path=path, content=step.after or "")
        except RequestError as exc:
            return f"the editor refused to write {step.path}: {exc}"
        buffers.put(step.path, step.after or "")  # what the editor holds now
        return None

    async def _on_disk(self, plan: EditPlan, step: Step) -> str | None:
        result = await self.disk.apply(EditPlan(plan.subject, plan.label, plan.annotation, [step]))
        for path in (step.path, step.new_path):
            if path:
                self.state.buffers.forget(path)
        if not result.ok:
            return result.reason or f"{step.path} was not changed"
        if step.op is Op.DELETE:
            self.notes.append(f"deleted {step.path} on disk (ACP has no file operations)")
        elif step.op is Op.MOVE:
            self.notes.append(f"moved {step.path} to {step.new_path} on disk (ACP has no file operations)")
        return None


async def accept_patch(state: AcpSession, conn: Any, patch: FilePatch) -> Applied:
    """Accept every pending hunk of `patch` (or its move / deletion) through the review engine,
    planned against the text the editor has now."""
    session = state.session
    await state.buffers.fetch(patch.path)
    applier = AcpApplier(state, conn)
    result = await Review(session.view, session.patches, session.task_label).accept(patch, None, applier)
    reasons = [c["reason"] for c in result["conflicts"]]
    if not result["applied"]:
        return Applied(False, "; ".join(reasons) or "nothing to apply", notes=applier.notes)
    return Applied(True, notes=applier.notes + [f"not applied: {r}" for r in reasons])
