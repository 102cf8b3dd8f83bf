"""Appliers carry out an edit plan in one front end and report back; the disk applier lives here.

An applier gets an `EditPlan` whose steps were located against the text the user has now, and
does them in order as one change, as far as its front end allows. It never re-decides what to
change (that was planned, with conflicts, in review/accept.py and review/undo.py); it only says
whether the change landed. Three exist: the LSP applier (features/lsp_applier.py:
`workspace/applyEdit`), the disk applier below (atomic writes: `gdm ask --apply`, `gdm undo`),
and ACP's (`fs/write_text_file`, whole texts from `Step.after`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from gdm.context.workspace import WorkspaceView
from gdm.patches.plan import EditPlan, Op, Step


@dataclass
class Applied:
    """How a plan went: `ok` when every step landed; else `reason` (one sentence) and how many
    steps, from the first, were done before it stopped (`done`; 0 for an all-or-nothing front end).
    `notes` are things a person should hear even on success (e.g. "deleted x.py on disk")."""

    ok: bool
    reason: str | None = None
    done: int = 0
    notes: list[str] = field(default_factory=list)


class Applier(Protocol):
    """Carries out an `EditPlan` in one front end.

    `apply` does `plan.steps` in order, as one change where the front end can (an LSP client
    applies one `WorkspaceEdit` or none of it), and returns `Applied`. Text steps carry both the
    located `edits` (code-point columns; convert at your edge) and the whole resulting text
    (`after`): use whichever the front end takes. A step it cannot express may be done another
    way (on disk) only where nothing of the user's state can be lost; otherwise refuse with a
    reason. It must not raise for expected failures (a refused write, an OSError): those are
    `Applied(ok=False, reason=...)`, and the patches stay as they were.
    """

    async def apply(self, plan: EditPlan) -> Applied:
        """Carry out the plan; report whether it landed."""
        ...


def write_atomically(path: Path, text: str) -> None:
    """Write `text` (UTF-8) to `path` through a temporary file and a rename: never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.gdm-tmp")
    tmp.write_bytes(text.encode("utf-8"))
    os.replace(tmp, path)


def move_file(source: Path, target: Path, shown: str) -> None:
    """Move a file, never over an existing one (FileExistsError naming `shown`)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        raise FileExistsError(f"{shown} exists")
    os.rename(source, target)


class DiskApplier:
    """Carries a plan out on disk (no editor holds the files): atomic writes, checked first.

    Each step is checked against the disk just before it is done (the text it was planned
    against, no file where one is created or moved to), so a file changed meanwhile is refused,
    not overwritten; steps already done stay done and `done` says how many.
    """

    def __init__(self, view: WorkspaceView) -> None:
        self.view = view

    async def apply(self, plan: EditPlan) -> Applied:
        for done, step in enumerate(plan.steps):
            try:
                why = self._check(step)
                if why is None:
                    self._do(step)
            except OSError as exc:
                why = f"cannot change {step.path} on disk: {exc}"
            if why is not None:
                return Applied(False, why, done)
        return Applied(True, done=len(plan.steps))

    def _check(self, step: Step) -> str | None:
        path = self.view.abs(step.path)
        if step.op is Op.CREATE:
            return f"{step.path} exists now; not overwriting it" if path.exists() else None
        if not path.is_file():
            return f"{step.path} no longer exists"
        if step.before is not None and step.op is not Op.MOVE:
            if path.read_bytes().decode("utf-8", errors="replace") != step.before:
                return f"{step.path} changed on disk meanwhile; not overwriting it"
        return None

    def _do(self, step: Step) -> None:
        path = self.view.abs(step.path)
        if step.op in (Op.EDIT, Op.CREATE):
            write_atomically(path, step.after or "")
        elif step.op is Op.DELETE:
            path.unlink()
        else:
            new = step.new_path or step.path
            move_file(path, self.view.abs(new), new)
