"""Planning an undo: a task's accepted changes reverted, across all its files, as one edit plan.

Each accepted hunk is turned around (its new lines become the old ones to find, with the lines
around it in the text as accepted as context) and located by content in the text the user has
now, so what the user typed since elsewhere stays; a hunk that cannot be found any more (the
user edited it, or the file is gone) is a conflict with its reason, never forced. A file the task
created is deleted only if it still holds exactly what was accepted; a file it deleted comes back
only where nothing is now; a move goes back only to a free path. Order: text first, where each
file is now, then moves back, then deletions of created files, then re-creations.
"""

from __future__ import annotations

from dataclasses import dataclass

from gdm.context.workspace import Buffer, WorkspaceView
from gdm.patches.apply import apply_hunks
from gdm.patches.model import (CONTEXT, FilePatch, Hunk, HunkStatus, PatchKind, apply_to_base, make_patch,
                               sha256_text, split_lines)
from gdm.patches.plan import Annotation, EditPlan, Op, PlanConflict, Step

ORDER = {Op.EDIT: 0, Op.MOVE: 1, Op.DELETE: 2, Op.CREATE: 3}


@dataclass
class UndoPlan:
    """The edit plan of an undo, and which hunks of which patch it reverts (a move: hunk 0)."""

    plan: EditPlan
    reverted: dict[str, list[int]]

    def count(self) -> int:
        """How many hunks the plan reverts."""
        return sum(len(v) for v in self.reverted.values())


@dataclass(frozen=True)
class Accepted:
    """What of a patch is accepted now: hunk indices (a move: hunk 0)."""

    patch: FilePatch
    hunks: list[int]


def accepted(patch: FilePatch) -> Accepted | None:
    """The accepted part of a patch, or None when nothing of it is accepted."""
    if patch.kind is PatchKind.RENAME:
        return Accepted(patch, [0]) if patch.decision is HunkStatus.ACCEPTED else None
    hunks = [h.index for h in patch.hunks if h.status is HunkStatus.ACCEPTED]
    return Accepted(patch, hunks) if hunks else None


def reverse_patch(patch: FilePatch) -> FilePatch:
    """A patch from the text as accepted back to the text before, one hunk per accepted hunk (same
    index), whose context is the accepted text around it. Independent of how hunks were split."""
    done = sorted((h for h in patch.hunks if h.status is HunkStatus.ACCEPTED), key=lambda h: h.old_start)
    after = apply_to_base(patch.base_text, done)
    lines = split_lines(after)
    hunks, shift = [], 0
    for h in done:
        start = h.old_start + shift
        end = start + len(h.new_lines)
        hunks.append(Hunk(index=h.index, old_start=start, old_lines=list(h.new_lines), new_lines=list(h.old_lines),
                          before=lines[max(0, start - CONTEXT):start], after=lines[end:end + CONTEXT]))
        shift += len(h.new_lines) - len(h.old_lines)
    return FilePatch(id=patch.id, task_id=patch.task_id, path=patch.path, kind=PatchKind.MODIFY, base_text=after,
                     new_text=apply_to_base(after, hunks), base_version=None, base_hash=sha256_text(after), hunks=hunks)


def undo_annotation(task_id: str, task_label: str, count: int) -> Annotation:
    """The undo's change annotation: `gdm: undo <title, else prompt>`."""
    return Annotation(f"undo-{task_id}", f"gdm: undo {task_label}",
                      f"reverts {count} accepted change(s) of this gdm task", False)


class _Planner:
    """Builds one undo plan; `texts` holds each file's text as the plan leaves it so far."""

    def __init__(self, view: WorkspaceView, plan: EditPlan) -> None:
        self.view = view
        self.plan = plan
        self.texts: dict[str, tuple[Buffer, str]] = {}  # path -> (as the user has it, as planned)
        self.reverted: dict[str, list[int]] = {}  # patch id -> hunks the plan reverts
        self.patch_of: dict[str, str] = {}  # path -> the first patch reverted there

    def conflict(self, patch: FilePatch, hunks: list[int], reason: str, path: str | None = None) -> None:
        self.plan.conflicts += [PlanConflict(patch.id, path or patch.path, i, reason) for i in hunks]

    def revert_text(self, patch: FilePatch, hunks: list[int], where: str) -> None:
        """Revert the accepted hunks of a text patch in the file at `where` (planned text so far)."""
        if where not in self.texts:
            current = self.view.current(where)
            if current is None:
                self.conflict(patch, hunks, f"{where} no longer exists (deleted or moved since the task)", where)
                return
            self.texts[where] = (current, current.text)
        buffer, text = self.texts[where]
        located = apply_hunks(reverse_patch(patch), text, None)
        for c in located.conflicts:
            self.conflict(patch, [c.hunk], f"cannot be undone, the text changed since: {c.reason}", where)
        if located.applied:
            self.texts[where] = (buffer, located.text)
            self.reverted.setdefault(patch.id, []).extend(located.applied)
            self.patch_of.setdefault(where, patch.id)

    def text_of(self, path: str) -> str | None:
        """The file's text as the plan leaves it so far (None: it does not exist)."""
        if path in self.texts:
            return self.texts[path][1]
        current = self.view.current(path)
        return None if current is None else current.text

    def step(self, step: Step, hunks: list[int]) -> list[Step]:
        """A file operation the plan does, reverting `hunks` of its patch."""
        self.reverted.setdefault(step.patch_id, []).extend(hunks)
        return [step]

    def edit_steps(self) -> list[Step]:
        """One EDIT step per file whose text changes, located against the text the user has now."""
        return [Step(Op.EDIT, path, self.patch_of[path], (), _edits(buffer.text, text), buffer.text, text,
                     buffer.version)
                for path, (buffer, text) in self.texts.items() if text != buffer.text]


def _edits(before: str, after: str) -> tuple:
    """Whole-line edits from `before` to `after` (code-point columns), in document order."""
    patch = make_patch(patch_id="undo", task_id="undo", path="", base_text=before, new_text=after)
    return tuple(apply_hunks(patch, before, None, code_points=True).edits)


def plan_undo(view: WorkspaceView, task_id: str, patches: list[FilePatch], task_label: str) -> UndoPlan:
    """The plan that reverts every accepted change of `patches` (one task's), with its conflicts."""
    done = [a for a in map(accepted, patches) if a is not None]
    count = sum(len(a.hunks) for a in done)
    annotation = undo_annotation(task_id, task_label, count)
    plan = EditPlan(f"undo of {task_label}", annotation.label, annotation)
    planner = _Planner(view, plan)
    moves = {a.patch.path: a.patch.new_path for a in done if a.patch.kind is PatchKind.RENAME and a.patch.new_path}
    others: list[Step] = []
    for a in sorted(done, key=lambda a: a.patch.created_at, reverse=True):  # newest first
        patch = a.patch
        if patch.kind is PatchKind.RENAME:
            others += _move_back(view, planner, patch)
        elif patch.kind is PatchKind.CREATE and len(a.hunks) == len(patch.hunks):
            others += _delete_created(view, planner, patch, moves.get(patch.path))
        elif patch.kind is PatchKind.DELETE:
            others += _recreate(view, planner, patch, a.hunks)
        else:
            planner.revert_text(patch, a.hunks, _where(view, patch.path, moves))
    plan.steps = sorted(planner.edit_steps() + others, key=lambda s: ORDER[s.op])
    return UndoPlan(plan, planner.reverted)


def _where(view: WorkspaceView, path: str, moves: dict[str, str]) -> str:
    """Where a file the task edited is now: moved by the task (accepted move), else where it was."""
    new = moves.get(path)
    if new is not None and view.current(path) is None and view.current(new) is not None:
        return new
    return path


def _move_back(view: WorkspaceView, planner: _Planner, patch: FilePatch) -> list[Step]:
    old, new = patch.path, patch.new_path or patch.path
    current = view.current(new)
    if current is None:
        planner.conflict(patch, [0], f"{new} no longer exists (deleted or moved since the task); not moving it back", new)
        return []
    if view.current(old) is not None or view.abs(old).exists():
        planner.conflict(patch, [0], f"{old} exists now; not moving {new} back over it", new)
        return []
    return planner.step(Step(Op.MOVE, new, patch.id, (0,), before=current.text, version=current.version,
                             new_path=old), [0])


def _delete_created(view: WorkspaceView, planner: _Planner, patch: FilePatch, moved_to: str | None) -> list[Step]:
    hunks = [h.index for h in patch.hunks]
    where = moved_to if moved_to and view.current(patch.path) is None else patch.path
    current, planned = view.current(where), planner.text_of(where)
    if current is None or planned is None:
        planner.conflict(patch, hunks, f"{where} no longer exists (deleted or moved since the task)", where)
        return []
    if planned != apply_to_base("", patch.hunks):
        planner.conflict(patch, hunks, f"{where} changed since the task created it; not deleting that work", where)
        return []
    planner.texts.pop(where, None)  # its later edits go with it
    return planner.step(Step(Op.DELETE, where, patch.id, tuple(hunks), before=current.text,
                             version=current.version), hunks)


def _recreate(view: WorkspaceView, planner: _Planner, patch: FilePatch, hunks: list[int]) -> list[Step]:
    if view.current(patch.path) is not None or view.abs(patch.path).exists():
        planner.conflict(patch, hunks, f"{patch.path} exists again; not overwriting it with the deleted text")
        return []
    return planner.step(Step(Op.CREATE, patch.path, patch.id, tuple(hunks), _edits("", patch.base_text), None,
                             patch.base_text), hunks)
