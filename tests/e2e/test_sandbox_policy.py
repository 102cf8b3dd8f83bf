"""The sandbox's promises to the user, through the real server: it fails closed and says so once,
`sandbox: off` is explicit and shown, `shell: auto` saves the prompts of read-only commands, and a
command that failed for lack of network is offered once to run again with it — never decided by
a policy.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest
from lsprotocol import types as lsp

from gdm.commands import Command
from tests.e2e.editor import stop_editor
from tests.e2e.hostile import Listener, open_hostile

FAKE_BWRAP = """#!/bin/sh
# bubblewrap on a machine without unprivileged user namespaces (its real words, bubblewrap 0.8)
if [ "$1" = "--version" ]; then echo "bubblewrap 0.8.0"; exit 0; fi
echo "bwrap: No permissions to creating new namespace, likely because the kernel does not allow \
non-privileged user namespaces. On e.g. debian this can be enabled with \
'sysctl kernel.unprivileged_userns_clone=1'." >&2
exit 1
"""


def fake_bwrap(tmp: Path) -> str:
    folder = tmp / "fake-bin"
    folder.mkdir()
    (folder / "bwrap").write_text(FAKE_BWRAP)
    (folder / "bwrap").chmod(0o755)
    return f"{folder}{os.pathsep}{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"


async def ask(editor, prompt: str) -> str:
    return (await editor.command(Command.ASK.identifier, {"prompt": prompt}))["taskId"]


async def test_without_user_namespaces_nothing_runs_and_the_user_is_told_once(hostile, sandbox_model):
    tmp, ws = hostile["tmp"], hostile["ws"]
    editor = await open_hostile(hostile, sandbox_model, shell="allow", testCommand="touch tests-ran",
                                env={"PATH": fake_bwrap(tmp)})
    try:
        task_id = await ask(editor, "Greet loudly, sandbox down")
        done = await editor.wait_done(task_id, timeout=120)
        assert done["status"] == "done" and sandbox_model.failures == [], editor.events(task_id)
        [result] = [e for e in editor.events(task_id, "toolResult") if e["name"] == "run_command"]
        assert "not run: sandbox unavailable" in result["result"] and "No permissions to creating new namespace" \
            in result["result"]
        assert not (ws / "ran-anyway").exists() and not (ws / "tests-ran").exists()
        told = [m for m in editor.messages() if "sandbox cannot start" in m]
        assert len(told) == 1, editor.messages()  # the command and the tests hit it: told once
        assert "No permissions to creating new namespace" in told[0] and "apt install bubblewrap" in told[0]
        assert "`sandbox` to `off`" in told[0]
        patch = editor.notes["gdm/patchProposed"][-1]
        reasons = {r["code"]: r["message"] for r in patch["risk"]["reasons"]}
        assert "not run: sandbox unavailable" in reasons["tests_not_run"], reasons
        assert editor.notes["gdm/costUpdate"][-1]["sandbox"] == "unavailable"
        # a later task: still nothing runs, and nobody is told again
        again = await ask(editor, "Greet loudly, sandbox down")
        await editor.wait_done(again, timeout=120)
        assert len([m for m in editor.messages() if "sandbox cannot start" in m]) == 1
        assert not (ws / "ran-anyway").exists()
    finally:
        await stop_editor(editor)


async def test_sandbox_off_is_the_users_explicit_choice_and_every_approval_says_so(hostile, sandbox_model):
    editor = await open_hostile(hostile, sandbox_model, shell="ask", sandbox="off", answers=["Allow once"])
    try:
        task_id = await ask(editor, "Write a marker unsandboxed")
        done = await editor.wait_done(task_id, timeout=120)
        assert done["status"] == "done" and sandbox_model.failures == [], editor.events(task_id)
        [request] = editor.requests
        assert "runs UNSANDBOXED (sandbox: off)" in request.message
        assert (hostile["tmp"] / "outside-marker").exists()  # the user's choice: it ran with their rights
        assert editor.notes["gdm/costUpdate"][-1]["sandbox"] == "off"
        # turned back on in the editor's settings: the meter follows at once, without a task
        editor.client.set_configuration({"sandbox": "on"}, section="gdm")
        editor.client.workspace_did_change_configuration(lsp.DidChangeConfigurationParams(settings=None))
        await editor.wait_for(lambda: editor.notes["gdm/costUpdate"][-1].get("sandbox") == "on")
    finally:
        await stop_editor(editor)


async def test_shell_auto_runs_read_only_commands_without_a_prompt_and_asks_the_rest(hostile, sandbox_model):
    editor = await open_hostile(hostile, sandbox_model, shell="auto", answers=["Deny"])
    try:
        task_id = await ask(editor, "Look around, then install")
        done = await editor.wait_done(task_id, timeout=120)
        assert done["status"] == "done" and sandbox_model.failures == [], editor.events(task_id)
        [request] = editor.requests  # the read-only `ls && git log` was not asked about
        assert "pip install requests" in request.message
        assert "runs sandboxed: no network, writes only in the workspace" in request.message
        first = editor.events(task_id, "toolResult")[0]["result"]
        assert "greeter.py" in first and "greeter" in first.split("greeter.py", 1)[1]  # ls, then git log
    finally:
        await stop_editor(editor)


@pytest.mark.parametrize("answer,reached", [("Run again with the network", True), ("Don't", False)])
async def test_a_command_that_needed_the_network_is_offered_once_never_by_policy(hostile, sandbox_model,
                                                                                 answer, reached):
    status = Listener(socket.AF_INET, ("127.0.0.1", 0), http=True)
    (hostile["ws"] / ".status-port").write_text(str(status.port))
    # `shell: allow` decides the command, never the network: that is asked all the same
    editor = await open_hostile(hostile, sandbox_model, shell="allow", answers=[answer])
    try:
        task_id = await ask(editor, "Fetch the status page")
        done = await editor.wait_done(task_id, timeout=120)
        assert done["status"] == "done" and sandbox_model.failures == [], editor.events(task_id)
        [request] = editor.requests
        assert "failed in the sandbox, which has no network" in request.message and "curl: (7)" in request.message
        assert [a.title for a in request.actions] == ["Run again with the network", "Don't"]
        result = editor.events(task_id, "toolResult")[0]["result"]
        assert ("status: ok from the host" in result) is reached
        assert bool(status.got) is reached
        assert ("runs sandboxed: network on" in result) is reached
    finally:
        await stop_editor(editor)
        status.close()

