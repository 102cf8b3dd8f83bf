"""A client that does not declare workspace/applyEdit and never answers it (Vim + ALE) does not
hang the server: after UNDECLARED_APPLY_EDIT_TIMEOUT_S the accept returns, and the patch's state
is what the editor's text says — accepted if the edit arrived by didChange, pending if not."""

from __future__ import annotations

import asyncio

from gdm.commands import Command
from tests.e2e.editor import start_editor, stop_editor, vscode_capabilities

FIX = "Make divide() fail clearly on zero"


async def _ask_and_patch(editor) -> dict:
    await editor.open("calc.py")
    task_id = (await editor.command(Command.ASK.identifier, {"prompt": FIX, "uri": editor.uri("calc.py")}))["taskId"]
    assert (await editor.wait_done(task_id))["status"] == "done"
    return editor.notes["gdm/patchProposed"][-1]


async def _stop(editor) -> None:
    # The test editor's never-answering applyEdit handler still sleeps; pygls would try to fail
    # it like a request of its own when the server exits, so end it first.
    for future in list(editor.client.protocol._request_futures.values()):
        if isinstance(future, asyncio.Task) and not future.done():
            future.cancel()
    await stop_editor(editor)


async def _pending_ids(editor) -> list[str]:
    return [p["patchId"] for p in (await editor.command(Command.PATCH_LIST.identifier, {}))["patches"]]


async def test_silent_client_that_applies_gets_the_patch_accepted(workspace, tmp_path, settings):
    caps = vscode_capabilities(workspace__apply_edit=False)
    editor, _ = await start_editor(workspace, tmp_path, init_options=settings, capabilities=caps)
    try:
        patch = await _ask_and_patch(editor)
        before = editor.text("calc.py")

        def apply_without_answering(params):
            asyncio.ensure_future(editor._apply(params.edit))  # ALE: edits the buffer, says nothing
            return None
        editor.apply_answer = apply_without_answering
        result = await asyncio.wait_for(editor.command(Command.PATCH_ACCEPT.identifier,
                                                       {"patchId": patch["patchId"]}), 60)
        assert result["applied"] is True, result
        assert editor.text("calc.py") != before and "raise" in editor.text("calc.py")
        assert patch["patchId"] not in await _pending_ids(editor)
        assert editor.notes["gdm/patchProposed"][-1]["status"] == "accepted"
    finally:
        await _stop(editor)


async def test_silent_client_that_does_nothing_leaves_the_patch_pending(workspace, tmp_path, settings):
    caps = vscode_capabilities(workspace__apply_edit=False)
    editor, _ = await start_editor(workspace, tmp_path, init_options=settings, capabilities=caps)
    try:
        patch = await _ask_and_patch(editor)
        editor.apply_answer = lambda _params: None
        result = await asyncio.wait_for(editor.command(Command.PATCH_ACCEPT.identifier,
                                                       {"patchId": patch["patchId"]}), 60)
        assert result["applied"] is False
        assert "did not answer" in result["conflicts"][0]["reason"]
        assert patch["patchId"] in await _pending_ids(editor)
        assert any("did not answer workspace/applyEdit" in m for m in editor.messages())
    finally:
        await _stop(editor)
