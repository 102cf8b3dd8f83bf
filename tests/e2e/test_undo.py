"""Undoing a task over LSP, with an editor that really applies the edits: one versioned
`workspace/applyEdit` labelled `gdm: undo <task>`, the user's later typing kept, conflicts never
forced, created files deleted only if unchanged, moves going back; and the bad requests."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcInvalidParams

from gdm.commands import Command
from gdm.scripted import ScriptedModel
from tests.conftest import FIXTURES, scripted_settings
from tests.e2e.editor import start_editor, stop_editor
from tests.e2e.test_review import actions_at, asked, run_action

TIDY = "Tidy the calculator and note it"
MOVE = "Move the calculator into a package"


@pytest.fixture
def undo_model() -> Iterator[ScriptedModel]:
    """The scripted model playing review.json (moves) and undo.json (a three-file task)."""
    conversations = []
    for name in ("review.json", "undo.json"):
        conversations += json.loads((FIXTURES / "scripts" / name).read_text())["conversations"]
    with ScriptedModel({"conversations": conversations}) as model:
        yield model


@pytest.fixture
def undo_settings(undo_model, tmp_path) -> dict:
    return scripted_settings(undo_model, tmp_path)


async def undo(editor, task_id: str) -> dict:
    return await editor.command(Command.TASK_UNDO.identifier, {"taskId": task_id})


async def tidied(editor) -> str:
    """Run the three-file task and accept all of it."""
    await editor.open("calc.py")
    await editor.open("test_calc.py")
    task_id = await asked(editor, TIDY)
    result = await editor.command(Command.TASK_ACCEPT.identifier, {"taskId": task_id})
    assert result["applied"] is True, result
    assert "(b must not be zero)" in editor.text("calc.py") and "test_mean_of_three" in editor.text("test_calc.py")
    assert editor.text("NOTES.md").startswith("# Notes")
    return task_id


async def test_undo_keeps_what_the_user_typed_in_two_of_three_files(workspace, tmp_path, undo_settings):
    original = {rel: (workspace / rel).read_text() for rel in ("calc.py", "test_calc.py")}
    editor, _ = await start_editor(workspace, tmp_path, init_options=undo_settings)  # the undo lens: by default
    try:
        task_id = await tidied(editor)
        lenses = [lens for lens in await editor.lenses("calc.py") if lens.command.title == "↶ Undo task"]
        changed_line = editor.text("calc.py").splitlines().index('    """Return a / b (b must not be zero)."""')
        assert [lens.range.start.line for lens in lenses] == [changed_line]
        assert list(lenses[0].command.arguments) == [{"taskId": task_id}]
        # The user types elsewhere in two of the three files after accepting.
        await editor.type("calc.py", 0, 0, "# typed at the top\n")
        last = len(editor.text("test_calc.py").splitlines())
        await editor.type("test_calc.py", last, 0, "\n\ndef test_typed_later():\n    assert True\n")
        sent = len(editor.applied)

        result = await undo(editor, task_id)
        assert result == {"applied": True, "conflicts": [], "undoneHunks": 3}
        assert len(editor.applied) == sent + 1  # one workspace/applyEdit for the whole task
        edit = editor.applied[-1].edit
        label = f"gdm: undo {TIDY}"
        assert editor.applied[-1].label == label
        assert [a.label for a in edit.change_annotations.values()] == [label]
        docs = [c for c in edit.document_changes if isinstance(c, lsp.TextDocumentEdit)]
        assert {d.text_document.uri for d in docs} == {editor.uri("calc.py"), editor.uri("test_calc.py")}
        assert all(d.text_document.version is not None for d in docs)  # versioned: open buffers
        assert isinstance(edit.document_changes[-1], lsp.DeleteFile)  # the created file, unchanged: deleted
        assert editor.text("calc.py") == "# typed at the top\n" + original["calc.py"]
        assert editor.text("test_calc.py") == original["test_calc.py"] + "\n\ndef test_typed_later():\n    assert True\n"
        assert not (workspace / "NOTES.md").exists()
        assert [lens for lens in await editor.lenses("calc.py") if lens.command.title == "↶ Undo task"] == []

        # Twice in a row: nothing is accepted any more; a clear error, nothing sent.
        with pytest.raises(JsonRpcInvalidParams, match="undone already"):
            await undo(editor, task_id)
        assert len(editor.applied) == sent + 1
        listed = (await editor.command(Command.TASK_LIST.identifier, {}))["tasks"]
        assert listed[0]["taskId"] == task_id and listed[0]["accepted"] == 0 and len(listed[0]["patchIds"]) == 3
    finally:
        await stop_editor(editor)


async def test_undo_with_a_conflict_reverts_the_rest_and_forces_nothing(workspace, tmp_path, undo_settings):
    # A client that turns the undo lens off (`gdmUndoLens: false`) still has the code action.
    editor, _ = await start_editor(workspace, tmp_path, init_options={**undo_settings, "gdmUndoLens": False})
    try:
        task_id = await tidied(editor)
        assert await editor.lenses("calc.py") == []
        calc = editor.text("calc.py")
        line = calc.splitlines().index('    """Return a / b (b must not be zero)."""')
        # The user reworks the very line the task changed, and edits the file the task created.
        await editor.type("calc.py", line, 0, '    """Divide a by b; b must not be zero."""',
                          end=(line, len(calc.splitlines()[line])))
        await editor.type("NOTES.md", 0, 0, "Mine too.\n")
        # Editors without lenses: the undo is a code action in the task's files.
        action = next(a for a in await actions_at(editor, "test_calc.py", 0) if a.title.startswith("gdm: Undo task"))
        result = await run_action(editor, action)
        assert result["applied"] is True and result["undoneHunks"] == 1, result
        reasons = {(c["path"], c["hunk"]): c["reason"] for c in result["conflicts"]}
        assert set(reasons) == {("calc.py", 0), ("NOTES.md", 0)}
        assert "cannot be undone, the text changed since" in reasons[("calc.py", 0)]
        assert "changed since the task created it; not deleting that work" in reasons[("NOTES.md", 0)]
        assert "Divide a by b; b must not be zero." in editor.text("calc.py")  # the user's line stays
        assert "def test_mean():" in editor.text("test_calc.py")  # the rest went back
        assert (workspace / "NOTES.md").exists() and editor.text("NOTES.md").startswith("Mine too.")
        # What could not be undone stays accepted: undoing again tries it again, and says why not.
        again = await undo(editor, task_id)
        assert again["applied"] is False and again["undoneHunks"] == 0 and len(again["conflicts"]) == 2
    finally:
        await stop_editor(editor)


async def test_undo_of_a_move_and_its_edits_moves_it_back(workspace, tmp_path, undo_settings):
    original = {rel: (workspace / rel).read_text() for rel in ("calc.py", "test_calc.py")}
    editor, _ = await start_editor(workspace, tmp_path, init_options=undo_settings)
    try:
        await editor.open("calc.py")
        task_id = await asked(editor, MOVE)
        assert (await editor.command(Command.TASK_ACCEPT.identifier, {"taskId": task_id}))["applied"] is True
        assert (workspace / "pkg" / "calculator.py").exists() and not (workspace / "calc.py").exists()

        result = await undo(editor, task_id)
        assert result["applied"] is True and result["conflicts"] == [], result
        ops = editor.applied[-1].edit.document_changes
        rename = ops[-1]  # edits first, where the file is now; then it moves back
        assert isinstance(rename, lsp.RenameFile) and rename.old_uri == editor.uri("pkg/calculator.py")
        assert rename.new_uri == editor.uri("calc.py") and rename.options.overwrite is False
        assert (workspace / "calc.py").exists() and not (workspace / "pkg" / "calculator.py").exists()
        assert editor.text("calc.py") == original["calc.py"]
        assert (workspace / "test_calc.py").read_text() == original["test_calc.py"] or \
            editor.text("test_calc.py") == original["test_calc.py"]
    finally:
        await stop_editor(editor)


async def test_bad_undo_requests(workspace, tmp_path, undo_settings):
    editor, _ = await start_editor(workspace, tmp_path, init_options=undo_settings)
    try:
        with pytest.raises(JsonRpcInvalidParams, match="unknown task"):
            await undo(editor, "t-nosuch")
        with pytest.raises(JsonRpcInvalidParams, match="arguments must be a one-element list"):
            await editor.command(Command.TASK_UNDO.identifier, raw_args=[])
        await editor.open("calc.py")
        pending = await asked(editor, TIDY)  # proposed, never accepted
        with pytest.raises(JsonRpcInvalidParams, match="nothing accepted to undo"):
            await undo(editor, pending)
        # The user deletes a file the task changed: that part is a conflict, the rest is undone.
        assert (await editor.command(Command.TASK_ACCEPT.identifier, {"taskId": pending}))["applied"] is True
        editor.client.text_document_did_close(lsp.DidCloseTextDocumentParams(
            text_document=lsp.TextDocumentIdentifier(uri=editor.uri("test_calc.py"))))
        editor.docs.pop(editor.uri("test_calc.py"), None)
        (workspace / "test_calc.py").unlink()
        result = await undo(editor, pending)
        assert result["applied"] is True and result["undoneHunks"] == 2, result
        assert [(c["path"], c["reason"]) for c in result["conflicts"]] == [
            ("test_calc.py", "test_calc.py no longer exists (deleted or moved since the task)")]
        assert not (workspace / "test_calc.py").exists()  # nothing forced back into being
        tasks = (await editor.command(Command.TASK_LIST.identifier, {"limit": 1}))["tasks"]
        assert [t["taskId"] for t in tasks] == [pending] and tasks[0]["accepted"] == 1
        assert tasks[0]["status"] == "done" and tasks[0]["title"] is None and tasks[0]["prompt"] == TIDY
        with pytest.raises(JsonRpcInvalidParams, match="limit"):
            await editor.command(Command.TASK_LIST.identifier, {"limit": 0})
    finally:
        await stop_editor(editor)
