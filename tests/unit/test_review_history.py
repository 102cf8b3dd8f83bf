"""Task history against a real SQLite store: the refusals of an undo (unknown, other workspace,
still running, nothing accepted), patches of earlier sessions joining the book, and the task list."""

from __future__ import annotations

import asyncio

import pytest

from gdm.context.workspace import NoBuffers, WorkspaceView
from gdm.patches.book import PatchBook
from gdm.patches.model import HunkStatus, make_patch
from gdm.review.appliers import DiskApplier
from gdm.review.history import UndoRefused, check_undo, list_tasks, undo_task
from gdm.review.service import Review
from gdm.store import open_store

BASE = "a = 1\nb = 2\n"
NEW = "a = 1\nb = 3\n"


@pytest.fixture
def setup(tmp_path):
    root = tmp_path / "ws"
    root.mkdir()
    (root / "x.py").write_text(NEW)
    store = open_store(f"sqlite:///{tmp_path / 'h.db'}")
    store.start_session("s-old", str(root.resolve()), None)
    store.start_session("s-elsewhere", str(tmp_path / "other"), None)
    for task, session in (("t-1", "s-old"), ("t-2", "s-old"), ("t-far", "s-elsewhere")):
        store.start_task(task, session, f"prompt of {task}")
        store.finish_task(task, "done")
    patch = make_patch(patch_id="t-1-p1", task_id="t-1", path="x.py", base_text=BASE, new_text=NEW)
    patch.hunks[0].status = HunkStatus.ACCEPTED
    store.save_patch(patch.id, "t-1", "s-old", "x.py", patch.status.value, None, None, patch.to_dict())
    store.add_cost("s-old", "t-1", "m", 10, 5, 0.25)
    book = PatchBook()
    book.set_listener(lambda p: store.save_patch(p.id, p.task_id, "s-new", p.path, p.status.value, None, None,
                                                 p.to_dict()))
    store.start_session("s-new", str(root.resolve()), None)
    review = Review(WorkspaceView(root, NoBuffers(), book), book, lambda t: f"label {t}")
    yield store, review, root
    store.close()


@pytest.mark.parametrize("task_id, running, message", [
    ("t-nosuch", (), "unknown task 't-nosuch'"),
    (None, (), "unknown task None"),
    ("t-far", (), "unknown task 't-far' in this workspace"),
    ("t-1", ("t-1",), "still running"),
    ("t-2", (), "nothing accepted to undo (no patches)"),
])
def test_undo_refusals(setup, task_id, running, message):
    store, review, _ = setup
    with pytest.raises(UndoRefused, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_undo(store, review, task_id, running)


def test_an_earlier_sessions_task_is_undone_on_disk_and_listed(setup):
    store, review, root = setup
    assert review.book.get("t-1-p1") is None  # accepted in an earlier session: only in the store
    result = asyncio.run(undo_task(review, store, "s-new", "t-1", DiskApplier(review.view)))
    assert result == {"applied": True, "conflicts": [], "undoneHunks": 1}
    assert (root / "x.py").read_text() == BASE
    assert review.book.get("t-1-p1").hunks[0].status is HunkStatus.REJECTED
    audit = store.task_audit(["t-1"], ["undo"])
    assert len(audit) == 1 and audit[0]["detail"]["reverted"] == {"t-1-p1": [0]}
    with pytest.raises(UndoRefused, match="undone already"):
        check_undo(store, review, "t-1", ())
    tasks = list_tasks(store, review, {"t-2": "Second"}, limit=10)
    assert [t["taskId"] for t in tasks] == ["t-2", "t-1"]  # newest first, this workspace only
    assert tasks[0]["title"] == "Second" and tasks[1]["title"] is None
    assert tasks[1]["costUsd"] == 0.25 and tasks[1]["patchIds"] == ["t-1-p1"] and tasks[1]["accepted"] == 0
    assert list_tasks(store, review, {}, limit=1)[0]["taskId"] == "t-2"
