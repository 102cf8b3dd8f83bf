"""The review engine every front end drives: accept patches and undo tasks through an applier.

It plans (review/accept.py, review/undo.py), hands the plan to the front end's applier
(review/appliers.py), and records what landed in the patch book (which writes it to the store).
The answers are the contract's shapes (`{applied, conflicts, appliedHunks}` per patch), the same
over LSP, headless and ACP.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gdm.context.workspace import WorkspaceView
from gdm.patches.book import PatchBook
from gdm.patches.model import FilePatch, HunkStatus, PatchKind
from gdm.patches.plan import EditPlan, PlanConflict
from gdm.review.accept import plan_accept
from gdm.review.appliers import Applied, Applier

PatchListener = Callable[[FilePatch], None]


def refusal(hunks: list[int], reason: str, earlier: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The answer of an accept that changed nothing: each of `hunks` is a conflict for `reason`."""
    return {"applied": False, "conflicts": (earlier or []) + [{"hunk": i, "reason": reason} for i in hunks],
            "appliedHunks": []}


def accept_order(patches: list[FilePatch]) -> list[FilePatch]:
    """The order a task's patches are accepted in: moves last, so each file's edits land where
    the file is now, then it moves (and its other patches follow it)."""
    return sorted(patches, key=lambda p: p.kind is PatchKind.RENAME)


class Review:
    """Accepting hunks for one session's patches, whatever the front end.

    `task_label` names a task (its title, else its prompt) for change annotations; `on_change`
    hears of every patch whose review state moved (the LSP front end redraws lenses then).
    """

    def __init__(self, view: WorkspaceView, book: PatchBook, task_label: Callable[[str], str],
                 on_change: PatchListener | None = None) -> None:
        self.view = view
        self.book = book
        self.task_label = task_label
        self.on_change = on_change

    def plan(self, patch: FilePatch, hunks: list[int] | None) -> EditPlan:
        """The edit plan that accepts `hunks` of `patch` (None: all pending) in the current text."""
        return plan_accept(self.view, patch, hunks, self.task_label(patch.task_id))

    async def accept(self, patch: FilePatch, hunks: list[int] | None, applier: Applier) -> dict[str, Any]:
        """Plan, apply, record: `{applied, conflicts, appliedHunks}`."""
        plan = self.plan(patch, hunks)
        conflicts = [c.to_json() for c in plan.conflicts]
        if not plan.steps:
            return {"applied": False, "conflicts": conflicts, "appliedHunks": []}
        done = plan.hunks()
        outcome = await applier.apply(plan)
        if not outcome.ok:
            return refusal(done, outcome.reason or "the change was not applied", conflicts)
        await self.record_accept(patch, done)
        return {"applied": True, "conflicts": conflicts, "appliedHunks": done}

    async def record_accept(self, patch: FilePatch, hunks: list[int]) -> None:
        """What landed is accepted (in the store before anyone hears of it); a file that moved takes
        its other open patches along."""
        if patch.kind is PatchKind.RENAME:
            self.book.decide(patch, HunkStatus.ACCEPTED)
            self.book.moved(patch.path, patch.new_path or patch.path)
        else:
            self.book.set_hunks(patch, hunks, HunkStatus.ACCEPTED)
        await self.book.settled()
        self.changed(patch)

    def changed(self, patch: FilePatch) -> None:
        """Tell the front end a patch's review state moved."""
        if self.on_change is not None:
            self.on_change(patch)

    async def accept_all(self, patches: list[FilePatch], applier: Applier) -> list[dict[str, Any]]:
        """Accept every pending hunk of `patches` in `accept_order`, one plan per patch."""
        return [{"patchId": p.id, **await self.accept(p, None, applier)} for p in accept_order(patches)]


__all__ = ["Applied", "Applier", "PlanConflict", "Review", "accept_order", "refusal"]
