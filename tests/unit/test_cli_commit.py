"""`gdm commit` headless, as a user runs it after `gdm ask --apply`: the task's hunks committed
alone (a change typed in the same file stays unstaged), the message given, no trailer with
GDM_COMMIT_TRAILER set empty; the audit shows it; `gdm undo` of the committed task asks for
--revert, which makes a revert commit; the refusals' exit codes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from gdm.scripted import ScriptedModel
from tests.conftest import FIXTURES
from tests.e2e.editor import server_env
from tests.e2e.gitrepo import GitRepo, git_env
from tests.unit.test_cli import gdm

TASK = "Guard divide and document add"


@pytest.fixture
def commit_model() -> Iterator[ScriptedModel]:
    with ScriptedModel(json.loads((FIXTURES / "scripts" / "commit.json").read_text())) as model:
        yield model


def test_commit_undo_revert_and_audit_headless(workspace, tmp_path, commit_model):
    repo = GitRepo(workspace, tmp_path)
    env = server_env(tmp_path, GDM_MODEL="openai/scripted", GDM_API_BASE=commit_model.base_url,
                     GDM_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}", GDM_TEST_COMMAND="true",
                     GDM_CHECK_COMMANDS="true", GDM_COMMIT_TRAILER="", **git_env(tmp_path))
    asked = gdm("ask", TASK, "--workspace", str(workspace), "--apply", env=env)
    assert asked.returncode == 0 and "applied calc.py (3 hunk(s))" in asked.stdout, asked.stdout + asked.stderr
    task_id = re.search(r"pending patch (t-[0-9a-f]+)-p", asked.stdout).group(1)
    with_task = (workspace / "calc.py").read_text()
    (workspace / "calc.py").write_text("# typed after the task\n" + with_task)

    dry = gdm("commit", task_id, "--workspace", str(workspace), "--dry-run", "-m", "Guard divide", env=env)
    assert dry.returncode == 0 and dry.stdout.startswith(f"would commit on main (task(s) {task_id}): calc.py")
    assert repo.head() == repo.first
    done = gdm("commit", task_id, "--workspace", str(workspace), "-m", "Guard divide\n\nAs asked.", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    sha = repo.head()
    assert done.stdout.startswith(f"committed {sha[:12]} on main (task(s) {task_id}): calc.py")
    assert repo.message() == "Guard divide\n\nAs asked.\n"  # GDM_COMMIT_TRAILER="": no trailer
    assert repo.show("HEAD", "calc.py") == with_task
    added = [line for line in repo.git("diff").splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert added == ["+# typed after the task"]
    assert repo.git("diff", "--cached") == ""

    audit = gdm("audit", "--kind", "commit", "--format", "json", env=env)
    rows = json.loads(audit.stdout)
    assert [(r["task"], r["kind"], r["detail"]["commit"]) for r in rows] == [(task_id, "commit", sha)]
    again = gdm("commit", task_id, "--workspace", str(workspace), env=env)
    assert again.returncode == 2 and f"committed already as {sha[:12]}" in again.stdout

    asks = gdm("undo", task_id, "--workspace", str(workspace), env=env)
    assert asks.returncode == 2 and "pass --revert for a revert commit, or --files-only" in asks.stdout
    assert repo.head() == sha
    undone = gdm("undo", task_id, "--workspace", str(workspace), "--revert", env=env)
    assert undone.returncode == 0, undone.stdout + undone.stderr
    assert repo.message() == f'Revert "Guard divide"\n\nThis reverts commit {sha}.\n'
    assert f"undid 3 change(s) of task {task_id}" in undone.stdout
    assert (workspace / "calc.py").read_text() == "# typed after the task\n" + repo.show(repo.first, "calc.py")
    assert repo.git("status", "--porcelain") == " M calc.py\n"


def test_commit_refusals_headless(workspace, tmp_path, commit_model):
    env = server_env(tmp_path, GDM_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}", **git_env(tmp_path))
    outside = gdm("commit", "t-nosuch", "--workspace", str(workspace), env=env)
    assert outside.returncode == 2 and "unknown task 't-nosuch'" in outside.stdout
    both = gdm("commit", "t-1", "--conversation", "c-1", "--workspace", str(workspace), env=env)
    assert both.returncode == 2 and "name the task(s) or --conversation C" in both.stderr
    empty = gdm("commit", "t-1", "-m", " ", "--workspace", str(workspace), env=env)
    assert empty.returncode == 2 and "--message is empty" in empty.stderr
    env.update(GDM_MODEL="openai/scripted", GDM_API_BASE=commit_model.base_url, GDM_TEST_COMMAND="true",
               GDM_CHECK_COMMANDS="true")
    asked = gdm("ask", TASK, "--workspace", str(workspace), "--apply", env=env)
    task_id = re.search(r"pending patch (t-[0-9a-f]+)-p", asked.stdout).group(1)
    no_git = gdm("commit", task_id, "--workspace", str(workspace), env=env)
    assert no_git.returncode == 2 and "is not in a git repository" in no_git.stdout
    repo = GitRepo(workspace, tmp_path)  # the task's changes are in the first commit now
    repo.hook("pre-commit", "echo 'hook says no' >&2\nexit 1\n")
    nothing = gdm("commit", task_id, "--workspace", str(workspace), env=env)
    assert nothing.returncode == 2 and "already holds the task's accepted changes" in nothing.stdout
    (workspace / "calc.py").write_text(repo.show("HEAD", "calc.py").replace("raise ZeroDivisionError", "raise X"))
    changed = gdm("commit", task_id, "--workspace", str(workspace), env=env)
    assert changed.returncode == 2 and "the accepted lines changed since" in changed.stdout
