"""A task becomes a commit, over LSP with the scripted model on a real git repository the test
makes: exactly the accepted hunks go in, the user's own edit in the same file stays unstaged, the
message is the cheap model's with the trailer; a failing pre-commit hook refuses it with the
hook's output; an SSH-signed commit; undoing a committed task makes a revert commit; a
conversation's tasks squashed into one commit."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from gdm.commands import Command
from gdm.scripted import ScriptedModel
from tests.conftest import FIXTURES, scripted_settings
from tests.e2e.editor import server_env, start_editor, stop_editor
from tests.e2e.gitrepo import AUTHOR, GitRepo, git_env
from tests.e2e.test_review import actions_at, asked

TASK = "Guard divide and document add"
SUBJECT = "Guard divide() against a zero divisor"
BODY = "Division by zero now raises a ZeroDivisionError that names b, and\nadd() says what it returns."
USER_EDIT = "\n\ndef square(x: float) -> float:\n    return x * x\n"
REQUEST_FAILED = -32803


@pytest.fixture
def commit_model() -> Iterator[ScriptedModel]:
    with ScriptedModel(json.loads((FIXTURES / "scripts" / "commit.json").read_text())) as model:
        yield model


@pytest.fixture
def repo(workspace, tmp_path) -> GitRepo:
    return GitRepo(workspace, tmp_path)


def settings_for(model: ScriptedModel, tmp_path, **extra) -> dict:
    return scripted_settings(model, tmp_path, cheapModel="openai/scripted", testCommand="true", checkCommands=[],
                             **extra)


async def editor_for(workspace, tmp_path, settings: dict):
    return await start_editor(workspace, tmp_path, init_options=settings, env=server_env(tmp_path, **git_env(tmp_path)))


async def commit(editor, **payload) -> dict:
    return await editor.command(Command.TASK_COMMIT.identifier, payload)


async def refused(editor, payload: dict, reason: str, paths: list[str] | None = None) -> str:
    """The commit is refused with RequestFailed and this reason (and files); the error's message."""
    with pytest.raises(JsonRpcException) as caught:
        await editor.command(Command.TASK_COMMIT.identifier, payload)
    assert caught.value.code == REQUEST_FAILED, caught.value
    assert caught.value.data["reason"] == reason, caught.value.data
    assert caught.value.data["paths"] == (paths or []), caught.value.data
    return caught.value.message


async def two_of_three(editor) -> tuple[str, dict]:
    """Run the task; accept hunks 0 and 1 of its three in calc.py, reject hunk 2."""
    await editor.open("calc.py")
    task_id = await asked(editor, TASK)
    patch = [p for p in editor.notes["gdm/patchProposed"] if p["taskId"] == task_id][-1]
    assert len(patch["hunks"]) == 3, patch["diff"]
    accepted = await editor.command(Command.PATCH_ACCEPT.identifier, {"patchId": patch["patchId"], "hunks": [0, 1]})
    assert accepted["applied"] is True and accepted["appliedHunks"] == [0, 1], accepted
    return task_id, patch


def commit_lenses(lenses) -> list:
    return [lens for lens in lenses if lens.command.command == Command.TASK_COMMIT.identifier]


async def test_commit_holds_exactly_the_accepted_hunks_and_leaves_the_users_edit_unstaged(
        workspace, tmp_path, repo, commit_model):
    original = (workspace / "calc.py").read_text()
    editor, _ = await editor_for(workspace, tmp_path, settings_for(commit_model, tmp_path))
    try:
        task_id, patch = await two_of_three(editor)
        assert commit_lenses(await editor.lenses("calc.py")) == []  # hunk 2 still waits for a decision
        await editor.command(Command.PATCH_REJECT.identifier, {"patchId": patch["patchId"], "hunks": [2]})
        lenses = commit_lenses(await editor.lenses("calc.py"))
        assert [lens.command.title for lens in lenses] == ["✓ Commit this task"]
        assert list(lenses[0].command.arguments) == [{"taskId": task_id}]
        # Editors without lenses: the same command as a code action anywhere in the file.
        action = [a for a in await actions_at(editor, "calc.py", 0) if a.title.startswith("gdm: Commit task")]
        assert [a.title for a in action] == ["gdm: Commit task “Guard divide and document”"]  # the cheap model's title
        assert list(action[0].command.arguments) == [{"taskId": task_id}]
        # The user types an unrelated function at the end of the same file.
        last = len(editor.text("calc.py").splitlines())
        await editor.type("calc.py", last, 0, USER_EDIT)
        message = await refused(editor, {"taskId": task_id}, "unsaved", ["calc.py"])
        assert "unsaved changes in calc.py" in message and repo.head() == repo.first
        editor.save("calc.py")

        result = await commit(editor, taskId=task_id)
        sha = result["commit"]
        assert sha == repo.head() and repo.git("rev-parse", "HEAD~1").strip() == repo.first
        assert result["files"] == ["calc.py"] and result["taskIds"] == [task_id] and result["branch"] == "main"
        trailer = "Assisted-by: gdm (openai/scripted)"
        assert result["message"] == f"{SUBJECT}\n\n{BODY}\n\n{trailer}\n"
        assert repo.message() == result["message"]
        assert len(SUBJECT) <= 72
        # Exactly hunks 0 and 1: the rejected hunk and the user's function are not in the commit.
        committed = repo.show("HEAD", "calc.py")
        guard = '    if b == 0:\n        raise ZeroDivisionError("b must not be zero")\n    return a / b'
        want = original.replace('"""Return a + b."""', '"""Return the sum of a and b."""').replace("    return a / b", guard)
        assert committed == want
        # The user's edit is still there, unstaged; nothing is staged.
        assert (workspace / "calc.py").read_text() == want + USER_EDIT
        assert repo.git("diff", "--cached") == ""
        unstaged = repo.git("diff", "-U0")
        assert "+def square(x: float) -> float:" in unstaged and "ZeroDivisionError" not in unstaged
        assert repo.git("log", "-1", "--format=%an <%ae>").strip() == f"{AUTHOR[0]} <{AUTHOR[1]}>"
        assert editor.messages()[-1].startswith(f"gdm: committed {sha[:12]} “{SUBJECT}” on main")

        listed = (await editor.command(Command.TASK_LIST.identifier, {}))["tasks"]
        assert listed[0]["taskId"] == task_id and listed[0]["commit"] == sha
        assert commit_lenses(await editor.lenses("calc.py")) == []  # committed: no lens any more
        undo_titles = [lens.command.title for lens in await editor.lenses("calc.py")
                       if lens.command.command == Command.TASK_UNDO.identifier]
        assert undo_titles == [f"↶ Undo task (revert {sha[:7]})"]
        again = await refused(editor, {"taskId": task_id}, "committed")
        assert f"committed already as {sha[:12]}" in again
    finally:
        await stop_editor(editor)


async def test_a_failing_hook_refuses_the_commit_with_its_output_then_a_signed_commit_without_trailer(
        workspace, tmp_path, repo, commit_model):
    repo.hook("pre-commit", "echo 'lint: calc.py:12: E999 refused by the team hook' >&2\nexit 1\n")
    # commitTrailer "" means no trailer (every other key treats "" as "not set").
    editor, _ = await editor_for(workspace, tmp_path, settings_for(commit_model, tmp_path, commitTrailer=""))
    try:
        task_id, _patch = await two_of_three(editor)
        editor.save("calc.py")
        message = await refused(editor, {"taskId": task_id, "message": "Guard divide\n\nMine."}, "gitFailed")
        assert "lint: calc.py:12: E999 refused by the team hook" in message and "nothing was committed" in message
        assert repo.head() == repo.first
        assert repo.git("status", "--porcelain") == " M calc.py\n"  # changed, not staged: the index is as it was
        assert (await editor.command(Command.TASK_LIST.identifier, {}))["tasks"][0]["commit"] is None

        (workspace / ".git" / "hooks" / "pre-commit").unlink()
        repo.ssh_signing(tmp_path)
        result = await commit(editor, taskId=task_id, message="Guard divide\n\nMine.")
        assert result["message"] == "Guard divide\n\nMine.\n" and repo.message() == result["message"]
        assert "-----BEGIN SSH SIGNATURE-----" in repo.git("cat-file", "commit", "HEAD")
        verified = repo.git("log", "-1", "--format=%G? %GS")
        assert verified.strip() == f"G {AUTHOR[1]}", verified
        repo.git("verify-commit", result["commit"])
    finally:
        await stop_editor(editor)


async def test_undo_of_a_committed_task_makes_a_revert_commit_and_keeps_the_users_edit(
        workspace, tmp_path, repo, commit_model):
    editor, _ = await editor_for(workspace, tmp_path, settings_for(commit_model, tmp_path))
    editor.answer_requests(["Revert the commit"])
    questions = editor.requests

    try:
        task_id, _patch = await two_of_three(editor)
        last = len(editor.text("calc.py").splitlines())
        await editor.type("calc.py", last, 0, USER_EDIT)
        editor.save("calc.py")
        sha = (await commit(editor, taskId=task_id))["commit"]

        result = await editor.command(Command.TASK_UNDO.identifier, {"taskId": task_id})
        assert [a.title for a in questions[0].actions] == ["Revert the commit", "Undo in the files only", "Cancel"]
        assert f"committed as {sha[:12]}" in questions[0].message
        revert = result["revertCommit"]
        assert revert == repo.head() and result["applied"] is True and result["undoneHunks"] == 2, result
        assert result["taskIds"] == [task_id]
        assert repo.git("rev-parse", "HEAD~1").strip() == sha  # a new commit on top: history kept
        assert repo.message() == (f'Revert "{SUBJECT}"\n\nThis reverts commit {sha}.\n\n'
                                  f"Assisted-by: gdm (openai/scripted)\n")
        assert repo.git("rev-parse", "HEAD^{tree}") == repo.git("rev-parse", f"{repo.first}^{{tree}}")
        # The files: the task's lines went back in the editor (one applyEdit), the user's function stays.
        assert "ZeroDivisionError" not in editor.text("calc.py") and editor.text("calc.py").endswith(USER_EDIT)
        editor.save("calc.py")
        assert repo.git("diff", "--cached") == ""
        assert repo.git("status", "--porcelain") == " M calc.py\n"
        assert "+def square" in repo.git("diff") and "ZeroDivisionError" not in repo.git("diff")
        with pytest.raises(JsonRpcException, match="undone already"):
            await editor.command(Command.TASK_UNDO.identifier, {"taskId": task_id})
        audit = [e for e in (await editor.command(Command.TASK_LIST.identifier, {}))["tasks"] if e["taskId"] == task_id]
        assert audit[0]["commit"] == sha and audit[0]["accepted"] == 0
    finally:
        await stop_editor(editor)


async def test_a_conversation_squashed_into_one_commit(workspace, tmp_path, repo, commit_model):
    editor, _ = await editor_for(workspace, tmp_path, settings_for(commit_model, tmp_path))
    try:
        await editor.open("calc.py")
        first = await asked(editor, TASK)
        assert (await editor.command(Command.TASK_ACCEPT.identifier, {"taskId": first}))["applied"] is True
        follow = (await editor.command(Command.ASK.identifier, {"prompt": "Note the guard in NOTES.md",
                                                                "followUp": first}))["taskId"]
        assert (await editor.wait_done(follow))["status"] == "done"
        assert (await editor.command(Command.TASK_ACCEPT.identifier, {"taskId": follow}))["applied"] is True
        editor.save("calc.py")
        editor.save("NOTES.md")
        conversation = editor.events(first)[0]["conversationId"]
        preview = await commit(editor, conversationId=conversation, preview=True)
        assert preview["commit"] is None and repo.head() == repo.first
        assert preview["files"] == ["NOTES.md", "calc.py"] and preview["taskIds"] == [first, follow]

        result = await commit(editor, conversationId=conversation)
        assert result["commit"] == repo.head() and repo.git("rev-parse", "HEAD~1").strip() == repo.first
        assert repo.git("show", "--name-only", "--format=", "HEAD").split() == ["NOTES.md", "calc.py"]
        assert repo.show("HEAD", "NOTES.md") == "# Notes\n\ndivide() refuses b == 0.\n"
        assert "(not empty)" in repo.show("HEAD", "calc.py")
        assert repo.git("status", "--porcelain") == ""
        tasks = {t["taskId"]: t["commit"] for t in (await editor.command(Command.TASK_LIST.identifier, {}))["tasks"]}
        assert tasks == {first: result["commit"], follow: result["commit"]}
        message = await refused(editor, {"conversationId": conversation}, "nothingAccepted")
        assert "no task of conversation" in message
    finally:
        await stop_editor(editor)


async def test_bad_commit_requests_are_refused_clearly_and_change_nothing(workspace, tmp_path, repo, commit_model):
    editor, _ = await editor_for(workspace, tmp_path, settings_for(commit_model, tmp_path))
    name = Command.TASK_COMMIT.identifier
    try:
        for payload, words in ((None, "one-element list"), ({}, "exactly one of taskId, taskIds, conversationId"),
                               ({"taskId": "t-1", "conversationId": "c-1"}, "got taskId, conversationId"),
                               ({"taskIds": []}, "taskIds"), ({"taskId": "t-1", "message": "  "}, "message is empty"),
                               ({"taskId": 7}, "taskId")):
            with pytest.raises(JsonRpcInvalidParams, match=words):
                await editor.command(name, payload, raw_args=[] if payload is None else None)
        with pytest.raises(JsonRpcInvalidParams, match="unknown task 't-nosuch'"):
            await commit(editor, taskId="t-nosuch")
        with pytest.raises(JsonRpcInvalidParams, match="unknown conversation"):
            await commit(editor, conversationId="c-nosuch")
        await editor.open("calc.py")
        task_id = await asked(editor, TASK)
        assert "has nothing accepted to commit" in await refused(editor, {"taskId": task_id}, "nothingAccepted")
        patch = [p for p in editor.notes["gdm/patchProposed"] if p["taskId"] == task_id][-1]
        await editor.command(Command.PATCH_ACCEPT.identifier, {"patchId": patch["patchId"], "hunks": [0, 1]})
        editor.save("calc.py")

        repo.git("checkout", "-q", "--detach")
        assert "HEAD is detached" in await refused(editor, {"taskId": task_id}, "detachedHead")
        repo.git("checkout", "-q", "main")
        (workspace / ".git" / "rebase-merge").mkdir()
        assert "in the middle of a rebase" in await refused(editor, {"taskId": task_id}, "inProgress")
        (workspace / ".git" / "rebase-merge").rmdir()
        # Other changes of the same file staged by the user: not mixed into the task's commit.
        await editor.type("calc.py", len(editor.text("calc.py").splitlines()), 0, "# staged by me\n")
        editor.save("calc.py")
        repo.git("add", "calc.py")
        assert "calc.py has other changes staged" in await refused(editor, {"taskId": task_id}, "staged", ["calc.py"])
        repo.git("reset", "-q", "calc.py")
        # The user rewrote one of the accepted lines since: which one is said, nothing is committed.
        guard, mine = '        raise ZeroDivisionError("b must not be zero")', '        raise ValueError("no zero")'
        line = editor.text("calc.py").splitlines().index(guard)
        await editor.type("calc.py", line, 0, mine, end=(line, len(guard)))
        editor.save("calc.py")
        message = await refused(editor, {"taskId": task_id}, "changedSince")
        assert "the accepted lines changed since" in message and "calc.py hunk 1: the lines it replaces" in message
        assert repo.head() == repo.first and repo.git("diff", "--cached") == ""
        # A preview writes the message without committing anything.
        await editor.type("calc.py", line, 0, guard, end=(line, len(mine)))
        editor.save("calc.py")
        preview = await commit(editor, taskId=task_id, preview=True)
        assert preview["commit"] is None and preview["message"].startswith(SUBJECT) and repo.head() == repo.first
    finally:
        await stop_editor(editor)


async def test_commit_outside_a_git_repository_is_refused(workspace, tmp_path, commit_model):
    editor, _ = await editor_for(workspace, tmp_path, settings_for(commit_model, tmp_path))
    try:
        await editor.open("calc.py")
        task_id = await asked(editor, TASK)
        assert (await editor.command(Command.TASK_ACCEPT.identifier, {"taskId": task_id}))["applied"] is True
        editor.save("calc.py")
        assert commit_lenses(await editor.lenses("calc.py")) == []  # no git: no lens
        message = await refused(editor, {"taskId": task_id}, "notGit")
        assert "is not in a git repository" in message
    finally:
        await stop_editor(editor)
