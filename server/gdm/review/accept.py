"""Planning an accept: a patch's chosen hunks (or its move / deletion) against the text the user has now.

The one place that decides what accepting means, for every front end: hunks are located by content
(patches/apply.py), so the user's typing since the patch was made stays; a deletion only removes
exactly the text that was reviewed; a move never goes over a file; a new file is never written
over one that appeared meanwhile. What does not fit is a conflict with its reason.
"""

from __future__ import annotations

from gdm.context.workspace import WorkspaceView
from gdm.patches.apply import apply_hunks
from gdm.patches.model import FilePatch, HunkStatus, PatchKind
from gdm.patches.plan import EditPlan, Op, PlanConflict, Step, risk_annotation

MOVE = 0  # the hunk index that stands for a move


def not_pending(patch: FilePatch, index: int) -> str:
    """Why hunk `index` cannot be decided now."""
    if not 0 <= index < len(patch.hunks):
        return f"no hunk {index} (the patch has {len(patch.hunks)})"
    return f"hunk {index} is already {patch.hunks[index].status.value}"


def plan_accept(view: WorkspaceView, patch: FilePatch, hunks: list[int] | None, task_label: str) -> EditPlan:
    """The plan that accepts `hunks` of `patch` (None: every pending hunk, or the move)."""
    plan = EditPlan(patch.path, f"gdm: {patch.path}", risk_annotation(patch.id, patch.risk, task_label))
    if patch.kind is PatchKind.RENAME:
        return _move(view, patch, hunks, plan)
    if patch.kind is PatchKind.DELETE and patch.pending_hunks():
        return _delete(view, patch, plan)
    if hunks is None and not patch.pending_hunks():
        return _refuse(plan, patch, [h.index for h in patch.hunks], None)
    current = view.current(patch.path)
    if patch.kind is PatchKind.CREATE and current is not None and current.text != "":
        return _refuse(plan, patch, _chosen(patch, hunks), f"{patch.path} was created meanwhile; not overwriting it")
    text = current.text if current is not None else ""
    located = apply_hunks(patch, text, hunks, code_points=True)
    plan.conflicts = [PlanConflict(patch.id, patch.path, c.hunk, c.reason) for c in located.conflicts]
    if located.applied:
        create = patch.kind is PatchKind.CREATE and current is None
        plan.steps.append(Step(Op.CREATE if create else Op.EDIT, patch.path, patch.id, tuple(located.applied),
                               tuple(located.edits), None if current is None else text, located.text,
                               None if current is None else current.version))
    return plan


def _chosen(patch: FilePatch, hunks: list[int] | None) -> list[int]:
    return [h.index for h in patch.pending_hunks()] if hunks is None else hunks


def _refuse(plan: EditPlan, patch: FilePatch, hunks: list[int], reason: str | None) -> EditPlan:
    """A plan with no steps: each of `hunks` a conflict for `reason` (None: why it is not pending)."""
    plan.conflicts += [PlanConflict(patch.id, patch.path, i, reason or not_pending(patch, i)) for i in hunks]
    return plan


def _delete(view: WorkspaceView, patch: FilePatch, plan: EditPlan) -> EditPlan:
    """Delete the file, only if it still holds exactly what the user reviewed for deletion."""
    hunks = [h.index for h in patch.pending_hunks()]
    current = view.current(patch.path)
    if current is None:
        return _refuse(plan, patch, hunks, f"{patch.path} no longer exists")
    if current.text != patch.base_text:
        return _refuse(plan, patch, hunks, f"{patch.path} changed since its deletion was proposed; not deleting that work")
    plan.steps.append(Step(Op.DELETE, patch.path, patch.id, tuple(hunks), before=current.text, version=current.version))
    return plan


def _move(view: WorkspaceView, patch: FilePatch, hunks: list[int] | None, plan: EditPlan) -> EditPlan:
    """Move the file to its new path, never over an existing file. A move is one decision: hunk 0."""
    new = patch.new_path or patch.path
    if hunks not in (None, [MOVE]):
        return _refuse(plan, patch, [i for i in hunks or [] if i != MOVE], "a move has only hunk 0")
    if patch.decision is not HunkStatus.PENDING:
        return _refuse(plan, patch, [MOVE], f"the move is already {patch.decision.value}")
    current = view.current(patch.path)
    if current is None:
        return _refuse(plan, patch, [MOVE], f"{patch.path} no longer exists")
    if view.current(new) is not None or view.abs(new).exists():
        return _refuse(plan, patch, [MOVE], f"{new} exists now; not overwriting it")
    plan.steps.append(Step(Op.MOVE, patch.path, patch.id, (MOVE,), before=current.text, version=current.version,
                           new_path=new))
    return plan
