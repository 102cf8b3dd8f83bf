"""Ready from the first request: a client that asks at once (headless Neovim does) gets the full
answer, not what happens to be ready; a session that never opens is a clear error in bounded time."""

from __future__ import annotations

import sys

import pytest
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException
from pytest_lsp.client import make_test_lsp_client

from gdm.commands import Command
from tests.e2e.editor import Editor, server_env, start_editor, stop_editor, uri_of, vscode_capabilities


def action_params(uri: str, line: int) -> lsp.CodeActionParams:
    rng = lsp.Range(start=lsp.Position(line=line, character=0), end=lsp.Position(line=line, character=0))
    return lsp.CodeActionParams(text_document=lsp.TextDocumentIdentifier(uri=uri), range=rng,
                                context=lsp.CodeActionContext(diagnostics=[]))


async def test_code_actions_right_after_initialized_include_the_comment_action(workspace, tmp_path, settings):
    (workspace / "todo.py").write_text("x = 1\n# gdm: make x a constant\n")
    editor, _ = await start_editor(workspace, tmp_path, init_options=settings)
    try:
        # No waiting for anything: didOpen and codeAction follow `initialized` at once.
        uri = await editor.open("todo.py")
        actions = await editor.client.text_document_code_action_async(action_params(uri, 1))
        titles = [a.title for a in actions]
        assert "gdm: make x a constant" in titles
        assert {"Ask gdm…", "gdm: Explain", "gdm: Write tests"} <= set(titles)
    finally:
        await stop_editor(editor)


async def test_lenses_and_review_actions_of_a_restart_are_there_at_once(workspace, tmp_path, settings):
    editor, _ = await start_editor(workspace, tmp_path, init_options=settings)
    try:
        await editor.open("calc.py")
        task_id = (await editor.command(Command.ASK.identifier, {"prompt": "Document add and mean",
                                                                 "uri": editor.uri("calc.py")}))["taskId"]
        assert (await editor.wait_done(task_id))["status"] == "done"
        first = editor.notes["gdm/patchProposed"][-1]["hunks"][0]["range"]["start"]["line"]
    finally:
        await stop_editor(editor)
    editor, _ = await start_editor(workspace, tmp_path, init_options=settings)
    try:
        uri = await editor.open("calc.py")
        lenses = await editor.lenses("calc.py")
        assert "✓ Accept" in [lens.command.title for lens in lenses]
        actions = await editor.client.text_document_code_action_async(action_params(uri, first))
        assert "gdm: Accept this change (risk LOW)" in [a.title for a in actions]
        listed = await editor.command(Command.PATCH_LIST.identifier, {})
        assert len(listed["patches"]) == 1
    finally:
        await stop_editor(editor)


@pytest.fixture
async def never_initialized(workspace, tmp_path):
    """A client that sends `initialize` but never `initialized`: the session never opens."""
    client = make_test_lsp_client()
    await client.start_io(sys.executable, "-m", "gdm", env=server_env(tmp_path, GDM_READY_TIMEOUT_S="1"))
    params = lsp.InitializeParams(capabilities=vscode_capabilities(), root_uri=uri_of(workspace))
    client.capabilities = params.capabilities
    await client.initialize_async(params)
    yield Editor(client, workspace)
    client._server.kill()
    await client.stop()


async def test_a_session_that_never_opens_is_a_clear_error_and_the_comment_action_still_works(
        never_initialized, workspace):
    editor = never_initialized
    with pytest.raises(JsonRpcException, match="not ready") as caught:
        await editor.command(Command.PATCH_LIST.identifier, {})
    assert caught.value.code == -32803
    (workspace / "todo.py").write_text("# gdm: say hello\n")
    uri = await editor.open("todo.py")
    titles = [a.title for a in await editor.client.text_document_code_action_async(action_params(uri, 0))]
    assert titles[:2] == ["Ask gdm…", "gdm: say hello"]
    with pytest.raises(JsonRpcException, match="not ready"):
        await editor.lenses("todo.py")
