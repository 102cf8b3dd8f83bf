"""Whole-file operations over LSP: a task moves and deletes files as patches the user reviews;
accepting sends `RenameFile` / `DeleteFile` resource operations, with a fallback for editors
without them; and an edit to a file that is not open is checked against the disk at accept."""

from __future__ import annotations

from lsprotocol import types as lsp

from gdm.commands import Command
from tests.e2e.editor import start_editor, stop_editor, vscode_capabilities
from tests.e2e.test_review import actions_at, asked, run_action

MOVE = "Move the calculator into a package"
DELETE = "Delete the calculator's tests"
FIX = "Make divide() fail clearly on zero"


def no_resource_operations() -> lsp.ClientCapabilities:
    caps = vscode_capabilities()
    caps.workspace.workspace_edit.resource_operations = None
    return caps


async def accept(editor, patch_id: str, **extra) -> dict:
    return await editor.command(Command.PATCH_ACCEPT.identifier, {"patchId": patch_id, **extra})


async def test_a_task_moves_a_file_edits_it_and_the_editor_does_the_move(workspace, tmp_path, settings):
    editor, _ = await start_editor(workspace, tmp_path, init_options=settings)
    try:
        await editor.open("calc.py")
        task_id = await asked(editor, MOVE)
        patches = (await editor.command(Command.PATCH_LIST.identifier, {}))["patches"]
        move = next(p for p in patches if p["kind"] == "rename")
        assert move["path"] == "calc.py" and move["newPath"] == "pkg/calculator.py"
        assert move["newUri"] == editor.uri("pkg/calculator.py") and "rename to pkg/calculator.py" in move["diff"]
        assert move["hunks"][0]["index"] == 0 and "file_renamed" in {r["code"] for r in move["risk"]["reasons"]}
        # The task's edit of "pkg/calculator.py" is a patch on the file where it is now.
        assert {p["path"] for p in patches if p["kind"] == "modify"} == {"calc.py", "test_calc.py"}
        assert "✓ Accept move to pkg/calculator.py" in [lens.command.title for lens in await editor.lenses("calc.py")]
        titles = [a.title for a in await actions_at(editor, "calc.py", 0)]
        assert any(t.startswith("gdm: Accept moving this file (move to pkg/calculator.py)") for t in titles)
        assert (workspace / "calc.py").exists() and not (workspace / "pkg").exists()  # nothing moved yet

        result = await editor.command(Command.TASK_ACCEPT.identifier, {"taskId": task_id})
        assert result["applied"] is True, result
        # Edits first, where the file is, then the move: one RenameFile, never overwriting.
        ops = [c for params in editor.applied for c in params.edit.document_changes]
        rename = next(c for c in ops if isinstance(c, lsp.RenameFile))
        assert rename.old_uri == editor.uri("calc.py") and rename.new_uri == editor.uri("pkg/calculator.py")
        assert rename.options.overwrite is False and isinstance(ops[-1], lsp.RenameFile)
        assert editor.applied[-1].edit.change_annotations[move["patchId"]].label.startswith("gdm: Move")
        assert not (workspace / "calc.py").exists() and (workspace / "pkg" / "calculator.py").exists()
        assert "(now in pkg/)" in editor.text("pkg/calculator.py")
        assert editor.text("test_calc.py").startswith("from pkg.calculator import")
        assert (await editor.command(Command.PATCH_LIST.identifier, {}))["patches"] == []
    finally:
        await stop_editor(editor)


async def test_rejecting_a_move_and_the_fallback_for_editors_without_rename(workspace, tmp_path, settings):
    editor, _ = await start_editor(workspace, tmp_path, init_options=settings, capabilities=no_resource_operations())
    try:
        await asked(editor, MOVE, rel=None)
        move = next(p for p in editor.notes["gdm/patchProposed"] if p["kind"] == "rename")
        # Open in the editor: the server cannot move it without losing the editor's hold on it.
        await editor.open("calc.py")
        result = await accept(editor, move["patchId"])
        assert result["applied"] is False and "close it and accept again" in result["conflicts"][0]["reason"]
        assert (workspace / "calc.py").exists()
        editor.client.text_document_did_close(lsp.DidCloseTextDocumentParams(
            text_document=lsp.TextDocumentIdentifier(uri=editor.uri("calc.py"))))
        editor.docs.pop(editor.uri("calc.py"))
        await editor.wait_for(lambda: True)
        result = await accept(editor, move["patchId"])
        assert result == {"applied": True, "appliedHunks": [0], "conflicts": []}
        assert (workspace / "pkg" / "calculator.py").exists() and not (workspace / "calc.py").exists()
        await editor.wait_for(lambda: any("moved calc.py to pkg/calculator.py on disk" in m
                                          for m in editor.messages()))
        # The task's pending edit of the file followed it to its new path.
        edit = next(p for p in (await editor.command(Command.PATCH_LIST.identifier, {}))["patches"]
                    if p["kind"] == "modify" and "calculator" in p["path"])
        assert edit["uri"] == editor.uri("pkg/calculator.py")
        assert (await accept(editor, edit["patchId"]))["applied"] is True
        assert "(now in pkg/)" in editor.text("pkg/calculator.py")
        again = await accept(editor, move["patchId"])
        assert again["applied"] is False and "already accepted" in again["conflicts"][0]["reason"]
    finally:
        await stop_editor(editor)


async def test_a_rejected_move_moves_nothing(workspace, tmp_path, settings):
    editor, _ = await start_editor(workspace, tmp_path, init_options=settings)
    try:
        await editor.open("calc.py")
        await asked(editor, MOVE)
        reject = next(a for a in await actions_at(editor, "calc.py", 0) if a.title.startswith("gdm: Reject moving"))
        assert (await run_action(editor, reject)) == {"applied": False, "rejected": [0], "conflicts": []}
        assert (workspace / "calc.py").exists() and editor.renames == []
        assert not [p for p in (await editor.command(Command.PATCH_LIST.identifier, {}))["patches"]
                    if p["kind"] == "rename"]
    finally:
        await stop_editor(editor)


async def test_delete_waits_for_review_and_never_deletes_what_the_user_typed_since(workspace, tmp_path, settings):
    editor, _ = await start_editor(workspace, tmp_path, init_options=settings)
    try:
        await editor.open("test_calc.py")
        await asked(editor, DELETE, rel="test_calc.py")
        patch = editor.notes["gdm/patchProposed"][-1]
        assert patch["kind"] == "delete" and patch["risk"]["tier"] in ("HIGH", "CRITICAL")
        assert "✓ Accept deletion" in [lens.command.title for lens in await editor.lenses("test_calc.py")]
        await editor.type("test_calc.py", 0, 0, "# keep this\n")
        result = await accept(editor, patch["patchId"])
        assert result["applied"] is False and "changed since its deletion was proposed" in result["conflicts"][0]["reason"]
        assert (workspace / "test_calc.py").exists() and editor.applied == []
        await editor.type("test_calc.py", 0, 0, "", end=(1, 0))  # the user takes it back
        result = await accept(editor, patch["patchId"])
        assert result == {"applied": True, "appliedHunks": [0], "conflicts": []}
        op = editor.applied[-1].edit.document_changes[0]
        assert isinstance(op, lsp.DeleteFile) and op.uri == editor.uri("test_calc.py")
        assert editor.applied[-1].edit.change_annotations[patch["patchId"]].needs_confirmation is True
        assert not (workspace / "test_calc.py").exists()
    finally:
        await stop_editor(editor)


async def test_delete_without_resource_operations_only_for_a_closed_file(workspace, tmp_path, settings):
    editor, _ = await start_editor(workspace, tmp_path, init_options=settings, capabilities=no_resource_operations())
    try:
        await editor.open("test_calc.py")
        await asked(editor, DELETE, rel="test_calc.py")
        patch = editor.notes["gdm/patchProposed"][-1]
        refused = await accept(editor, patch["patchId"])
        assert refused["applied"] is False and "is open in it" in refused["conflicts"][0]["reason"]
        editor.client.text_document_did_close(lsp.DidCloseTextDocumentParams(
            text_document=lsp.TextDocumentIdentifier(uri=editor.uri("test_calc.py"))))
        editor.docs.pop(editor.uri("test_calc.py"))
        assert (await accept(editor, patch["patchId"]))["applied"] is True
        assert not (workspace / "test_calc.py").exists() and editor.applied == []
        await editor.wait_for(lambda: any("deleted test_calc.py on disk" in m for m in editor.messages()))
    finally:
        await stop_editor(editor)


async def test_an_edit_to_a_closed_file_is_placed_against_the_disk_at_accept(workspace, tmp_path, settings):
    editor, _ = await start_editor(workspace, tmp_path, init_options=settings)
    try:
        task_id = (await editor.command(Command.ASK.identifier, {"prompt": FIX, "uri": editor.uri("calc.py")}))["taskId"]
        assert (await editor.wait_done(task_id))["status"] == "done"
        patch = editor.notes["gdm/patchProposed"][-1]
        disk = workspace / "calc.py"
        original = disk.read_text()
        # The disk changed inside the hunk (a pull, another tool): a conflict, nothing is sent.
        disk.write_text(original.replace('"""Return a / b."""', '"""Divide a by b."""'))
        result = await accept(editor, patch["patchId"])
        assert result["applied"] is False and result["conflicts"] and editor.applied == []
        listed = (await editor.command(Command.PATCH_LIST.identifier, {}))["patches"]
        assert patch["patchId"] in [p["patchId"] for p in listed]
        # The disk changed outside the hunk (a formatter added a header): the hunk moves with its text.
        disk.write_text("# a header someone added\n\n" + original)
        result = await accept(editor, patch["patchId"])
        assert result["applied"] is True
        change = editor.applied[-1].edit.document_changes[0]
        assert change.text_document.version is None  # not open: placed against the disk as it is now
        text = editor.text("calc.py")
        assert text.startswith("# a header someone added") and "cannot divide by zero" in text
    finally:
        await stop_editor(editor)
