"""Review you can trust, over LSP: review by code action, accept a whole task, autonomy auto-low,
MEDIUM risk through the editor's confirmation, creating files without resource operations."""

from __future__ import annotations


import pytest
from lsprotocol import types as lsp

from gdm.commands import Command
from tests.e2e.editor import start_editor, stop_editor, vscode_capabilities

FIX = "Make divide() fail clearly on zero"
WEAKEN = "Make the add test pass no matter what"


async def actions_at(editor, rel: str, line: int, end_line: int | None = None) -> list[lsp.CodeAction]:
    end = end_line if end_line is not None else line
    return await editor.client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=editor.uri(rel)),
        range=lsp.Range(start=lsp.Position(line=line, character=0), end=lsp.Position(line=end, character=0)),
        context=lsp.CodeActionContext(diagnostics=[])))


def review_titles(actions: list[lsp.CodeAction]) -> list[str]:
    return [a.title for a in actions if "change" in a.title]


async def run_action(editor, action: lsp.CodeAction):
    return await editor.command(action.command.command, raw_args=list(action.command.arguments))


async def asked(editor, prompt: str, rel: str | None = "calc.py") -> str:
    payload = {"prompt": prompt, **({"uri": editor.uri(rel)} if rel else {})}
    task_id = (await editor.command(Command.ASK.identifier, payload))["taskId"]
    assert (await editor.wait_done(task_id))["status"] == "done"
    return task_id


async def test_review_by_code_action(workspace, tmp_path, settings):
    editor, _ = await start_editor(workspace, tmp_path, init_options=settings)
    try:
        await editor.open("calc.py")
        await asked(editor, "Document add and mean")
        patch = editor.notes["gdm/patchProposed"][-1]
        first, second = (h["range"]["start"]["line"] for h in patch["hunks"])
        titles = [a.title for a in await actions_at(editor, "calc.py", first)]
        assert titles[:3] == ["gdm: Accept this change (risk LOW)", "gdm: Reject this change",
                              "gdm: Accept all changes of this task"]
        assert "Ask gdm…" in titles
        assert not review_titles(await actions_at(editor, "calc.py", 0))  # no hunk there
        reject = (await actions_at(editor, "calc.py", first))[1]
        assert (await run_action(editor, reject))["rejected"] == [0]
        # The first hunk is gone from the actions; the second is still offered where it now is.
        assert not review_titles(await actions_at(editor, "calc.py", first))
        accept = (await actions_at(editor, "calc.py", second))[0]
        assert (await run_action(editor, accept))["applied"] is True
        assert "(ValueError if empty)" in editor.text("calc.py") and '"""Return a + b."""' in editor.text("calc.py")
    finally:
        await stop_editor(editor)


async def test_accept_all_changes_of_a_task(workspace, tmp_path, settings):
    editor, _ = await start_editor(workspace, tmp_path, init_options=settings)
    try:
        await editor.open("calc.py")
        task_id = await asked(editor, "Document add and mean")
        result = await editor.command(Command.TASK_ACCEPT.identifier, {"taskId": task_id})
        assert result["applied"] is True and result["results"][0]["appliedHunks"] == [0, 1]
        text = editor.text("calc.py")
        assert "Return the sum of a and b" in text and "(ValueError if empty)" in text
        with pytest.raises(Exception, match="no pending changes"):
            await editor.command(Command.TASK_ACCEPT.identifier, {"taskId": task_id})
    finally:
        await stop_editor(editor)


async def test_auto_low_applies_low_risk_at_once_and_says_so(workspace, tmp_path, settings):
    editor, _ = await start_editor(workspace, tmp_path, init_options={**settings, "autonomy": "auto-low"})
    try:
        await editor.open("calc.py")
        await asked(editor, FIX)
        await editor.wait_for(lambda: editor.applied)
        assert "cannot divide by zero" in editor.text("calc.py")  # a real, undoable editor edit
        assert editor.applied[-1].edit.document_changes[0].text_document.version == 1
        await editor.wait_for(lambda: any("automatically" in m for m in editor.messages()))
        assert (await editor.command(Command.PATCH_LIST.identifier, {}))["patches"] == []
    finally:
        await stop_editor(editor)


async def test_auto_low_leaves_riskier_patches_for_review(workspace, tmp_path, settings):
    editor, _ = await start_editor(workspace, tmp_path, init_options={**settings, "autonomy": "auto-low"})
    try:
        await asked(editor, WEAKEN, rel=None)
        patch = editor.notes["gdm/patchProposed"][-1]
        assert patch["risk"]["tier"] in ("MEDIUM", "HIGH", "CRITICAL")
        assert "test_removed" in {r["code"] for r in patch["risk"]["reasons"]}
        assert editor.applied == []
        listed = await editor.command(Command.PATCH_LIST.identifier, {})
        assert [p["patchId"] for p in listed["patches"]] == [patch["patchId"]]
        # Accepting it explicitly goes through the editor's confirmation (refactor preview).
        assert (await editor.command(Command.PATCH_ACCEPT.identifier, {"patchId": patch["patchId"]}))["applied"]
        annotation = editor.applied[-1].edit.change_annotations[patch["patchId"]]
        assert annotation.needs_confirmation is True and patch["risk"]["tier"] in annotation.description
    finally:
        await stop_editor(editor)


async def test_create_without_resource_operations_falls_back(workspace, tmp_path, settings):
    caps = vscode_capabilities()
    caps.workspace.workspace_edit.resource_operations = None
    editor, _ = await start_editor(workspace, tmp_path, init_options=settings, capabilities=caps)
    try:
        await asked(editor, "Create a helper module", rel=None)
        patch = editor.notes["gdm/patchProposed"][-1]
        result = await editor.command(Command.PATCH_ACCEPT.identifier, {"patchId": patch["patchId"]})
        assert result["applied"] is True
        edit = editor.applied[-1].edit
        assert not any(isinstance(c, lsp.CreateFile) for c in edit.document_changes)
        assert (workspace / "helpers" / "fmt.py").read_text() == ""  # created empty; content is an editor edit
        assert editor.text("helpers/fmt.py").startswith("def money")
    finally:
        await stop_editor(editor)
