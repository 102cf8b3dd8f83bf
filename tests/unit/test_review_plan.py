"""The edit plan, front-end neutral: what accepting and undoing plan against the text on disk, as
case tables; and the disk applier carrying plans out (accept, then undo, gives the text back)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gdm.context.workspace import NoBuffers, WorkspaceView
from gdm.patches.book import PatchBook
from gdm.patches.model import HunkStatus, PatchKind, make_patch, make_rename
from gdm.patches.plan import Op
from gdm.review.accept import plan_accept
from gdm.review.appliers import DiskApplier
from gdm.review.undo import plan_undo, reverse_patch

BASE = "".join(f"line {i}\n" for i in range(1, 21))
NEW = BASE.replace("line 3\n", "line three\n").replace("line 17\n", "line seventeen\n")


def view(tmp_path: Path, files: dict[str, str]) -> WorkspaceView:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return WorkspaceView(tmp_path, NoBuffers(), PatchBook())


def modify(base: str = BASE, new: str = NEW, path: str = "a.py"):
    return make_patch(patch_id="p-1", task_id="t-1", path=path, base_text=base, new_text=new)


def accept_all(patch):
    for h in patch.hunks:
        h.status = HunkStatus.ACCEPTED
    return patch


# (name, files on disk, patch factory, hunks, expected ops, conflict reason fragment or None)
ACCEPT_CASES = [
    ("unchanged file", {"a.py": BASE}, modify, None, [Op.EDIT], None),
    ("user typed above", {"a.py": "# mine\n" + BASE}, modify, None, [Op.EDIT], None),
    ("hunk lines edited", {"a.py": BASE.replace("line 3\n", "line 3 (mine)\n")}, modify, None, [Op.EDIT], "hunk 0"),
    ("create, absent", {}, lambda: make_patch(patch_id="p-1", task_id="t-1", path="n.py", base_text="",
                                                new_text="x = 1\n", kind=PatchKind.CREATE), None, [Op.CREATE], None),
    ("create, appeared meanwhile", {"n.py": "y = 2\n"},
     lambda: make_patch(patch_id="p-1", task_id="t-1", path="n.py", base_text="", new_text="x = 1\n",
                        kind=PatchKind.CREATE), None, [], "was created meanwhile"),
    ("delete, unchanged", {"a.py": BASE},
     lambda: make_patch(patch_id="p-1", task_id="t-1", path="a.py", base_text=BASE, new_text="",
                        kind=PatchKind.DELETE), None, [Op.DELETE], None),
    ("delete, changed since", {"a.py": BASE + "more\n"},
     lambda: make_patch(patch_id="p-1", task_id="t-1", path="a.py", base_text=BASE, new_text="",
                        kind=PatchKind.DELETE), None, [], "changed since its deletion"),
    ("delete, gone", {}, lambda: make_patch(patch_id="p-1", task_id="t-1", path="a.py", base_text=BASE, new_text="",
                                            kind=PatchKind.DELETE), None, [], "no longer exists"),
    ("move", {"a.py": BASE}, lambda: make_rename(patch_id="p-1", task_id="t-1", path="a.py", new_path="b/a.py",
                                                 text=BASE), None, [Op.MOVE], None),
    ("move over a file", {"a.py": BASE, "b.py": "x\n"},
     lambda: make_rename(patch_id="p-1", task_id="t-1", path="a.py", new_path="b.py", text=BASE), None, [],
     "exists now"),
    ("move, hunk 1", {"a.py": BASE}, lambda: make_rename(patch_id="p-1", task_id="t-1", path="a.py",
                                                         new_path="b.py", text=BASE), [1], [], "only hunk 0"),
    ("already accepted", {"a.py": NEW}, lambda: accept_all(modify()), None, [], "already accepted"),
]


@pytest.mark.parametrize("name, files, factory, hunks, ops, reason", ACCEPT_CASES, ids=[c[0] for c in ACCEPT_CASES])
def test_plan_accept(tmp_path, name, files, factory, hunks, ops, reason):
    plan = plan_accept(view(tmp_path, files), factory(), hunks, "the task")
    assert [s.op for s in plan.steps] == ops
    assert plan.annotation.label == "gdm: the task" and plan.annotation.id == "p-1"
    if reason is None:
        assert plan.conflicts == []
    else:
        assert plan.conflicts and all(reason in c.reason for c in plan.conflicts), plan.conflicts


def test_accept_keeps_the_users_typing_and_columns_are_code_points(tmp_path):
    text = "# mine\n" + BASE
    plan = plan_accept(view(tmp_path, {"a.py": text}), modify(), None, "t")
    step = plan.steps[0]
    assert step.after == "# mine\n" + NEW and step.before == text and step.hunks == (0, 1)
    emoji = "a = '😀'"  # no final newline: the edit ends inside the last line, counted in code points
    patch = make_patch(patch_id="p-2", task_id="t-1", path="e.py", base_text=emoji, new_text="a = 1")
    edit = plan_accept(view(tmp_path, {"e.py": emoji}), patch, None, "t").steps[0].edits[0]
    assert (edit.end_line, edit.end_char) == (0, len(emoji))


def accepted_in(patch, text_on_disk: str | None = None):
    """The patch with every hunk accepted, and the disk text it left (or what the user made of it)."""
    accept_all(patch)
    return patch, patch.new_text if text_on_disk is None else text_on_disk


USER = NEW.replace("line 10\n", "line 10 — typed by the user\n")
UNDO_CASES = [
    ("typed elsewhere", lambda: accepted_in(modify(), USER), "a.py", [Op.EDIT],
     BASE.replace("line 10\n", "line 10 — typed by the user\n"), None),
    ("accepted lines edited", lambda: accepted_in(modify(), NEW.replace("line three", "line 3!")), "a.py",
     [Op.EDIT], None, "cannot be undone"),
    ("file gone", lambda: (accept_all(modify()), None), "a.py", [], None, "no longer exists"),
    ("created, unchanged", lambda: accepted_in(make_patch(patch_id="p-1", task_id="t-1", path="a.py", base_text="",
                                                          new_text="x = 1\n", kind=PatchKind.CREATE)),
     "a.py", [Op.DELETE], None, None),
    ("created, changed since", lambda: accepted_in(make_patch(patch_id="p-1", task_id="t-1", path="a.py",
                                                              base_text="", new_text="x = 1\n",
                                                              kind=PatchKind.CREATE), "x = 2\n"),
     "a.py", [], None, "changed since the task created it"),
    ("deleted", lambda: (accept_all(make_patch(patch_id="p-1", task_id="t-1", path="a.py", base_text=BASE,
                                               new_text="", kind=PatchKind.DELETE)), None),
     "a.py", [Op.CREATE], BASE, None),
]


@pytest.mark.parametrize("name, setup, path, ops, after, reason", UNDO_CASES, ids=[c[0] for c in UNDO_CASES])
def test_plan_undo(tmp_path, name, setup, path, ops, after, reason):
    patch, text = setup()
    undo = plan_undo(view(tmp_path, {path: text} if text is not None else {}), "t-1", [patch], "the task")
    plan = undo.plan
    assert plan.annotation.label == "gdm: undo the task" == plan.label
    assert [s.op for s in plan.steps] == ops
    if after is not None:
        assert plan.steps[0].after == after
    if reason is None:
        assert plan.conflicts == [] and undo.count() == len(patch.hunks)
    else:
        assert plan.conflicts and all(reason in c.reason for c in plan.conflicts), plan.conflicts


def test_undo_reverts_only_the_accepted_hunks_and_a_move_goes_back(tmp_path):
    patch = modify()
    patch.hunks[1].status = HunkStatus.ACCEPTED  # hunk 0 was rejected
    partial = BASE.replace("line 17\n", "line seventeen\n")
    move = make_rename(patch_id="p-2", task_id="t-1", path="old.py", new_path="pkg/new.py", text="z\n")
    move.decision = HunkStatus.ACCEPTED
    undo = plan_undo(view(tmp_path, {"a.py": partial, "pkg/new.py": "z\n"}), "t-1", [patch, move], "t")
    assert [(s.op, s.path) for s in undo.plan.steps] == [(Op.EDIT, "a.py"), (Op.MOVE, "pkg/new.py")]
    assert undo.plan.steps[0].after == BASE and undo.plan.steps[1].new_path == "old.py"
    assert undo.reverted == {"p-1": [1], "p-2": [0]}
    blocked = plan_undo(view(tmp_path, {"old.py": "taken\n"}), "t-1", [move], "t")
    assert blocked.plan.steps == [] and "exists now" in blocked.plan.conflicts[0].reason


def test_reverse_patch_is_independent_of_hunk_boundaries():
    patch = accept_all(modify())
    reverse = reverse_patch(patch)
    assert reverse.base_text == NEW and reverse.new_text == BASE
    assert [h.index for h in reverse.hunks] == [0, 1] and reverse.hunks[0].old_lines == ["line three\n"]


def test_disk_applier_accepts_then_undoes_back_to_the_original(tmp_path):
    v = view(tmp_path, {"a.py": "# mine\n" + BASE})
    patch = modify()
    plan = plan_accept(v, patch, None, "t")
    assert asyncio.run(DiskApplier(v).apply(plan)).ok
    assert (tmp_path / "a.py").read_text() == "# mine\n" + NEW
    accept_all(patch)
    (tmp_path / "a.py").write_text("# mine\n" + USER)  # the user types after the accept
    undo = plan_undo(v, "t-1", [patch], "t")
    assert asyncio.run(DiskApplier(v).apply(undo.plan)).ok
    assert (tmp_path / "a.py").read_text() == "# mine\n" + BASE.replace("line 10\n", "line 10 — typed by the user\n")


def test_disk_applier_refuses_a_file_changed_after_planning(tmp_path):
    v = view(tmp_path, {"a.py": BASE})
    plan = plan_accept(v, modify(), None, "t")
    (tmp_path / "a.py").write_text(BASE + "late\n")
    outcome = asyncio.run(DiskApplier(v).apply(plan))
    assert not outcome.ok and "changed on disk meanwhile" in outcome.reason
    assert (tmp_path / "a.py").read_text() == BASE + "late\n"
