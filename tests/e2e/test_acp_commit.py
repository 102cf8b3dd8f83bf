"""`/commit` over ACP (the SDK's client side against `gdm acp` and the scripted model, on a real git
repository the test makes): the session's accepted changes become one commit with the message
given after the command; a later prompt's changes the next commit; unsaved editor text refused."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from gdm.scripted import ScriptedModel
from tests.conftest import FIXTURES
from tests.e2e.acp_client import ACCEPT_ALL, EditorClient, ask, new_session, start_agent
from tests.e2e.gitrepo import GitRepo, git_env
from tests.e2e.test_acp import gdm_settings


@pytest.fixture
def commit_model() -> Iterator[ScriptedModel]:
    with ScriptedModel(json.loads((FIXTURES / "scripts" / "commit.json").read_text())) as model:
        yield model


async def test_commit_command_commits_the_sessions_accepted_changes(workspace, tmp_path, commit_model, monkeypatch):
    repo = GitRepo(workspace, tmp_path)
    for name, value in git_env(tmp_path).items():  # the agent's git: the test's configuration only
        monkeypatch.setenv(name, value)
    client = EditorClient(permission=ACCEPT_ALL)
    async with start_agent(client, tmp_path) as (conn, _proc):
        sid = await new_session(conn, workspace, gdm_settings(commit_model, tmp_path, commitTrailer="",
                                                              checkCommands=[]))
        assert (await ask(conn, sid, "Guard divide and document add")).stop_reason == "end_turn"
        assert "ZeroDivisionError" in (workspace / "calc.py").read_text()
        before = len(client.of(sid, "agent_message_chunk"))

        answer = await ask(conn, sid, "/commit Guard divide\n\nFrom ACP.")
        assert answer.stop_reason == "end_turn"
        sha = repo.head()
        said = "".join(u.content.text for u in client.of(sid, "agent_message_chunk")[before:])
        assert said == f"Committed {sha[:12]} on main: Guard divide\n\nFiles: calc.py"
        assert repo.message() == "Guard divide\n\nFrom ACP.\n" and repo.git("status", "--porcelain") == ""

        assert (await ask(conn, sid, "Note the guard in NOTES.md")).stop_reason == "end_turn"
        client.buffers[str(workspace / "NOTES.md")] = "# Notes\n\nunsaved in the editor\n"
        before = len(client.of(sid, "agent_message_chunk"))
        await ask(conn, sid, "/commit")
        said = "".join(u.content.text for u in client.of(sid, "agent_message_chunk")[before:])
        assert said.startswith("gdm: nothing was committed: unsaved changes in NOTES.md") and repo.head() == sha
        client.buffers.clear()
        await ask(conn, sid, "/commit")
        assert repo.git("rev-parse", "HEAD~1").strip() == sha
        assert repo.git("show", "--name-only", "--format=", "HEAD").split() == ["NOTES.md"]
        assert repo.message() == "Note the guard in NOTES.md\n\nWrote NOTES.md.\n"  # no cheap model: the task itself
