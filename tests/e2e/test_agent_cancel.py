"""Cancel and concurrency end to end over LSP: a model call in flight, a running shell command
(its process group) and a pending approval all stop on cancel, by `gdm.cancel`,
`window/workDoneProgress/cancel` or `$/cancelRequest` for the request that started the task; several tasks run at once, each with its own progress and
patches, while code actions keep answering.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types as lsp

from gdm.commands import Command
from gdm.scripted import ScriptedModel
from tests.conftest import scripted_settings
from tests.e2e.editor import start_editor, stop_editor
from tests.procs import in_folder, none_in

CANCEL_BOUND_S = 5.0  # generous on a loaded machine; the cancel itself is immediate


async def open_editor(workspace: Path, tmp_path: Path, model: ScriptedModel, **extra):
    settings = scripted_settings(model, tmp_path, **extra)
    ed, _ = await start_editor(workspace, tmp_path, init_options=settings)
    ed.requests = []
    ed.release = asyncio.Event()

    @ed.client.feature(lsp.WINDOW_SHOW_MESSAGE_REQUEST)
    async def answer_late(params: lsp.ShowMessageRequestParams):
        ed.requests.append(params)
        await ed.release.wait()  # the user walked away; answered (nothing) only when the test ends
        return None

    await ed.wait_for(lambda: ed.notes["gdm/costUpdate"])
    return ed


async def ask(editor, prompt: str) -> str:
    return (await editor.command(Command.ASK.identifier, {"prompt": prompt}))["taskId"]


async def test_cancel_a_model_call_in_flight(workspace, tmp_path, agent_model):
    editor = await open_editor(workspace, tmp_path, agent_model)
    try:
        task_id = await ask(editor, "Cancel check: slow model")
        await editor.wait_for(lambda: agent_model.requests)  # the call is in flight (the model waits 30 s)
        assert await editor.command(Command.CANCEL.identifier, {"taskId": task_id}) == {"cancelled": True}
        done = await editor.wait_done(task_id, timeout=CANCEL_BOUND_S)
        assert done["status"] == "cancelled"
        assert editor.client.progress_reports[task_id][-1].kind == "end"
        assert not editor.events(task_id, "response")
    finally:
        await stop_editor(editor)


async def test_cancel_request_for_the_ask_that_started_a_task_stops_it(workspace, tmp_path, agent_model):
    """A client that knows only standard LSP cancels the `workspace/executeCommand` it sent."""
    editor = await open_editor(workspace, tmp_path, agent_model)
    try:
        request_id = "ask-for-a-slow-model"
        answer = await editor.client.protocol.send_request_async(
            lsp.WORKSPACE_EXECUTE_COMMAND, lsp.ExecuteCommandParams(
                command=Command.ASK.identifier, arguments=[{"prompt": "Cancel check: slow model"}]),
            msg_id=request_id)
        task_id = answer["taskId"] if isinstance(answer, dict) else answer.taskId
        await editor.wait_for(lambda: agent_model.requests)  # the model call is in flight
        editor.client.protocol.notify(lsp.CANCEL_REQUEST, lsp.CancelParams(id="some-other-request"))
        await asyncio.sleep(0.2)
        assert not editor.events(task_id, "done")  # an unknown id cancels nothing
        editor.client.protocol.notify(lsp.CANCEL_REQUEST, lsp.CancelParams(id=request_id))
        assert (await editor.wait_done(task_id, timeout=CANCEL_BOUND_S))["status"] == "cancelled"
        assert editor.client.progress_reports[task_id][-1].kind == "end"
    finally:
        await stop_editor(editor)


async def test_progress_cancel_stops_a_shell_command_and_its_group(workspace, tmp_path, agent_model):
    editor = await open_editor(workspace, tmp_path, agent_model, shell="allow")
    try:
        task_id = await ask(editor, "Shell check, endless")
        pid_file = workspace / "endless.pid"
        await editor.wait_for(lambda: pid_file.exists() and pid_file.read_text().strip())
        assert in_folder(workspace)  # the command and its `sleep`, seen from outside the sandbox
        editor.client.protocol.notify(lsp.WINDOW_WORK_DONE_PROGRESS_CANCEL,
                                      lsp.WorkDoneProgressCancelParams(token=task_id))
        assert (await editor.wait_done(task_id, timeout=CANCEL_BOUND_S))["status"] == "cancelled"
        assert await none_in(workspace)
    finally:
        await stop_editor(editor)


async def test_cancel_while_waiting_for_an_approval(workspace, tmp_path, agent_model):
    editor = await open_editor(workspace, tmp_path, agent_model, shell="ask")
    try:
        task_id = await ask(editor, "Shell check, allowed")
        await editor.wait_for(lambda: editor.requests)
        await editor.command(Command.CANCEL.identifier, {"taskId": task_id})
        assert (await editor.wait_done(task_id, timeout=CANCEL_BOUND_S))["status"] == "cancelled"
        assert not editor.events(task_id, "toolResult")  # the command never ran
    finally:
        editor.release.set()
        await stop_editor(editor)


async def test_three_tasks_at_once_each_with_its_progress_and_patch(workspace, tmp_path, agent_model):
    editor = await open_editor(workspace, tmp_path, agent_model, testCommand="true")
    try:
        uri = await editor.open("calc.py")
        ids = await asyncio.gather(*(ask(editor, f"Parallel task {n}") for n in (1, 2, 3)))
        assert len(set(ids)) == 3
        answered = 0
        while not all(editor.events(t, "done") for t in ids):
            actions = await editor.client.text_document_code_action_async(lsp.CodeActionParams(
                text_document=lsp.TextDocumentIdentifier(uri=uri),
                range=lsp.Range(start=lsp.Position(line=3, character=0), end=lsp.Position(line=3, character=0)),
                context=lsp.CodeActionContext(diagnostics=[])))
            assert any(a.title == "Ask gdm…" for a in actions)
            await editor.lenses("calc.py")
            answered += 1
            await asyncio.sleep(0.05)
        assert answered > 1 and agent_model.failures == []
        for n, task_id in enumerate(ids, 1):
            done = editor.events(task_id, "done")[0]
            assert done["status"] == "done"
            [patch_id] = done["patchIds"]
            patch = next(p for p in editor.notes["gdm/patchProposed"] if p["patchId"] == patch_id)
            assert patch["path"] == f"notes/task{n}.md" and patch["taskId"] == task_id
            progress = editor.client.progress_reports[task_id]
            assert progress[0].kind == "begin" and progress[-1].kind == "end"
            assert sum(1 for e in editor.events(task_id, "response") if e["delta"]) >= 2  # it streamed
    finally:
        await stop_editor(editor)
