"""MCP tools end to end over LSP: real servers (mcp-server-git, server-everything, gdm's fault
server), the scripted model, approvals, policies, timeouts, crashes, workspace-defined servers.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from gdm.commands import Command
from gdm.scripted import ScriptedModel
from lsprotocol import types as lsp

from tests.conftest import FIXTURES, scripted_settings
from tests.e2e.editor import (
    server_env,
    start_editor,
    stop_editor,
    stop_editor_like_vscode,
)
from tests.mcp_servers import (
    alive,
    everything_http_server,
    everything_server,
    fault_server,
    git_server,
    pids,
)

SECRET = "sk-proj-notarealkeybutlookslikeone0123456789"


@pytest.fixture
def mcp_model() -> Iterator[ScriptedModel]:
    with ScriptedModel(json.loads((FIXTURES / "scripts" / "mcp.json").read_text())) as model:
        yield model


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with a committed file and an uncommitted line in it."""
    root = tmp_path / "repo"
    root.mkdir()
    (root / "notes.txt").write_text("first line\n")
    git = ["git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    subprocess.run([*git, "-C", str(root), "add", "notes.txt"], check=True)
    subprocess.run([*git, "-C", str(root), "commit", "-qm", "first"], check=True)
    (root / "notes.txt").write_text("first line\na line the user added\n")
    return root


async def open_editor(root: Path, tmp_path: Path, model: ScriptedModel, answers: list[str] | None = None,
                      env: dict[str, str] | None = None, **settings):
    """An editor on `root`; each showMessageRequest takes the next of `answers` (none left: no answer)."""
    init = scripted_settings(model, tmp_path, user="tester", **settings)
    editor, _ = await start_editor(root, tmp_path, init_options=init,
                                   env=server_env(tmp_path, OPENAI_API_KEY=SECRET, **(env or {})))
    editor.answer_requests(answers or [])
    await editor.wait_for(lambda: editor.notes["gdm/costUpdate"])
    return editor


async def run(editor, prompt: str, timeout: float = 90) -> tuple[str, dict]:
    task_id = (await editor.command(Command.ASK.identifier, {"prompt": prompt}))["taskId"]
    return task_id, await editor.wait_done(task_id, timeout)


def results(editor, task_id: str) -> list[dict]:
    return editor.events(task_id, "toolResult")


def audit(tmp_path: Path) -> list[dict]:
    db = sqlite3.connect(tmp_path / "gdm.db")
    rows = db.execute("select detail_json from audit where kind = 'mcp' order by id").fetchall()
    return [json.loads(d) for (d,) in rows]


async def gone(pid: int, timeout: float = 20) -> bool:
    for _ in range(int(timeout / 0.05)):
        if not alive(pid):
            return True
        await asyncio.sleep(0.05)
    return not alive(pid)


def tool_schema(request: dict, name: str) -> dict | None:
    for tool in request.get("tools") or []:
        if tool["function"]["name"] == name:
            return tool["function"]
    return None


async def test_git_status_and_diff_of_an_uncommitted_change_reach_the_model(repo, tmp_path, mcp_model):
    editor = await open_editor(repo, tmp_path, mcp_model, mcpServers={"git": git_server()}, mcpPolicy="allow")
    try:
        task_id, done = await run(editor, "MCP git: status and diff")
        assert done["status"] == "done" and mcp_model.failures == [], editor.events(task_id)
        last = mcp_model.requests[-1]
        tool_messages = [m["content"] for m in last["messages"] if m["role"] == "tool"]
        assert any("modified:   notes.txt" in m for m in tool_messages)
        assert any("+a line the user added" in m for m in tool_messages)
        status = tool_schema(last, "mcp__git__git_status")
        assert status is not None and status["parameters"]["required"] == ["repo_path"]
        assert status["parameters"]["properties"]["repo_path"]["type"] == "string"
        assert tool_schema(last, "read_file") is not None  # gdm's own tools stay
        rows = audit(tmp_path)
        assert [(r["tool"], r["decision"], r["reason"], r["by"]) for r in rows] == [
            ("mcp__git__git_status", "allow_once", "mcp policy allow", "tester"),
            ("mcp__git__git_diff_unstaged", "allow_once", "mcp policy allow", "tester")]
        assert rows[0]["server"] == "git" and rows[0]["arguments"] == {"repo_path": "."}
    finally:
        await stop_editor(editor)


async def test_everything_server_structured_content_and_image(tmp_path, mcp_model, workspace):
    editor = await open_editor(workspace, tmp_path, mcp_model, mcpServers={"everything": everything_server()},
                               mcpPolicy="allow")
    try:
        task_id, done = await run(editor, "MCP everything: structured and image")
        assert done["status"] == "done" and mcp_model.failures == [], editor.events(task_id)
        structured, image = (r["result"] for r in results(editor, task_id))
        assert "temperature" in structured and "humidity" in structured
        assert "[image: image/png, 4,033 bytes; not shown to the model]" in image and len(image) < 300
        schema = tool_schema(mcp_model.requests[-1], "mcp__everything__get-structured-content")
        assert "$schema" not in schema["parameters"]  # dropped: some providers refuse it
        assert schema["parameters"]["properties"]["location"]["enum"] == ["New York", "Chicago", "Los Angeles"]
    finally:
        await stop_editor(editor)


async def test_everything_server_over_streamable_http(tmp_path, mcp_model, workspace):
    """The same task with the server at a `url` (streamable HTTP, with `headers`) instead of a command:
    the tool list, the calls, their results and the audit rows are the same. (server-everything
    does not echo request headers, so that they arrive is not asserted here.)"""
    with everything_http_server(tmp_path / "everything-http.log") as url:
        server = {"url": url, "headers": {"X-Gdm-Test": "streamable"}}
        editor = await open_editor(workspace, tmp_path, mcp_model, mcpServers={"everything": server}, mcpPolicy="allow")
        try:
            task_id, done = await run(editor, "MCP everything: structured and image")
            assert done["status"] == "done" and mcp_model.failures == [], editor.events(task_id)
            structured, image = (r["result"] for r in results(editor, task_id))
            assert "temperature" in structured and "humidity" in structured
            assert "[image: image/png, 4,033 bytes; not shown to the model]" in image
            assert tool_schema(mcp_model.requests[-1], "mcp__everything__get-structured-content") is not None
            assert [(r["server"], r["policy"]) for r in audit(tmp_path)] == [("everything", "allow")] * 2
        finally:
            await stop_editor(editor)
        served = (tmp_path / "everything-http.log").read_text()
    assert "Received MCP POST request" in served  # the calls went over HTTP, not to a stdio child


async def test_ask_allow_once_deny_and_always_allow(tmp_path, mcp_model, workspace):
    log = tmp_path / "fault.log"
    answers = ["Allow once", "Deny", "Always allow this tool"]
    editor = await open_editor(workspace, tmp_path, mcp_model, answers, mcpServers={"fault": fault_server(log)})
    try:
        task_id, done = await run(editor, "MCP fault: echo twice")
        assert done["status"] == "done", editor.events(task_id)
        first, second = results(editor, task_id)
        assert first["ok"] and "echo: one" in first["result"]
        assert not second["ok"] and "denied by the user" in second["result"] and "echo: two" not in second["result"]
        request = editor.requests[0]
        assert "'echo'" in request.message and "'fault'" in request.message and '"text": "one"' in request.message
        assert [a.title for a in request.actions] == ["Allow once", "Always allow this tool", "Deny"]

        task_id, done = await run(editor, "MCP fault: echo twice")
        assert done["status"] == "done" and all(r["ok"] for r in results(editor, task_id))
        assert len(editor.requests) == 3  # "always" answered once, then remembered for the session
        assert [(r["decision"], r["reason"]) for r in audit(tmp_path)] == [
            ("allow_once", "user"), ("deny", "user"), ("always", "user"),
            ("always", "allowed earlier for this session")]
        pid = pids(log)[0]
    finally:
        await stop_editor(editor)
    assert await gone(pid)  # shutdown stops the servers


async def test_a_server_that_ignores_eof_and_sigterm_does_not_outlive_gdm(tmp_path, mcp_model, workspace):
    log = tmp_path / "fault.log"
    editor = await open_editor(workspace, tmp_path, mcp_model, mcpServers={"stubborn": fault_server(log, "--stubborn")},
                               mcpPolicy="allow")
    pid, exited = None, None
    try:
        task_id, done = await run(editor, "MCP stubborn: pid")
        assert done["status"] == "done" and mcp_model.failures == [], editor.events(task_id)
        [result] = results(editor, task_id)
        pid = int(result["result"])
        assert pids(log) == [pid] and alive(pid)
        tool_messages = [m["content"] for m in mcp_model.requests[-1]["messages"] if m["role"] == "tool"]
        assert tool_messages == [str(pid)]  # the pid the model saw is the one that must go
        # As VS Code's client stops a server: shutdown, exit, and SIGKILL after 2 s. gdm must have
        # stopped its MCP servers by then, or a server it had not yet killed outlives it.
        exited = await stop_editor_like_vscode(editor)
        assert await gone(pid, timeout=5), f"the stubborn MCP server outlived gdm (gdm exited by itself: {exited})"
        assert exited, "gdm did not exit within 2 s of `exit`"
    finally:
        if pid is not None and alive(pid):
            os.kill(pid, signal.SIGKILL)  # never left behind; it also holds gdm's stderr open
        if exited is None:
            await stop_editor(editor)
        else:
            await asyncio.wait_for(editor.client.stop(), 10)


async def test_deny_policy_never_asks_and_configuration_removal_stops_the_server(tmp_path, mcp_model, workspace):
    log = tmp_path / "fault.log"
    editor = await open_editor(workspace, tmp_path, mcp_model, ["Allow once"],
                               mcpServers={"fault": fault_server(log)}, mcpPolicy="deny")
    try:
        task_id, done = await run(editor, "MCP fault: echo twice")
        assert done["status"] == "done" and editor.requests == []
        assert all("was denied (mcp policy deny)" in r["result"] for r in results(editor, task_id))
        [pid] = pids(log)
        assert alive(pid)
        editor.client.set_configuration({"mcpServers": {}}, section="gdm")
        editor.client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(settings=None))
        assert await gone(pid)
    finally:
        await stop_editor(editor)


async def test_timeout_bad_results_and_a_crash_with_one_restart(tmp_path, mcp_model, workspace):
    log = tmp_path / "fault.log"
    editor = await open_editor(workspace, tmp_path, mcp_model, mcpServers={"fault": fault_server(log)},
                               mcpPolicy="allow", env={"GDM_TEST_MCP_CALL_TIMEOUT_S": "2"})
    try:
        task_id, done = await run(editor, "MCP fault: timeout then echo")
        assert done["status"] == "done" and mcp_model.failures == [], editor.events(task_id)
        assert len(pids(log)) == 1  # the server kept running through the timeout

        task_id, done = await run(editor, "MCP fault: bad results")
        assert done["status"] == "done" and mcp_model.failures == [], editor.events(task_id)
        huge = next(m for m in mcp_model.requests[-1]["messages"] if "HEAD-MARK" in str(m.get("content")))
        assert len(huge["content"]) < 21_000

        task_id, done = await run(editor, "MCP fault: crash keeps patches")
        assert done["status"] == "done" and mcp_model.failures == [], editor.events(task_id)
        assert len(done["patchIds"]) == 1  # the patch made before the crash stays reviewable
        listed = await editor.command(Command.PATCH_LIST.identifier)
        assert [p["path"] for p in listed["patches"]] == ["kept.txt"]
        first, second = pids(log)
        assert not alive(first) and alive(second)
        messages = editor.messages()
        assert any("did not answer within 2 s" in m for m in messages)
        assert any("is not offered to the model" in m and "bad_schema" in m for m in messages)
        assert any("exited" in m and "gdm restarted it" in m for m in messages)
        assert any("300,018 characters" in m for m in messages)
    finally:
        await stop_editor(editor)


async def test_servers_that_hang_or_answer_garbage_on_start_are_reported_once(tmp_path, mcp_model, workspace):
    log = tmp_path / "fault.log"
    servers = {"hang": fault_server(log, "--hang-on-start"), "junk": fault_server(log, "--garbage-on-start"),
               "missing": {"command": str(tmp_path / "no-such-server")}}
    editor = await open_editor(workspace, tmp_path, mcp_model, mcpServers=servers, mcpPolicy="allow",
                               env={"GDM_TEST_MCP_START_TIMEOUT_S": "3"})
    try:
        for _ in range(2):
            task_id, done = await run(editor, "MCP hang: the task goes on")
            assert done["status"] == "done" and mcp_model.failures == [], editor.events(task_id)
        failed = [m for m in editor.messages() if "did not start" in m]
        assert len(failed) == 3, failed  # once per server, not once per task
        assert any("'hang'" in m and "within 3 s" in m for m in failed)
        assert any("'missing'" in m and "not found" in m for m in failed)
        for pid in pids(log):
            assert await gone(pid)  # a server that never answered is not left behind
    finally:
        await stop_editor(editor)


async def test_workspace_defined_server_refused_until_allowed(tmp_path, mcp_model, workspace):
    log = tmp_path / "fault.log"
    (workspace / ".mcp.json").write_text(json.dumps({"mcpServers": {"fault": fault_server(log)}}))
    editor = await open_editor(workspace, tmp_path, mcp_model, ["Don't start"], mcpPolicy="allow")
    try:
        for _ in range(2):
            task_id, done = await run(editor, "MCP workspace: echo")
            assert done["status"] == "done"
            assert "Unknown tool" in results(editor, task_id)[0]["result"]
        [request] = editor.requests  # asked once, the answer remembered for the session
        assert ".mcp.json" in request.message and "fault_server.py" in request.message
        assert [a.title for a in request.actions] == ["Start it for this session", "Don't start"]
        assert pids(log) == []  # never started
    finally:
        await stop_editor(editor)
    editor = await open_editor(workspace, tmp_path, mcp_model, ["Start it for this session"], mcpPolicy="allow")
    try:
        task_id, done = await run(editor, "MCP workspace: echo")
        assert done["status"] == "done"
        assert "echo: from the workspace server" in results(editor, task_id)[0]["result"]
        assert len(pids(log)) == 1
        assert [r["decision"] for r in audit(tmp_path) if "source" in r] == ["refuse", "start"]
    finally:
        await stop_editor(editor)


async def test_mcp_list_over_lsp_and_headless_lists_servers_tools_and_workspace_offers(tmp_path, mcp_model, workspace):
    log, offered = tmp_path / "fault.log", tmp_path / "offered.log"
    (workspace / ".mcp.json").write_text(json.dumps({"mcpServers": {"wsfault": fault_server(offered)}}))
    editor = await open_editor(workspace, tmp_path, mcp_model, mcpServers={"fault": fault_server(log)})
    try:
        listed = (await editor.command(Command.MCP_LIST.identifier, {}))["servers"]
        rows = {row["name"]: row for row in listed}
        assert set(rows) == {"fault", "wsfault"}, listed
        assert rows["fault"]["status"] == "running" and rows["fault"]["source"] == "settings", rows["fault"]
        names = {t["name"] for t in rows["fault"]["tools"]}
        assert {"mcp__fault__echo", "mcp__fault__slow", "mcp__fault__whoami"} <= names, names
        assert rows["wsfault"]["status"].startswith("not started (defined by the workspace") and rows["wsfault"]["tools"] == [], rows["wsfault"]
        assert ".mcp.json" in rows["wsfault"]["source"], rows["wsfault"]
        assert len(pids(log)) == 1 and pids(offered) == []  # the workspace's server was not started
        # Asked again: the same started server, not a second one.
        again = (await editor.command(Command.MCP_LIST.identifier, {}))["servers"]
        assert {r["name"]: r["status"] for r in again} == {r["name"]: r["status"] for r in listed}
        assert len(pids(log)) == 1
        assert any("MCP server fault" in m.message and "mcp__fault__echo" in m.message for m in editor.client.log_messages)
    finally:
        await stop_editor(editor)

    # Headless: the same listing from a terminal, JSON; the workspace's server offered, not started.
    config = tmp_path / "mcp.json"
    config.write_text(json.dumps({"mcpServers": {"fault": fault_server(log)}}))
    proc = subprocess.run([sys.executable, "-m", "gdm.cli", "mcp", "list", "--workspace", str(workspace),
                           "--mcp-config", str(config), "--format", "json"],
                          capture_output=True, text=True, timeout=120, env=server_env(tmp_path))
    assert proc.returncode == 0, proc.stderr
    rows = {row["name"]: row for row in json.loads(proc.stdout)}
    assert rows["fault"]["status"] == "running" and "mcp__fault__echo" in {t["name"] for t in rows["fault"]["tools"]}
    assert rows["wsfault"]["status"].startswith("not started (defined by the workspace") and pids(offered) == []
