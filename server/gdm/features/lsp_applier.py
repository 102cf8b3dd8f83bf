"""The LSP applier: an edit plan as one `workspace/applyEdit`, shaped to what the client supports.

Versioned `documentChanges` with the plan's change annotation, or plain `changes`; file
operations as resource operations, so they land in the editor's undo history and its open
editors follow. Where the client lacks an operation, the fallback is taken only where nothing of
its state can be lost: a new file is made empty on disk and its content still arrives as an
editor edit; a file the editor does not have open is deleted or moved on disk by the server (the
reviewed content stays in the store); an open one is refused with what to do instead.

Plan columns (code points) become the client's position units here, at the edge, through
patches/positions.py (the one owner of position encoding) with pygls' position codec.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from gdm.context.workspace import WorkspaceView
from gdm.features.apply_edit import send_edit
from gdm.patches.apply import TextEdit
from gdm.patches.lsp import EditSupport, UnsupportedEdit, can, plan_edit
from gdm.patches.plan import Annotation, EditPlan, Op, Step
from gdm.patches.positions import to_client_units
from gdm.review.appliers import Applied, DiskApplier

if TYPE_CHECKING:
    from gdm.server import GdmServer

OPERATION = {Op.CREATE: "create", Op.DELETE: "delete", Op.MOVE: "rename"}
NO_NOTE = Annotation("", "", "", False)  # steps done on disk carry no editor annotation


class LspApplier:
    """Carries a plan out through the editor; see the module docstring for the fallbacks."""

    def __init__(self, server: GdmServer, view: WorkspaceView) -> None:
        self.server = server
        self.view = view

    def to_client(self, step: Step) -> list[TextEdit]:
        """The step's edits with columns in the client's position encoding (pygls' codec)."""
        return to_client_units(self.server.ls.workspace.position_codec, step.before or "", step.edits)

    async def apply(self, plan: EditPlan) -> Applied:
        support = self.server.caps.edit_support()
        on_disk = [s for s in plan.steps if s.op in (Op.DELETE, Op.MOVE) and not can(support, OPERATION[s.op])]
        for step in on_disk:
            if self.view.buffers.buffer(step.path) is not None:
                what = "delete" if step.op is Op.DELETE else "move"
                return Applied(False, f"this editor cannot {what} files through LSP and {step.path} is open in "
                                      f"it: close it and accept again, or do it yourself")
        # A file that goes on disk takes its text steps along (not open: the disk is its only copy).
        disk_paths = {p for s in on_disk for p in (s.path, s.new_path) if p}
        on_disk = [s for s in plan.steps if s in on_disk or (s.op is Op.EDIT and s.path in disk_paths)]
        steps = [s for s in plan.steps if s not in on_disk]
        steps, why = self._create_empty(steps, support)
        if why is not None:
            return Applied(False, why)
        if steps:
            sent = EditPlan(plan.subject, plan.label, plan.annotation, steps)
            try:
                edit = plan_edit(sent, self.view.uri, support, self.to_client)
            except UnsupportedEdit as exc:
                return Applied(False, str(exc))
            why = await send_edit(self.server, plan.subject, edit, lambda: all(map(self._landed, steps)), plan.label)
            if why is not None:
                return Applied(False, why)
        return await self._on_disk(on_disk)

    def _create_empty(self, steps: list[Step], support: EditSupport) -> tuple[list[Step], str | None]:
        """A client that cannot create files: make them empty on disk; the text is still an edit."""
        out = []
        for step in steps:
            if step.op is Op.CREATE and not can(support, "create"):
                path = self.view.abs(step.path)
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    with open(path, "x", encoding="utf-8"):
                        pass  # never overwriting one that appeared meanwhile
                except OSError as exc:
                    return steps, f"cannot create {step.path}: {exc}"
                step = replace(step, op=Op.EDIT, before="", version=None)
            out.append(step)
        return out, None

    async def _on_disk(self, steps: list[Step]) -> Applied:
        if not steps:
            return Applied(True)
        done = await DiskApplier(self.view).apply(EditPlan("", "", NO_NOTE, steps))
        if not done.ok:
            return Applied(False, done.reason)
        for step in steps:
            if step.op is Op.DELETE:
                self.server.show(f"gdm: deleted {step.path} on disk (this editor cannot delete files through LSP)",
                                 lsp.MessageType.Info)
            elif step.op is Op.MOVE:
                self.server.show(f"gdm: moved {step.path} to {step.new_path} on disk (this editor cannot rename "
                                 f"files through LSP)", lsp.MessageType.Info)
        return Applied(True)

    def _landed(self, step: Step) -> bool:
        """Whether a step shows in the editor's state (for a client that applied without answering)."""
        if step.op is Op.DELETE:
            return self.view.current(step.path) is None
        if step.op is Op.MOVE:
            return self.view.abs(step.new_path or step.path).exists()
        now = self.view.current(step.path)
        return now is not None and now.text == step.after
