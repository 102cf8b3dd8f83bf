"""Ask gdm, end to end: the real server over stdio, driven like VS Code would drive it.

Action offered → ask → progress → patchProposed → lenses → accept → the document text the
editor shows; reject; drift; a client that refuses the edit; costs.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from lsprotocol import types as lsp

from gdm.commands import Command
from tests.e2e.editor import start_editor, stop_editor, vscode_capabilities

PROMPT = "Make divide() fail clearly on zero"
DIVIDE_RANGE = {"start": {"line": 8, "character": 0}, "end": {"line": 11, "character": 0}}


def expected_calc(workspace: Path) -> str:
    return (workspace / "calc.py").read_text().replace(
        '    """Return a / b."""\n    return a / b\n',
        '    """Return a / b; dividing by zero raises a clear ValueError."""\n'
        '    if b == 0:\n        raise ValueError("cannot divide by zero")\n    return a / b\n')


@pytest.fixture
async def editor(workspace: Path, tmp_path: Path, settings: dict):
    ed, result = await start_editor(workspace, tmp_path, init_options=settings)
    ed.init_result = result
    yield ed
    await stop_editor(ed)


async def ask(editor, prompt: str, rel: str = "calc.py", rng: dict | None = DIVIDE_RANGE) -> str:
    payload = {"prompt": prompt, "uri": editor.uri(rel)}
    if rng is not None:
        payload["range"] = rng
    result = await editor.command(Command.ASK.identifier, payload)
    return result["taskId"]


async def test_capabilities_name_every_command(editor):
    caps = editor.init_result.capabilities
    assert sorted(caps.execute_command_provider.commands) == sorted(Command.all_ids())
    assert caps.code_lens_provider is not None
    assert caps.code_action_provider is not None
    assert caps.text_document_sync.change == lsp.TextDocumentSyncKind.Incremental
    assert editor.init_result.server_info.name == "gdm"


async def test_ask_offered_patch_lensed_and_accepted(editor, workspace, tmp_path, scripted):
    uri = await editor.open("calc.py")
    before = editor.text("calc.py")

    actions = await editor.client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri),
        range=lsp.Range(start=lsp.Position(line=8, character=0), end=lsp.Position(line=11, character=0)),
        context=lsp.CodeActionContext(diagnostics=[])))
    ask_action = next(a for a in actions if a.title == "Ask gdm…")
    assert ask_action.command.command == "gdm.ask"
    assert ask_action.command.arguments[0]["uri"] == uri

    task_id = await ask(editor, PROMPT)
    done = await editor.wait_done(task_id)
    assert done["status"] == "done", editor.events(task_id)
    assert scripted.failures == []

    # What the user saw while it ran: tool calls, results, the answer, progress.
    calls = [e["name"] for e in editor.events(task_id, "toolCall")]
    assert calls == ["search", "read_file", "edit_file"]
    assert all(e["ok"] for e in editor.events(task_id, "toolResult"))
    assert any("ValueError" in e["text"] for e in editor.events(task_id, "response") if not e["delta"])
    progress = editor.client.progress_reports[task_id]
    assert progress[0].kind == "begin" and progress[-1].kind == "end"
    assert [p.message for p in progress if p.kind == "report" and p.message.startswith("edit_file")]

    # The patch, with its risk, and nothing written to disk.
    proposed = editor.notes["gdm/patchProposed"][-1]
    assert proposed["taskId"] == task_id and proposed["uri"] == uri
    assert proposed["risk"]["tier"] == "LOW" and 0 <= proposed["risk"]["score"] < 0.25
    assert "+    if b == 0:" in proposed["diff"]
    assert len(proposed["hunks"]) == 1
    assert editor.text("calc.py") == before
    assert (workspace / "calc.py").read_text() == before

    # Lenses above the hunk: Accept, Reject, the risk.
    lenses = await editor.lenses("calc.py")
    titles = [lens.command.title for lens in lenses]
    assert titles[0] == "✓ Accept" and titles[1] == "✗ Reject" and titles[2].startswith("risk: LOW")
    assert {lens.range.start.line for lens in lenses} == {proposed["hunks"][0]["range"]["start"]["line"]}

    # Accept through the lens's own command: a versioned, annotated documentChanges edit.
    accept = lenses[0].command
    result = await editor.command(accept.command, raw_args=list(accept.arguments))
    assert result == {"applied": True, "conflicts": [], "appliedHunks": [0]}
    edit = editor.applied[-1].edit
    doc_edit = edit.document_changes[0]
    assert doc_edit.text_document.version == 1
    annotation = edit.change_annotations[proposed["patchId"]]
    assert PROMPT in annotation.label and "LOW" in annotation.description
    assert annotation.needs_confirmation is False
    assert editor.text("calc.py") == expected_calc(workspace)
    assert (workspace / "calc.py").read_text() == before  # the editor owns the buffer; disk untouched
    # Every hunk decided: no review lens left, only the undo lens on the first changed line.
    after = await editor.lenses("calc.py")
    assert [(lens.command.title, list(lens.command.arguments)) for lens in after] == [
        ("↶ Undo task", [{"taskId": task_id}])]
    assert after[0].range.start.line == proposed["hunks"][0]["range"]["start"]["line"]
    assert (await editor.command(Command.PATCH_LIST.identifier, {}))["patches"] == []

    # Money: a cost update per model call, priced by the `prices` setting (2 / 8 USD per MTok).
    expected_usd = ((812 + 960 + 1033 + 1190) * 2.0 + (31 + 28 + 96 + 45) * 8.0) / 1e6
    last = editor.notes["gdm/costUpdate"][-1]
    assert len([c for c in editor.notes["gdm/costUpdate"] if c["taskId"] == task_id]) == 4
    assert last["taskUsd"] == pytest.approx(expected_usd)
    assert last["budgetUsd"] == 2.0 and last["model"] == "openai/scripted"
    cost = await editor.command(Command.COST.identifier, {"taskId": task_id})
    assert cost["taskUsd"] == pytest.approx(expected_usd) and cost["dayUsd"] >= cost["sessionUsd"] > 0
    assert cost["byModel"][0]["model"] == "openai/scripted"

    # The store has it all, written as it happened.
    db = sqlite3.connect(tmp_path / "gdm.db")
    assert db.execute("select status from patches").fetchall() == [("accepted",)]
    assert db.execute("select count(*) from turns").fetchone()[0] == 4
    assert db.execute("select count(*) from tool_calls").fetchone()[0] == 3
    assert db.execute("select status from tasks").fetchall() == [("done",)]


async def test_per_hunk_accept_and_reject(editor, workspace):
    await editor.open("calc.py")
    task_id = await ask(editor, "Document add and mean", rng=None)
    assert (await editor.wait_done(task_id))["status"] == "done"
    patch = editor.notes["gdm/patchProposed"][-1]
    assert len(patch["hunks"]) == 2
    assert len(await editor.lenses("calc.py")) == 6

    rejected = await editor.command(Command.PATCH_REJECT.identifier, {"patchId": patch["patchId"], "hunks": [0]})
    assert rejected["rejected"] == [0]
    accepted = await editor.command(Command.PATCH_ACCEPT.identifier, {"patchId": patch["patchId"]})
    assert accepted["applied"] is True and accepted["appliedHunks"] == [1]
    text = editor.text("calc.py")
    assert '"""Return a + b."""' in text  # hunk 0 rejected
    assert "(ValueError if empty)" in text  # hunk 1 accepted
    assert [lens.command.title for lens in await editor.lenses("calc.py")] == ["↶ Undo task"]


async def test_reject_leaves_document_alone(editor):
    await editor.open("calc.py")
    before = editor.text("calc.py")
    task_id = await ask(editor, PROMPT)
    await editor.wait_done(task_id)
    patch_id = editor.notes["gdm/patchProposed"][-1]["patchId"]
    result = await editor.command(Command.PATCH_REJECT.identifier, {"patchId": patch_id})
    assert result["rejected"] == [0]
    assert editor.text("calc.py") == before
    assert editor.applied == []
    assert await editor.lenses("calc.py") == []
    again = await editor.command(Command.PATCH_ACCEPT.identifier, {"patchId": patch_id})
    assert again["applied"] is False and "already rejected" in again["conflicts"][0]["reason"]


async def test_user_typed_above_before_accept(editor, workspace):
    await editor.open("calc.py")
    task_id = await ask(editor, PROMPT)
    await editor.wait_done(task_id)
    proposed = editor.notes["gdm/patchProposed"][-1]
    patch_id, start = proposed["patchId"], proposed["hunks"][0]["range"]["start"]["line"]
    await editor.type("calc.py", 0, 0, "# a note the user typed\n# and another\n")
    lenses = await editor.lenses("calc.py")
    assert lenses[0].range.start.line == start + 2  # the lens moved down with the hunk
    result = await editor.command(Command.PATCH_ACCEPT.identifier, {"patchId": patch_id})
    assert result["applied"] is True
    assert editor.text("calc.py") == "# a note the user typed\n# and another\n" + expected_calc(workspace)
    assert editor.applied[-1].edit.document_changes[0].text_document.version == 2


async def test_edit_inside_hunk_is_a_conflict(editor):
    await editor.open("calc.py")
    task_id = await ask(editor, PROMPT)
    await editor.wait_done(task_id)
    patch_id = editor.notes["gdm/patchProposed"][-1]["patchId"]
    await editor.type("calc.py", 9, 14, "x / y", end=(9, 19))  # the user edits the docstring gdm rewrites
    result = await editor.command(Command.PATCH_ACCEPT.identifier, {"patchId": patch_id})
    assert result["applied"] is False and result["conflicts"][0]["hunk"] == 0
    assert editor.applied == []
    listed = await editor.command(Command.PATCH_LIST.identifier, {})
    assert [p["patchId"] for p in listed["patches"]] == [patch_id]


async def test_client_that_refuses_the_edit_keeps_patch_pending(editor):
    await editor.open("calc.py")
    before = editor.text("calc.py")
    task_id = await ask(editor, PROMPT)
    await editor.wait_done(task_id)
    patch_id = editor.notes["gdm/patchProposed"][-1]["patchId"]
    editor.apply_answer = lambda _params: False
    result = await editor.command(Command.PATCH_ACCEPT.identifier, {"patchId": patch_id})
    assert result["applied"] is False and "user declined" in result["conflicts"][0]["reason"]
    assert editor.text("calc.py") == before
    await editor.wait_for(lambda: any("was not changed" in m for m in editor.messages()))
    listed = await editor.command(Command.PATCH_LIST.identifier, {})
    assert [p["status"] for p in listed["patches"]] == ["pending"]
    editor.apply_answer = lambda _params: True
    assert (await editor.command(Command.PATCH_ACCEPT.identifier, {"patchId": patch_id}))["applied"] is True


async def test_create_file_patch(editor, workspace):
    task_id = await ask(editor, "Create a helper module", rng=None)
    assert (await editor.wait_done(task_id))["status"] == "done"
    patch = editor.notes["gdm/patchProposed"][-1]
    assert patch["kind"] == "create" and patch["path"] == "helpers/fmt.py"
    assert not (workspace / "helpers").exists()
    result = await editor.command(Command.PATCH_ACCEPT.identifier, {"patchId": patch["patchId"]})
    assert result["applied"] is True
    create = editor.applied[-1].edit.document_changes[0]
    assert isinstance(create, lsp.CreateFile)
    assert editor.text("helpers/fmt.py").startswith("def money")


async def test_plain_changes_for_clients_without_document_changes(workspace, tmp_path, settings):
    caps = vscode_capabilities(workspace__workspace_edit=None)
    editor, _ = await start_editor(workspace, tmp_path, init_options=settings, capabilities=caps)
    try:
        await editor.open("calc.py")
        task_id = await ask(editor, PROMPT)
        await editor.wait_done(task_id)
        patch_id = editor.notes["gdm/patchProposed"][-1]["patchId"]
        result = await editor.command(Command.PATCH_ACCEPT.identifier, {"patchId": patch_id})
        assert result["applied"] is True
        edit = editor.applied[-1].edit
        assert edit.document_changes is None and list(edit.changes) == [editor.uri("calc.py")]
        assert "cannot divide by zero" in editor.text("calc.py")
    finally:
        await stop_editor(editor)


async def test_settings_from_workspace_configuration(workspace, tmp_path, settings):
    editor, _ = await start_editor(workspace, tmp_path, configuration=settings)
    try:
        await editor.open("calc.py")
        task_id = await ask(editor, PROMPT)
        assert (await editor.wait_done(task_id))["status"] == "done"
    finally:
        await stop_editor(editor)


async def test_utf8_position_encoding_client(workspace, tmp_path, settings):
    """A client that negotiates utf-8 columns (Neovim 0.10+) gets its end-of-file column in bytes."""
    (workspace / "calc.py").write_text((workspace / "calc.py").read_text() + "# π ≈ 3.14 🙂")
    caps = vscode_capabilities()
    caps.general.position_encodings = [lsp.PositionEncodingKind.Utf8, lsp.PositionEncodingKind.Utf16]
    editor, result = await start_editor(workspace, tmp_path, init_options=settings, capabilities=caps)
    try:
        assert result.capabilities.position_encoding == lsp.PositionEncodingKind.Utf8
        await editor.open("calc.py")
        task_id = await ask(editor, "Append a closing line")
        assert (await editor.wait_done(task_id))["status"] == "done"
        patch_id = editor.notes["gdm/patchProposed"][-1]["patchId"]
        assert (await editor.command(Command.PATCH_ACCEPT.identifier, {"patchId": patch_id}))["applied"]
        end = editor.applied[-1].edit.document_changes[0].edits[0].range.end
        last = "# π ≈ 3.14 🙂"
        assert end.character == len(last.encode("utf-8"))
    finally:
        await stop_editor(editor)
