"""The review of a prompt's patches, before the prompt is answered.

Under mode `review` each patch is put to the user with `session/request_permission`: Accept
(`allow_once`), Accept all from this task (`allow_always`: this patch and the task's next ones,
except CRITICAL risk, which is always asked), Reject (`reject_once`). Under `auto-low` LOW-risk
patches are applied at once and the rest are asked. Moves go last, so each file's edits land
where the file is, then it moves. A patch is applied through acp/applier.py; one that cannot be
(a refused write, drift) stays pending in the store, and the tool call says why. A `cancelled`
outcome (the client cancelled the prompt) ends the review: what is left stays reviewable.
"""

from __future__ import annotations

import logging
from typing import Any

from acp import RequestError, helpers, schema

from gdm.acp import mapping
from gdm.acp.applier import accept_patch
from gdm.acp.outbox import Outbox
from gdm.acp.state import AcpSession
from gdm.context.workspace import PathRefused
from gdm.patches.model import FilePatch, HunkStatus, PatchKind, PatchStatus
from gdm.patches.risk import Tier

log = logging.getLogger(__name__)

ACCEPT, ACCEPT_ALL, REJECT = "accept", "accept_all", "reject"
OPTIONS = [schema.PermissionOption(option_id=ACCEPT, name="Accept", kind="allow_once"),
           schema.PermissionOption(option_id=ACCEPT_ALL, name="Accept all from this task", kind="allow_always"),
           schema.PermissionOption(option_id=REJECT, name="Reject", kind="reject_once")]


class Review:
    """Puts one task's pending patches to the user and applies what is accepted."""

    def __init__(self, state: AcpSession, conn: Any, outbox: Outbox, patch_calls: dict[str, str]) -> None:
        self.state = state
        self.conn = conn
        self.outbox = outbox
        self.patch_calls = patch_calls
        self.accept_all = False

    def pending(self, task_id: str) -> list[FilePatch]:
        """The task's patches still waiting, moves last."""
        open_states = (PatchStatus.PENDING, PatchStatus.PARTIAL)
        patches = [p for p in self.state.session.patches.for_task(task_id) if p.status in open_states]
        return sorted(patches, key=lambda p: p.kind is PatchKind.RENAME)

    async def run(self, task_id: str) -> bool:
        """Review every pending patch of the task; False when the client cancelled."""
        for patch in self.pending(task_id):
            decision = await self.decide(patch)
            if decision is None:
                return False
            if decision == REJECT:
                self.reject(patch)
                await self.state.session.patches.settled()  # stored before the client hears of it
            else:
                await self.apply(patch)
        return True

    async def decide(self, patch: FilePatch) -> str | None:
        """ACCEPT or REJECT (None: cancelled), asking the user unless the mode or an earlier
        'Accept all' answers."""
        tier = patch.risk.tier if patch.risk else None
        if self.accept_all and tier is not Tier.CRITICAL:
            return ACCEPT
        if self.state.mode == "auto-low" and tier is Tier.LOW:
            return ACCEPT
        await self.state.buffers.fetch(patch.path)  # the diff as the file is now
        old, new = texts(self.state, patch)
        call = schema.ToolCallUpdate(
            tool_call_id=self.call_id(patch), title=mapping.patch_title(patch, "Accept?"), status="pending",
            kind=mapping.KINDS[{PatchKind.DELETE: "delete_file", PatchKind.RENAME: "rename_file"}.get(
                patch.kind, "edit_file")],
            content=mapping.patch_content(self.state.session.view.root, patch, old, new),
            locations=mapping.patch_locations(self.state.session.view.root, patch))
        await self.outbox.flush()
        try:
            response = await self.conn.request_permission(session_id=self.state.id, tool_call=call, options=OPTIONS)
        except RequestError as exc:
            log.warning("the client could not be asked about %s (%s); it stays pending", patch.id, exc)
            return None
        outcome = response.outcome
        if outcome.outcome != "selected":
            return None
        chosen = outcome.option_id
        if chosen == ACCEPT_ALL:
            self.accept_all = True
        return ACCEPT if chosen in (ACCEPT, ACCEPT_ALL) else REJECT

    def call_id(self, patch: FilePatch) -> str:
        """The tool call that made the patch (a call of its own when none did)."""
        return self.patch_calls.get(patch.id) or f"{patch.id}-call"

    def reject(self, patch: FilePatch) -> None:
        """Reject every pending hunk (or the move)."""
        book = self.state.session.patches
        if patch.kind is PatchKind.RENAME:
            book.decide(patch, HunkStatus.REJECTED)
        else:
            book.set_hunks(patch, [h.index for h in patch.pending_hunks()], HunkStatus.REJECTED)
        self.outbox.put(helpers.update_tool_call(self.call_id(patch), status="failed",
                                                 title=mapping.patch_title(patch, "Rejected:")))

    async def apply(self, patch: FilePatch) -> None:
        """Apply an accepted patch; the tool call tells how it went."""
        result = await accept_patch(self.state, self.conn, patch)
        if result.ok:
            title, status = mapping.patch_title(patch, "Applied:"), "completed"
        else:
            title, status = f"Not applied ({result.reason}): {mapping.patch_title(patch)}", "failed"
        note = [helpers.tool_content(helpers.text_block(text)) for text in [result.reason, *result.notes] if text]
        self.outbox.put(helpers.update_tool_call(self.call_id(patch), status=status, title=title,
                                                 content=note or None))


def texts(state: AcpSession, patch: FilePatch) -> tuple[str | None, str | None]:
    """The file's text now and as the task's pending patches leave it (None: no such file)."""
    view = state.session.view
    try:
        current = view.current(patch.path)
    except PathRefused:
        current = None
    if patch.kind is PatchKind.DELETE:
        return (current.text if current else patch.base_text), ""
    if patch.kind is PatchKind.RENAME:
        return None, None
    try:
        new = view.read(patch.path, patch.task_id)
    except PathRefused:
        new = None
    return (current.text if current else None), new if new is not None else patch.new_text
