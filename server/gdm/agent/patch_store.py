"""Patch persistence: every change of a patch in the session's patch book written to the store as
it happens, an audit row when the user's decisions on it change, and the pending patches of
earlier runs loaded back so they stay reviewable.

A collaborator of agent/session.py (the patch book's `on_change` listener). A change made on the
event loop (a tool's proposal, an accept) is written by the session's writer thread, in order,
from a copy of the patch as it was; the code that made it awaits the write at its next settle
point (`settled()`: the patch book's, before the front end is told of the change), where a
failure is raised as a synchronous write would have. Off the loop the write is made at once.
"""

from __future__ import annotations

import copy
import logging
from typing import TYPE_CHECKING

from gdm.agent.store_writes import SerialWriter, on_event_loop
from gdm.patches.book import PatchBook
from gdm.patches.model import FilePatch

if TYPE_CHECKING:
    from gdm.store.repo import Store

log = logging.getLogger(__name__)


class PatchStore:
    """One session's patches in the store."""

    def __init__(self, store: Store, session_id: str, user: str | None) -> None:
        self.store, self.session_id, self.user = store, session_id, user
        self._decisions: dict[str, tuple] = {}  # patch id -> the decisions last audited (the writer's)
        self._writer = SerialWriter(f"gdm-patches-{session_id}")

    def save(self, patch: FilePatch) -> None:
        """Write the patch as it is now (the patch book calls this on every change): on the event
        loop in the background (`settled()` awaits it), elsewhere at once."""
        if on_event_loop():
            snapshot = copy.deepcopy(patch)  # the loop may change the patch again before it is written
            self._writer.submit(lambda: self._write(snapshot))
        else:
            self._writer.settle()  # earlier writes first, and their failure
            self._write(patch)

    async def settled(self) -> None:
        """Wait (off the loop) for the writes of every change so far; raise the first that failed."""
        await self._writer.settled()

    def close(self) -> None:
        """Finish the queued writes and stop the writer thread."""
        self._writer.close()

    def _write(self, patch: FilePatch) -> None:
        risk = patch.risk
        self.store.save_patch(patch.id, patch.task_id, self.session_id, patch.path, patch.status.value,
                              risk.score if risk else None, risk.tier.value if risk else None, patch.to_dict())
        self._audit_decision(patch)

    def _audit_decision(self, patch: FilePatch) -> None:
        """An "accept" / "reject" audit row when the user's decisions on a patch change (`gdm audit`)."""
        decided = {h.status.value for h in patch.hunks} | {patch.decision.value}
        counts = {state: sum(h.status.value == state for h in patch.hunks) for state in ("accepted", "rejected")}
        key = (patch.status.value, counts["accepted"], counts["rejected"], patch.decision.value)
        if self._decisions.get(patch.id) == key or not decided & {"accepted", "rejected"}:
            return
        self._decisions[patch.id] = key
        kind = "reject" if patch.status.value == "rejected" else "accept"
        self.store.add_audit(self.session_id, patch.task_id, kind, {
            "patchId": patch.id, "path": patch.path, "status": patch.status.value,
            "hunksAccepted": counts["accepted"], "hunksRejected": counts["rejected"], "hunks": len(patch.hunks),
            "riskTier": patch.risk.tier.value if patch.risk else None})

    def load_open(self, book: PatchBook, workspace: str) -> dict[str, str]:
        """Pending patches of earlier runs (even a killed server's) into `book`; returns the titles
        of their tasks (task id -> title), which name them in the change annotations."""
        mine = [row["id"] for row in self.store.sessions() if row.get("workspace") == workspace
                and row.get("user") in (self.user, None)]
        # Only this workspace's sessions of this user (or from before users): one database may serve
        # several workspaces and a team.
        rows, titles = [], {}
        for sid in mine:
            found = self.store.patches(status=["pending", "partial"], session_id=sid)
            if found:  # their tasks' titles name them in the change annotations, after a restart too
                titles.update({r["task_id"]: r["detail"]["title"] for r in self.store.audit_records(sid)
                               if r.get("kind") == "task.title" and r["detail"].get("title")})
            rows += found
        for data in sorted(rows, key=lambda d: d.get("created_at", "")):
            try:
                patch = FilePatch.from_dict(data)
            except (KeyError, TypeError, ValueError) as exc:
                log.error("stored patch %s could not be read: %s", data.get("id"), exc)
                continue
            book.put(patch, notify=False)
        return titles
