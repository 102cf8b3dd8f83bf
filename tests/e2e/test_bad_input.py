"""Bad input over LSP: a clear error reaches the user, the server keeps running, nothing is lost."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcInvalidParams

from gdm.commands import Command
from tests.e2e.editor import server_env, start_editor, stop_editor


@pytest.fixture
async def editor(workspace: Path, tmp_path: Path, settings: dict):
    ed, _ = await start_editor(workspace, tmp_path, init_options=settings)
    yield ed
    await stop_editor(ed)


async def still_serving(editor) -> None:
    uri = await editor.open("test_calc.py")
    actions = await editor.client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri),
        range=lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=0, character=0)),
        context=lsp.CodeActionContext(diagnostics=[])))
    assert "Ask gdm…" in [a.title for a in actions]


@pytest.mark.parametrize("command, args, message", [
    (Command.PATCH_ACCEPT.identifier, [{"patchId": "p-nope"}], "unknown patch id"),
    (Command.PATCH_REJECT.identifier, [{"patchId": "p-nope"}], "unknown patch id"),
    (Command.PATCH_ACCEPT.identifier, ["p-1"], "one-element list holding the payload object"),
    (Command.PATCH_ACCEPT.identifier, [{"hunks": [0]}], "patchId"),
    (Command.PATCH_ACCEPT.identifier, [{"patchId": "x", "hunks": "all"}], "hunks"),
    (Command.PATCH_ACCEPT.identifier, [{"patchId": "x"}, {"patchId": "y"}], "one-element list"),
    (Command.ASK.identifier, [{"uri": "file:///x"}], "needs a prompt"),
    (Command.ASK.identifier, [{"prompt": "hi", "uri": "file:///etc/passwd"}], "not a file inside the workspace"),
    (Command.ASK.identifier, [{"prompt": "hi", "range": {"start": {"line": -1}}}], "range"),
    (Command.CANCEL.identifier, [{"taskId": "t-nope"}], "no running task"),
    ("gdm.nope", [{}], "not defined"),
])
async def test_bad_command_arguments_are_invalid_params(editor, command, args, message):
    with pytest.raises(JsonRpcInvalidParams, match=message):
        await editor.command(command, raw_args=args)
    await still_serving(editor)


async def test_missing_model_is_a_clear_message_not_a_crash(workspace, tmp_path, settings):
    no_model = {k: v for k, v in settings.items() if k != "model"}
    editor, _ = await start_editor(workspace, tmp_path, init_options=no_model)
    try:
        task_id = (await editor.command(Command.ASK.identifier, {"prompt": "hello"}))["taskId"]
        assert (await editor.wait_done(task_id))["status"] == "error"
        error = editor.events(task_id, "error")[0]
        assert error["errorKind"] == "config" and "gdm.model" in error["message"]
        await editor.wait_for(lambda: any("gdm.model" in m for m in editor.messages()))
        await still_serving(editor)
    finally:
        await stop_editor(editor)


async def test_model_garbage_is_an_error_event_and_message(editor):
    task_id = (await editor.command(Command.ASK.identifier, {"prompt": "Answer with garbage"}))["taskId"]
    assert (await editor.wait_done(task_id))["status"] == "error"
    assert editor.events(task_id, "error")
    await editor.wait_for(lambda: [m for m in editor.client.messages if m.type == lsp.MessageType.Error])
    await still_serving(editor)


async def test_bad_settings_are_shown_and_defaulted(workspace, tmp_path, settings):
    editor, _ = await start_editor(workspace, tmp_path,
                                   init_options={**settings, "maxTurns": "lots", "autonomy": "yolo"})
    try:
        await editor.wait_for(lambda: len([m for m in editor.messages() if "is invalid" in m]) == 2)
        assert any("maxTurns" in m and "30" in m for m in editor.messages())
        # The good settings still work: a task runs against the scripted model.
        task_id = (await editor.command(Command.ASK.identifier, {"prompt": "Document add and mean"}))["taskId"]
        assert (await editor.wait_done(task_id))["status"] == "done"
    finally:
        await stop_editor(editor)


async def test_cancel_keeps_the_patches_so_far(editor):
    await editor.open("calc.py")
    task_id = (await editor.command(Command.ASK.identifier, {"prompt": "Take your time",
                                                             "uri": editor.uri("calc.py")}))["taskId"]
    await editor.wait_for(lambda: editor.notes["gdm/patchProposed"])
    await asyncio.sleep(0.3)
    assert (await editor.command(Command.CANCEL.identifier, {"taskId": task_id})) == {"cancelled": True}
    done = await editor.wait_done(task_id, timeout=5)
    assert done["status"] == "cancelled" and len(done["patchIds"]) == 1
    listed = await editor.command(Command.PATCH_LIST.identifier, {})
    assert [p["patchId"] for p in listed["patches"]] == done["patchIds"]
    assert (await editor.command(Command.PATCH_ACCEPT.identifier, {"patchId": done["patchIds"][0]}))["applied"]


async def test_killed_server_restarts_with_pending_patch(workspace, tmp_path, settings):
    editor, _ = await start_editor(workspace, tmp_path, init_options=settings)
    await editor.open("calc.py")
    task_id = (await editor.command(Command.ASK.identifier, {"prompt": "Make divide() fail clearly on zero",
                                                             "uri": editor.uri("calc.py")}))["taskId"]
    await editor.wait_done(task_id)
    patch_id = editor.notes["gdm/patchProposed"][-1]["patchId"]
    editor.client._server.kill()  # SIGKILL: no shutdown, no goodbye
    await editor.client._server.wait()
    await editor.client.stop()

    again, _ = await start_editor(workspace, tmp_path, init_options=settings)
    try:
        await again.open("calc.py")
        listed = await again.command(Command.PATCH_LIST.identifier, {})
        assert [p["patchId"] for p in listed["patches"]] == [patch_id]
        assert len(await again.lenses("calc.py")) == 3
        assert (await again.command(Command.PATCH_ACCEPT.identifier, {"patchId": patch_id}))["applied"] is True
        assert "cannot divide by zero" in again.text("calc.py")
        cost = await again.command(Command.COST.identifier, {})
        assert cost["dayUsd"] > 0  # yesterday's session's money is still counted today
    finally:
        await stop_editor(again)


async def test_killed_in_the_middle_of_a_task_keeps_its_patch_and_its_costs(workspace, tmp_path, settings):
    editor, _ = await start_editor(workspace, tmp_path, init_options=settings)
    await editor.open("calc.py")
    task_id = (await editor.command(Command.ASK.identifier, {"prompt": "Document divide, then think it over slowly",
                                                             "uri": editor.uri("calc.py")}))["taskId"]
    # The task proposed its patch and is streaming its next reply when the server dies.
    await editor.wait_for(lambda: editor.notes["gdm/patchProposed"] and editor.events(task_id, "response"))
    assert not editor.events(task_id, "done")
    patch_id = editor.notes["gdm/patchProposed"][-1]["patchId"]
    spent = editor.notes["gdm/costUpdate"][-1]["dayUsd"]
    editor.client._server.kill()  # SIGKILL mid-task: no shutdown, no goodbye
    await editor.client._server.wait()
    await editor.client.stop()

    again, _ = await start_editor(workspace, tmp_path, init_options=settings)
    try:
        await again.open("calc.py")
        await again.type("calc.py", 0, 0, "# typed after the restart\n")  # and the patch still fits, with drift
        listed = await again.command(Command.PATCH_LIST.identifier, {})
        assert [p["patchId"] for p in listed["patches"]] == [patch_id]
        assert [lens.command.title for lens in await again.lenses("calc.py")][:2] == ["✓ Accept", "✗ Reject"]
        assert (await again.command(Command.PATCH_ACCEPT.identifier, {"patchId": patch_id}))["applied"] is True
        text = again.text("calc.py")
        assert text.startswith("# typed after the restart") and "(b must not be zero)" in text
        cost = await again.command(Command.COST.identifier, {})
        assert spent > 0 and cost["dayUsd"] >= spent  # the killed task's model call is still counted
    finally:
        await stop_editor(again)


def _frames(data: bytes) -> list[dict]:
    """Split a stdout capture into JSON-RPC frames; anything else fails the test."""
    frames = []
    while data:
        header, sep, rest = data.partition(b"\r\n\r\n")
        assert sep and header.startswith(b"Content-Length: "), f"not JSON-RPC on stdout: {data[:120]!r}"
        fields = dict(line.split(b": ", 1) for line in header.split(b"\r\n"))
        assert set(fields) <= {b"Content-Length", b"Content-Type"}, header
        length = int(fields[b"Content-Length"])
        frames.append(json.loads(rest[:length]))
        data = rest[length:]
    return frames


def _frame(message: dict) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


def test_nothing_but_json_rpc_reaches_stdout(workspace, tmp_path, settings):
    """A whole task, litellm import included, with raw stdio: every stdout byte is a frame."""
    root = workspace.as_uri()
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"processId": os.getpid(), "rootUri": root, "capabilities": {},
                    "initializationOptions": settings}},
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
        {"jsonrpc": "2.0", "id": 2, "method": "workspace/executeCommand",
         "params": {"command": "gdm.ask", "arguments": [{"prompt": "Document add and mean"}]}},
    ]
    proc = subprocess.Popen([sys.executable, "-m", "gdm"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=server_env(tmp_path, LITELLM_LOG="DEBUG"))
    assert proc.stdin is not None
    proc.stdin.write(b"".join(_frame(m) for m in messages))
    proc.stdin.flush()
    # Wait for the task to finish (its cost lands in the store), then shut down.
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            done = sqlite3.connect(tmp_path / "gdm.db").execute(
                "select count(*) from tasks where status = 'done'").fetchone()[0]
        except sqlite3.Error:
            done = 0
        if done:
            break
        time.sleep(0.2)
    proc.stdin.write(_frame({"jsonrpc": "2.0", "id": 3, "method": "shutdown"}) +
                     _frame({"jsonrpc": "2.0", "method": "exit"}))
    out, _err = proc.communicate(timeout=30)
    frames = _frames(out)
    methods = {f.get("method") for f in frames}
    assert {"gdm/taskEvent", "gdm/patchProposed", "gdm/costUpdate"} <= methods
    assert any(f.get("id") == 2 and "taskId" in f.get("result", {}) for f in frames)


async def test_missing_key_names_the_variable(workspace, tmp_path, settings):
    editor, _ = await start_editor(workspace, tmp_path,
                                   init_options={**settings, "apiKeyEnv": "GDM_TEST_UNSET_KEY"})
    try:
        task_id = (await editor.command(Command.ASK.identifier, {"prompt": "Document add and mean"}))["taskId"]
        assert (await editor.wait_done(task_id))["status"] == "error"
        error = editor.events(task_id, "error")[0]
        assert error["errorKind"] == "config" and "GDM_TEST_UNSET_KEY" in error["message"]
        await editor.wait_for(lambda: any("GDM_TEST_UNSET_KEY" in m for m in editor.messages()))
        await still_serving(editor)
    finally:
        await stop_editor(editor)


async def test_settings_change_takes_effect_without_restart(workspace, tmp_path, settings):
    editor, _ = await start_editor(workspace, tmp_path, configuration={**settings, "maxTurns": 1})
    try:
        first = (await editor.command(Command.ASK.identifier, {"prompt": "Document add and mean"}))["taskId"]
        await editor.wait_done(first)
        assert any("maxTurns" in e["message"] for e in editor.events(first, "error"))
        editor.client.set_configuration({**settings, "maxTurns": 30}, section="gdm")
        editor.client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(settings=None))
        await asyncio.sleep(0.5)
        second = (await editor.command(Command.ASK.identifier, {"prompt": "Document add and mean"}))["taskId"]
        assert (await editor.wait_done(second))["status"] == "done"
    finally:
        await stop_editor(editor)


async def test_unusable_database_url_falls_back_to_the_default_store(workspace, tmp_path, settings):
    bad = {**settings, "databaseUrl": "sqlite:////no/such/folder/gdm.db"}
    editor, _ = await start_editor(workspace, tmp_path, init_options=bad)
    try:
        await editor.wait_for(lambda: any("cannot open databaseUrl" in m for m in editor.messages()))
        task_id = (await editor.command(Command.ASK.identifier, {"prompt": "Document add and mean"}))["taskId"]
        assert (await editor.wait_done(task_id))["status"] == "done"
        assert (tmp_path / "xdg" / "gdm" / "gdm.db").exists()  # the default store, in the user data dir
    finally:
        await stop_editor(editor)


def test_lone_surrogates_in_ids_and_uris_are_answered_not_internal_errors(workspace, tmp_path):
    """JSON may spell a lone surrogate (`"\\ud800"`), UTF-8 cannot: once it reached the store
    (a task id), `realpath` (a URI, a map focus) or a reply, the request failed with -32603."""
    lone = "\ud800"
    zero = {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}
    requests = {
        2: ("workspace/executeCommand", {"command": "gdm.cost", "arguments": [{"taskId": lone}]}),
        3: ("workspace/executeCommand", {"command": "gdm.task.undo", "arguments": [{"taskId": lone}]}),
        4: ("workspace/executeCommand", {"command": "gdm.map", "arguments": [{"focus": [lone]}]}),
        5: ("textDocument/codeAction", {"textDocument": {"uri": f"file:///tmp/{lone}.py"}, "range": zero,
                                        "context": {"diagnostics": []}}),
        6: ("textDocument/codeLens", {"textDocument": {"uri": workspace.as_uri() + f"/{lone}.py"}}),
        7: ("workspace/executeCommand", {"command": lone, "arguments": []}),
        8: ("workspace/executeCommand", {"command": "gdm.patch.list", "arguments": [{}]}),
    }
    messages = [{"jsonrpc": "2.0", "id": 1, "method": "initialize",
                 "params": {"processId": None, "rootUri": workspace.as_uri(), "capabilities": {}}},
                {"jsonrpc": "2.0", "method": "initialized", "params": {}},
                {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {
                    "uri": (workspace / "calc.py").as_uri(), "languageId": "python", "version": 1,
                    "text": f"# {lone}\nx = 1\n"}}}]
    messages += [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in requests.items()]
    data = b"".join(_frame(m) for m in messages)
    assert b"\\ud800" in data  # json.dumps escapes it: this is what a client puts on the wire
    proc = subprocess.Popen([sys.executable, "-m", "gdm"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=server_env(tmp_path), cwd=workspace)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(data)
    proc.stdin.flush()
    answers: dict = {}
    watchdog = threading.Timer(120, proc.kill)  # a server that never answers ends the reads below
    watchdog.start()
    try:
        while not set(requests) | {1} <= set(answers):  # every answer before shutdown, as an editor waits
            header = b""
            while not header.endswith(b"\r\n\r\n"):
                byte = proc.stdout.read(1)
                assert byte, f"stdout closed with {sorted(answers)} answered"
                header += byte
            length = int(header.split(b"Content-Length: ")[1].split(b"\r\n")[0])
            message = json.loads(proc.stdout.read(length))
            if "id" in message and "method" not in message:
                answers[message["id"]] = message
        proc.stdin.write(_frame({"jsonrpc": "2.0", "id": 9, "method": "shutdown"}) +
                         _frame({"jsonrpc": "2.0", "method": "exit"}))
        proc.stdin.flush()
        out, err = proc.communicate(timeout=60)
    finally:
        watchdog.cancel()
        proc.kill()
    answers.update({f["id"]: f for f in _frames(out) if "id" in f and "method" not in f})
    for msg_id in requests:
        error = answers[msg_id].get("error")
        assert error is None or error["code"] in (-32602, -32601), (msg_id, error)
    assert "result" in answers[8] and "result" in answers[9] and proc.returncode == 0, err.decode()[-2000:]
