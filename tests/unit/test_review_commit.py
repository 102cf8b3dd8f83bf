"""The commit engine (review/commit.py, staging.py, revert.py) on real git repositories and a real
SQLite store, without a model: what goes into the commit when the user's edits sit right beside
the task's, files the task created, deleted and moved, and the refusals (entangled lines, an
ignored file, a file git does not have yet, a running task, a revert that no longer applies).
The message writer is a plain function here; the cheap model writes it in tests/e2e/test_commit.py."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gdm.context.workspace import NoBuffers, WorkspaceView
from gdm.patches.book import PatchBook
from gdm.patches.model import FilePatch, HunkStatus, PatchKind, make_patch, make_rename
from gdm.review.appliers import DiskApplier
from gdm.review.commit import CommitRefused, CommitRequest, Committer
from gdm.review.history import CommittedTask, undo_task
from gdm.review.revert import revert
from gdm.review.service import Review
from gdm.store import open_store
from tests.e2e.gitrepo import GitRepo

CALC = ('"""calc"""\n\n\ndef add(a, b):\n    return a + b\n\n\ndef divide(a, b):\n    """Return a / b."""\n'
        '    return a / b\n')
GUARDED = CALC.replace("    return a / b\n", "    if b == 0:\n        raise ZeroDivisionError\n    return a / b\n")


class World:
    """A workspace under git, a store with one session and its tasks, and a patch book."""

    def __init__(self, tmp: Path, files: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
        self.root = tmp / "ws"
        self.root.mkdir()
        for rel, text in files.items():
            (self.root / rel).parent.mkdir(parents=True, exist_ok=True)
            (self.root / rel).write_text(text)
        self.repo = GitRepo(self.root, tmp)
        for name, value in self.repo.env.items():  # the engine's git runs in this process
            if name.startswith("GIT_"):
                monkeypatch.setenv(name, value)
        self.store = open_store(f"sqlite:///{tmp / 'c.db'}")
        self.store.start_session("s-1", str(self.root.resolve()), "openai/m")
        self.book = PatchBook()
        self.review = Review(WorkspaceView(self.root, NoBuffers(), self.book), self.book, lambda t: f"label {t}")
        self.asked: list[tuple] = []

    def task(self, task_id: str, prompt: str, *patches: FilePatch, answer: str | None = None) -> None:
        """A finished task whose patches are all accepted (and on disk, as the caller wrote them)."""
        self.store.start_task(task_id, "s-1", prompt)
        if answer is not None:
            self.store.add_turn(task_id, 0, "openai/m", {"messages": []},
                                {"choices": [{"message": {"role": "assistant", "content": answer}}]}, 1, 1, None)
        self.store.finish_task(task_id, "done")
        for patch in patches:
            for hunk in patch.hunks:
                hunk.status = HunkStatus.ACCEPTED
            patch.decision = HunkStatus.ACCEPTED
            self.book.put(patch, notify=False)

    def write(self, rel: str, text: str) -> None:
        (self.root / rel).write_text(text)

    async def writer(self, task_id: str, prompts: list[str], summaries: list[str], diff: str) -> str | None:
        self.asked.append((task_id, prompts, summaries, diff))
        return None  # no cheap model: the engine writes the message itself

    def committer(self, trailer: str = "Assisted-by: gdm (<model>)", running=()) -> Committer:
        return Committer(self.review, self.store, "s-1", self.writer, trailer, "openai/settings", running)

    def commit(self, *task_ids: str, **kwargs) -> dict:
        return asyncio.run(self.committer().commit(CommitRequest(task_ids, **kwargs)))

    def refused(self, *task_ids: str, reason: str, running=()) -> str:
        with pytest.raises(CommitRefused) as caught:
            asyncio.run(self.committer(running=running).commit(CommitRequest(task_ids)))
        assert caught.value.reason == reason, caught.value
        return str(caught.value)


def patch(task_id: str, n: int, path: str, old: str, new: str, kind: str | None = None) -> FilePatch:
    kind = kind or ("create" if old == "" else "delete" if new == "" else "modify")
    return make_patch(patch_id=f"{task_id}-p{n}", task_id=task_id, path=path, base_text=old, new_text=new,
                      kind=PatchKind(kind))


def test_the_users_edit_right_beside_the_tasks_hunk_stays_out_and_unstaged(tmp_path, monkeypatch):
    w = World(tmp_path, {"calc.py": CALC}, monkeypatch)
    w.task("t-1", "Guard divide\n\nRaise on a zero divisor.", patch("t-1", 1, "calc.py", CALC, GUARDED),
           answer="divide() now raises on zero.")
    # The user rewrites the docstring right above the task's lines (inside its context).
    mine = GUARDED.replace('"""Return a / b."""', '"""Divide a by b."""')
    w.write("calc.py", mine)
    result = w.commit("t-1")
    assert w.repo.show("HEAD", "calc.py") == GUARDED
    assert (w.root / "calc.py").read_text() == mine
    assert w.repo.git("diff", "--cached") == "" and "+    \"\"\"Divide a by b.\"\"\"" in w.repo.git("diff")
    # No cheap model: the prompt's first line is the subject, the rest of it and the answer the body.
    assert result["message"] == ("Guard divide\n\nRaise on a zero divisor.\n\ndivide() now raises on zero.\n\n"
                                 "Assisted-by: gdm (openai/m)\n")
    assert w.asked[0][1:3] == (["Guard divide\n\nRaise on a zero divisor."], ["divide() now raises on zero."])
    assert "+        raise ZeroDivisionError" in w.asked[0][3]
    assert w.store.get_task("t-1")["commit_id"] == result["commit"]
    rows = w.store.task_audit(["t-1"], ["commit"])
    assert rows[0]["detail"]["commit"] == result["commit"] and rows[0]["detail"]["hunks"] == {"t-1-p1": [0]}


def test_a_hunk_on_lines_only_the_users_uncommitted_edit_has_is_refused_as_entangled(tmp_path, monkeypatch):
    w = World(tmp_path, {"calc.py": CALC}, monkeypatch)
    todo = CALC.replace("    return a / b\n", "    # TODO: zero\n    return a / b\n")  # the user's, not committed
    w.write("calc.py", todo)
    done = todo.replace("    # TODO: zero\n", "    if b == 0:\n        raise ZeroDivisionError\n")
    w.task("t-1", "Do the TODO", patch("t-1", 1, "calc.py", todo, done))
    w.write("calc.py", done)
    message = w.refused("t-1", reason="entangled")
    assert "calc.py (near line 10)" in message and "commit or stash your edits there first" in message
    assert w.repo.head() == w.repo.first and w.store.get_task("t-1")["commit_id"] is None


def test_created_deleted_and_moved_files_with_an_edit_and_a_squash(tmp_path, monkeypatch):
    w = World(tmp_path, {"calc.py": CALC, "old.txt": "old\n", "pkg/a.py": "A = 1\n"}, monkeypatch)
    w.task("t-1", "Add notes, drop old.txt", patch("t-1", 1, "NOTES.md", "", "# Notes\n"),
           patch("t-1", 2, "old.txt", "old\n", ""))
    w.write("NOTES.md", "# Notes\n")
    (w.root / "old.txt").unlink()
    # A second task moves pkg/a.py to pkg/b.py and edits it there.
    w.task("t-2", "Rename a to b", make_rename(patch_id="t-2-p1", task_id="t-2", path="pkg/a.py", new_path="pkg/b.py",
                                                text="A = 1\n"), patch("t-2", 2, "pkg/b.py", "A = 1\n", "A = 2\n"))
    (w.root / "pkg" / "a.py").rename(w.root / "pkg" / "b.py")
    w.write("pkg/b.py", "A = 2\n")
    result = w.commit("t-1", "t-2")
    assert result["taskIds"] == ["t-1", "t-2"]
    assert result["files"] == ["NOTES.md", "old.txt", "pkg/a.py", "pkg/b.py"]
    names = w.repo.git("show", "--name-status", "--format=", "HEAD").split("\n")
    assert sorted(n for n in names if n) == ["A\tNOTES.md", "A\tpkg/b.py", "D\told.txt", "D\tpkg/a.py"]
    assert w.repo.show("HEAD", "pkg/b.py") == "A = 2\n" and w.repo.git("status", "--porcelain") == ""
    # Two tasks without a cheap model: the first's prompt is the subject, the second's the body.
    assert result["message"] == "Add notes, drop old.txt\n\nRename a to b\n\nAssisted-by: gdm (openai/settings)\n"


def test_refusals_ignored_file_not_in_git_running_and_nothing_to_commit(tmp_path, monkeypatch):
    w = World(tmp_path, {"calc.py": CALC, ".gitignore": "build/\n"}, monkeypatch)
    (w.root / "build").mkdir()
    w.task("t-ign", "Write build output", patch("t-ign", 1, "build/out.txt", "", "x\n"))
    w.write("build/out.txt", "x\n")
    assert "ignored by git" in w.refused("t-ign", reason="ignored")
    w.write("new.py", "N = 1\n")  # the user's file, never committed
    w.task("t-new", "Edit new.py", patch("t-new", 1, "new.py", "N = 1\n", "N = 2\n"))
    w.write("new.py", "N = 2\n")
    assert "new.py is not in the last commit" in w.refused("t-new", reason="notCommitted")
    w.task("t-run", "Guard", patch("t-run", 1, "calc.py", CALC, GUARDED))
    w.write("calc.py", GUARDED)
    assert "still running" in w.refused("t-run", reason="running", running=("t-run",))
    w.repo.git("commit", "-qam", "the user committed it all")
    assert "already holds the task's accepted changes" in w.refused("t-run", reason="nothingToCommit")
    assert "unknown task 't-none'" in w.refused("t-none", reason="unknownTask")


def test_a_revert_refused_when_a_later_commit_changed_its_lines(tmp_path, monkeypatch):
    w = World(tmp_path, {"calc.py": CALC}, monkeypatch)
    w.task("t-1", "Guard", patch("t-1", 1, "calc.py", CALC, GUARDED))
    w.write("calc.py", GUARDED)
    sha = w.commit("t-1")["commit"]
    w.write("calc.py", GUARDED.replace("raise ZeroDivisionError", "raise ValueError"))
    w.repo.git("commit", "-qam", "the user changed the guard")
    with pytest.raises(CommitRefused) as caught:
        revert(w.review.view, sha, "")
    assert caught.value.reason == "revertConflict" and "cannot be reverted cleanly" in str(caught.value)
    w.repo.git("checkout", "-q", "-b", "other", w.repo.first)
    with pytest.raises(CommitRefused) as caught:
        revert(w.review.view, sha, "")
    assert caught.value.reason == "notOnBranch"


def test_undo_of_a_committed_squash_asks_then_reverts_every_task_of_it_or_the_files_only(tmp_path, monkeypatch):
    w = World(tmp_path, {"calc.py": CALC, "b.py": "B = 1\n"}, monkeypatch)
    w.task("t-1", "Guard", patch("t-1", 1, "calc.py", CALC, GUARDED))
    w.task("t-2", "Bump B", patch("t-2", 1, "b.py", "B = 1\n", "B = 2\n"))
    w.write("calc.py", GUARDED)
    w.write("b.py", "B = 2\n")
    sha = w.commit("t-1", "t-2", message="Guard and bump")["commit"]
    applier = DiskApplier(w.review.view)

    def undo(task_id: str, revert_commit: bool | None) -> dict:
        return asyncio.run(undo_task(w.review, w.store, "s-1", task_id, applier, revert_commit=revert_commit,
                                     trailer="Assisted-by: gdm (<model>)", model="openai/settings"))
    with pytest.raises(CommittedTask) as asked:
        undo("t-2", None)
    assert asked.value.commit == sha and asked.value.task_ids == ["t-1", "t-2"]
    assert f"committed as {sha[:12]} together with task(s) t-1" in str(asked.value) and w.repo.head() == sha
    result = undo("t-2", True)
    assert result["revertCommit"] == w.repo.head() and result["taskIds"] == ["t-1", "t-2"]
    assert result["applied"] is True and result["undoneHunks"] == 2, result
    assert w.repo.message() == (f'Revert "Guard and bump"\n\nThis reverts commit {sha}.\n\n'
                                "Assisted-by: gdm (openai/settings)\n")
    assert (w.root / "calc.py").read_text() == CALC and (w.root / "b.py").read_text() == "B = 1\n"
    assert w.repo.git("status", "--porcelain") == ""


def test_undo_of_a_committed_task_in_the_files_only_keeps_the_commit(tmp_path, monkeypatch):
    w = World(tmp_path, {"calc.py": CALC}, monkeypatch)
    w.task("t-1", "Guard", patch("t-1", 1, "calc.py", CALC, GUARDED))
    w.write("calc.py", GUARDED)
    sha = w.commit("t-1")["commit"]
    result = asyncio.run(undo_task(w.review, w.store, "s-1", "t-1", DiskApplier(w.review.view), revert_commit=False))
    assert result == {"applied": True, "conflicts": [], "undoneHunks": 1}
    assert w.repo.head() == sha and (w.root / "calc.py").read_text() == CALC
    assert w.repo.git("status", "--porcelain") == " M calc.py\n"
