"""The edit plan: what a review decision does to the workspace, said once for every front end.

Accepting hunks (review/accept.py) and undoing a task (review/undo.py) both come out as an
`EditPlan`: text edits located by content in the text the user has now, file creates, deletes and
moves, in the order they must happen, and the conflicts (with reasons) of what could not be
planned. An applier (review/appliers.py) carries a plan out in one front end — LSP
`workspace/applyEdit`, atomic writes to disk, ACP `fs/write_text_file` — and reports back.

Columns inside a plan are code points (Python string indices), lines are LSP lines; converting to
the client's position encoding happens once, at the LSP edge (features/lsp_applier.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from gdm.patches.apply import TextEdit
from gdm.patches.risk import Risk, Tier

CONFIRM_TIERS = (Tier.MEDIUM, Tier.HIGH, Tier.CRITICAL)


class Op(str, Enum):
    """What one step does to one file."""

    EDIT = "edit"  # change the text of an existing file
    CREATE = "create"  # make a file that does not exist, with the step's text
    DELETE = "delete"  # remove the file (it holds exactly `before`)
    MOVE = "move"  # move the file to `new_path`, never over an existing file


@dataclass(frozen=True)
class Step:
    """One operation on one file, part of the plan of one patch.

    `before` is the text the edits were located against (None: the file does not exist);
    `after` is the file's whole text once the step is done (None for DELETE and MOVE), which is
    what an applier that writes whole files (disk, ACP) needs; `edits` are the same change as
    line/column edits on `before` (code-point columns), for an editor.
    """

    op: Op
    path: str
    patch_id: str
    hunks: tuple[int, ...] = ()
    edits: tuple[TextEdit, ...] = ()
    before: str | None = None
    after: str | None = None
    version: int | None = None  # the editor's version of `before`, when it is an open buffer
    new_path: str | None = None  # MOVE: where the file goes


@dataclass(frozen=True)
class Annotation:
    """What the change is, for the editor's change annotation (and any front end's label)."""

    id: str
    label: str
    description: str
    needs_confirmation: bool


@dataclass(frozen=True)
class PlanConflict:
    """Something the plan leaves out, and why (never forced)."""

    patch_id: str
    path: str
    hunk: int
    reason: str

    def to_json(self, *, full: bool = False) -> dict[str, Any]:
        """`{hunk, reason}` as accept results carry it; with `full`, also `patchId` and `path`."""
        short = {"hunk": self.hunk, "reason": self.reason}
        return {"patchId": self.patch_id, "path": self.path, **short} if full else short


@dataclass
class EditPlan:
    """Steps to carry out in order, as one change, and the conflicts left out of it.

    `subject` names the change in messages (a path, or "undo of <task>"); `label` is the label of
    the whole edit (LSP `ApplyWorkspaceEditParams.label`).
    """

    subject: str
    label: str
    annotation: Annotation
    steps: list[Step] = field(default_factory=list)
    conflicts: list[PlanConflict] = field(default_factory=list)

    def hunks(self) -> list[int]:
        """The hunk indices the steps carry out (one patch's plan), in order."""
        return sorted({i for step in self.steps for i in step.hunks})

    def paths(self) -> list[str]:
        """Every path the plan touches (moves: both ends)."""
        out = [s.path for s in self.steps] + [s.new_path for s in self.steps if s.new_path]
        return list(dict.fromkeys(out))


def risk_annotation(annotation_id: str, risk: Risk | None, task_label: str) -> Annotation:
    """An accept's annotation: the label names the task, the description gives the risk;
    MEDIUM and above need confirmation (VS Code then shows its refactor preview)."""
    if risk is None:
        return Annotation(annotation_id, f"gdm: {task_label}", "risk not scored", True)
    reasons = "; ".join(r.message for r in risk.reasons) or "no risk signals"
    return Annotation(annotation_id, f"gdm: {task_label}", f"risk {risk.tier.value} {risk.score:.2f}: {reasons}",
                      risk.tier in CONFIRM_TIERS)
