"""run_command end to end over LSP: approvals (Allow once, Always, Deny), policies, audit rows,
a scrubbed environment, timeouts and cancel killing the whole process group.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from lsprotocol import types as lsp

from gdm.commands import Command
from gdm.scripted import ScriptedModel
from tests.conftest import scripted_settings
from tests.e2e.editor import server_env, start_editor, stop_editor
from tests.procs import in_folder, none_in

SECRET_VALUE = "sk-proj-thisisnotarealkeybutlookslikeone1234"


async def open_editor(workspace: Path, tmp_path: Path, model: ScriptedModel, shell: str, answer: str | None = None):
    settings = scripted_settings(model, tmp_path, shell=shell)
    env = server_env(tmp_path, OPENAI_API_KEY=SECRET_VALUE, GDM_TEST_SECRET_TOKEN="tok-123456789",
                     HARMLESS_SETTING="visible-to-commands")
    ed, _ = await start_editor(workspace, tmp_path, init_options=settings, env=env)
    ed.requests = []

    @ed.client.feature(lsp.WINDOW_SHOW_MESSAGE_REQUEST)
    def show_request(params: lsp.ShowMessageRequestParams):
        ed.requests.append(params)
        return lsp.MessageActionItem(title=answer) if answer else None

    await ed.wait_for(lambda: ed.notes["gdm/costUpdate"])
    return ed


async def ask(editor, prompt: str) -> str:
    return (await editor.command(Command.ASK.identifier, {"prompt": prompt}))["taskId"]


def audit(tmp_path: Path) -> list[dict]:
    db = sqlite3.connect(tmp_path / "gdm.db")
    rows = db.execute("select task_id, detail_json from audit where kind = 'shell' order by id").fetchall()
    return [{"task": t, **json.loads(d)} for t, d in rows]


async def test_ask_allow_once_runs_in_the_workspace_and_is_audited(workspace, tmp_path, agent_model):
    editor = await open_editor(workspace, tmp_path, agent_model, "ask", "Allow once")
    try:
        task_id = await ask(editor, "Shell check, allowed")
        done = await editor.wait_done(task_id)
        assert done["status"] == "done" and agent_model.failures == [], editor.events(task_id)
        [request] = editor.requests
        assert "echo shell-says-hi; pwd" in request.message and str(workspace) in request.message
        assert [a.title for a in request.actions] == ["Allow once", "Always allow this command", "Deny"]
        result = editor.events(task_id, "toolResult")[0]
        assert result["ok"] and "shell-says-hi" in result["result"] and str(workspace) in result["result"]
        assert result["facts"] == {"exitCode": 0, "lastLine": str(workspace)}  # `pwd` printed last
        [row] = audit(tmp_path)
        assert row == {"task": task_id, "tool": "run_command", "command": "echo shell-says-hi; pwd",
                       "cwd": str(workspace), "policy": "ask", "decision": "allow_once", "by": "user", "sandbox": "on"}
        assert "runs sandboxed: no network, writes only in the workspace" in request.message
    finally:
        await stop_editor(editor)


async def test_ask_deny_does_not_run_and_is_audited(workspace, tmp_path, agent_model):
    editor = await open_editor(workspace, tmp_path, agent_model, "ask", "Deny")
    try:
        task_id = await ask(editor, "Shell check, denied")
        done = await editor.wait_done(task_id)
        assert done["status"] == "done" and agent_model.failures == [], editor.events(task_id)
        assert len(editor.requests) == 1
        result = editor.events(task_id, "toolResult")[0]
        assert not result["ok"] and "shell-says-hi" not in result["result"].replace("`echo shell-says-hi", "")
        assert result["facts"] == {}
        assert [r["decision"] for r in audit(tmp_path)] == ["deny"]
    finally:
        await stop_editor(editor)


async def test_always_allow_asks_once_per_session(workspace, tmp_path, agent_model):
    editor = await open_editor(workspace, tmp_path, agent_model, "ask", "Always allow this command")
    try:
        task_id = await ask(editor, "Shell check, always")
        done = await editor.wait_done(task_id)
        assert done["status"] == "done" and agent_model.failures == [], editor.events(task_id)
        assert len(editor.requests) == 1
        assert [(r["decision"], r["by"]) for r in audit(tmp_path)] == [
            ("always", "user"), ("always", "allowed earlier for this session")]
    finally:
        await stop_editor(editor)


async def test_deny_policy_never_asks_and_allow_policy_scrubs_secrets(workspace, tmp_path, agent_model):
    editor = await open_editor(workspace, tmp_path, agent_model, "deny", "Allow once")
    try:
        task_id = await ask(editor, "Shell check, denied")
        assert (await editor.wait_done(task_id))["status"] == "done"
        assert editor.requests == [] and audit(tmp_path)[0]["decision"] == "deny"
    finally:
        await stop_editor(editor)
    editor = await open_editor(workspace, tmp_path, agent_model, "allow")
    try:
        task_id = await ask(editor, "Shell check, environment")
        assert (await editor.wait_done(task_id))["status"] == "done", editor.events(task_id)
        output = editor.events(task_id, "toolResult")[0]["result"]
        assert "HARMLESS_SETTING=visible-to-commands" in output
        assert SECRET_VALUE not in output and "OPENAI_API_KEY" not in output and "GDM_TEST_SECRET_TOKEN" not in output
        assert editor.requests == [] and audit(tmp_path)[-1]["decision"] == "allow_once"
    finally:
        await stop_editor(editor)


async def test_timeout_kills_the_process_group(workspace, tmp_path, agent_model):
    editor = await open_editor(workspace, tmp_path, agent_model, "allow")
    try:
        task_id = await ask(editor, "Shell check, timeout")
        done = await editor.wait_done(task_id)
        assert done["status"] == "done" and agent_model.failures == [], editor.events(task_id)
        assert "killed after the 1 s timeout" in editor.events(task_id, "toolResult")[0]["result"]
        assert editor.events(task_id, "toolResult")[0]["facts"] == {"timedOut": True}
        assert (workspace / "child.pid").read_text().strip()  # the background child was started
        assert await none_in(workspace)  # it went with the sandbox (its pid was the sandbox's own)
    finally:
        await stop_editor(editor)


async def test_cancel_during_a_shell_command_kills_its_group(workspace, tmp_path, agent_model):
    editor = await open_editor(workspace, tmp_path, agent_model, "allow")
    try:
        task_id = await ask(editor, "Shell check, endless")
        pid_file = workspace / "endless.pid"
        await editor.wait_for(lambda: pid_file.exists() and pid_file.read_text().strip(), timeout=30)
        assert in_folder(workspace)  # the command and its `sleep`, seen from outside the sandbox
        assert await editor.command(Command.CANCEL.identifier, {"taskId": task_id}) == {"cancelled": True}
        done = await editor.wait_done(task_id, timeout=5)
        assert done["status"] == "cancelled"
        assert await none_in(workspace)  # SIGKILL is sent before "done"; the sandbox goes with it
    finally:
        await stop_editor(editor)


GATEWAY_SECRET = "Zq8-plain-looking-value-42"
GITHUB_TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"


async def test_secrets_in_env_and_source_never_reach_the_model(workspace, tmp_path, agent_model):
    (workspace / ".env").write_text(f"PAYMENT_GATEWAY_SECRET={GATEWAY_SECRET}\n")
    (workspace / "settings.py").write_text(f'GATEWAY = "{GATEWAY_SECRET}"\nDEPLOY_TOKEN = "{GITHUB_TOKEN}"\n'
                                           f'OPENAI = "{SECRET_VALUE}"\nTIMEOUT = 30\n')
    editor = await open_editor(workspace, tmp_path, agent_model, "allow")
    try:
        task_id = (await editor.command(Command.ASK.identifier, {
            "prompt": "Secrets check", "uri": editor.uri("settings.py")}))["taskId"]
        done = await editor.wait_done(task_id)
        assert done["status"] == "done" and agent_model.failures == [], editor.events(task_id)
        sent = json.dumps(agent_model.requests)
        assert len(agent_model.requests) == 2
        for secret in (GATEWAY_SECRET, GITHUB_TOKEN, SECRET_VALUE):
            assert secret not in sent
        assert "TIMEOUT = 30" in sent and "[redacted secret]" in sent  # the file was sent, its secrets not
        stored = sqlite3.connect(tmp_path / "gdm.db").execute("select request_json from turns").fetchall()
        assert stored and not [r for r in stored if GATEWAY_SECRET in r[0]]
    finally:
        await stop_editor(editor)
