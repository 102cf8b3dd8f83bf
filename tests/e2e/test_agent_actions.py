"""Ready-made actions end to end over LSP: `gdm:` comments, Fix this, Explain, Write tests.

The real server, the scripted model playing fixtures/scripts/agent.json, and a test editor that
requests code actions, runs the command the action carries, and accepts the patch.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException

from gdm.commands import Command
from gdm.scripted import ScriptedModel
from tests.conftest import scripted_settings
from tests.e2e.editor import start_editor, stop_editor

COMMENT = "# gdm: Make divide reject a zero divisor\n"


@pytest.fixture
async def editor(workspace: Path, tmp_path: Path, agent_model: ScriptedModel):
    settings = scripted_settings(agent_model, tmp_path)
    ed, _ = await start_editor(workspace, tmp_path, init_options=settings)
    # The session opens after `initialized`; its first cost update says it is ready for code actions.
    await ed.wait_for(lambda: ed.notes["gdm/costUpdate"])
    yield ed
    await stop_editor(ed)


async def actions_at(editor, rel: str, line: int, end_line: int | None = None,
                     diagnostics: list[lsp.Diagnostic] | None = None) -> list[lsp.CodeAction]:
    rng = lsp.Range(start=lsp.Position(line=line, character=0),
                    end=lsp.Position(line=end_line if end_line is not None else line, character=0))
    return await editor.client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=editor.uri(rel)), range=rng,
        context=lsp.CodeActionContext(diagnostics=diagnostics or []))) or []


async def run_action(editor, action: lsp.CodeAction) -> tuple[str, dict]:
    """Run the command an action carries, as an editor does when the user picks it; wait for the end."""
    result = await editor.command(action.command.command, raw_args=list(action.command.arguments))
    done = await editor.wait_done(result["taskId"])
    return result["taskId"], done


async def accept_all(editor, done: dict) -> None:
    for patch_id in done["patchIds"]:
        result = await editor.command(Command.PATCH_ACCEPT.identifier, {"patchId": patch_id})
        assert result["applied"] is True, result


async def test_gdm_comment_offers_its_instruction_and_the_patch_removes_the_comment(editor, agent_model):
    await editor.open("calc.py")
    await editor.type("calc.py", 8, 0, COMMENT)
    assert not [a for a in await actions_at(editor, "calc.py", 3) if a.title.startswith("gdm: Make")]

    actions = await actions_at(editor, "calc.py", 8)
    action = next(a for a in actions if a.title == "gdm: Make divide reject a zero divisor")
    assert action.command.arguments[0]["prompt"] == "Make divide reject a zero divisor"  # no input box needed

    task_id, done = await run_action(editor, action)
    assert done["status"] == "done", editor.events(task_id)
    assert agent_model.failures == []
    assert len(done["patchIds"]) == 1  # the model's edit and the comment's removal: one patch on calc.py
    await accept_all(editor, done)
    text = editor.text("calc.py")
    assert "gdm:" not in text
    assert 'raise ValueError("b must not be zero")' in text
    assert text == (editor.root / "calc.py").read_text().replace(
        '    return a / b\n', '    if b == 0:\n        raise ValueError("b must not be zero")\n    return a / b\n')


SYNTAX_CASES = [
    ("// gdm: use a map", "app.ts", True), ("/* gdm: use a map */", "app.ts", True),
    ("-- gdm: add an index", "q.sql", True), ("; gdm: bind the key", "init.el", True),
    ("<!-- gdm: add alt text -->", "page.html", True), ("# gdm: use a map", "app.ts", False),
    ("x = 1  # gdm: not a comment line", "a.py", False), ("# gdm:", "a.py", False),
    ("// gdm: not python's syntax", "a.py", False), ("#gdm:tight spacing", "a.py", True),
]


async def test_gdm_comment_in_each_comment_syntax(editor, workspace):
    for line, rel, ok in SYNTAX_CASES:
        (workspace / rel).write_text(f"first line\n{line}\nlast line\n")
        titles = [a.title for a in await actions_at(editor, rel, 1)]
        instruction = line.split("gdm:", 1)[1].replace("*/", "").replace("-->", "").strip()
        assert (f"gdm: {instruction}" in titles) is ok, (line, rel, titles)


async def test_fix_this_sends_the_diagnostics_to_the_model(editor, agent_model):
    await editor.open("calc.py")
    diag = lsp.Diagnostic(range=lsp.Range(start=lsp.Position(line=15, character=4),
                                          end=lsp.Position(line=15, character=43)),
                          message="mean() divides by zero on an empty list", source="gdm-lint",
                          severity=lsp.DiagnosticSeverity.Warning)
    assert not [a for a in await actions_at(editor, "calc.py", 15) if a.title == "gdm: Fix this"]
    action = next(a for a in await actions_at(editor, "calc.py", 15, diagnostics=[diag])
                  if a.title == "gdm: Fix this")
    assert action.kind == lsp.CodeActionKind.QuickFix and action.diagnostics[0].message == diag.message
    task_id, done = await run_action(editor, action)
    assert done["status"] == "done" and agent_model.failures == [], editor.events(task_id)
    await accept_all(editor, done)
    assert 'raise ValueError("mean of no values")' in editor.text("calc.py")


async def test_explain_shows_the_answer_and_can_not_edit(editor, agent_model):
    await editor.open("calc.py")
    action = next(a for a in await actions_at(editor, "calc.py", 13, 16) if a.title == "gdm: Explain")
    task_id, done = await run_action(editor, action)
    assert done["status"] == "done" and agent_model.failures == [], editor.events(task_id)
    answer = "mean() divides the sum of the values by their count; an empty list divides by zero."
    await editor.wait_for(lambda: any(answer in m for m in editor.messages()))
    assert any(e["text"] == answer for e in editor.events(task_id, "response") if not e["delta"])
    assert done["patchIds"] == []
    offered = {t["function"]["name"] for r in agent_model.requests for t in r.get("tools", [])}
    # Reading tools only: the code tools read too (issue 18), nothing that edits or runs.
    assert offered == {"read_file", "list_files", "search", "code_map", "find_symbol", "find_references",
                       "file_outline"}
    assert "Do NOT edit" in agent_model.requests[0]["messages"][1]["content"]


async def test_write_tests_proposes_a_new_test_file(editor, workspace, agent_model):
    await editor.open("calc.py")
    action = next(a for a in await actions_at(editor, "calc.py", 13, 16) if a.title == "gdm: Write tests")
    task_id, done = await run_action(editor, action)
    assert done["status"] == "done" and agent_model.failures == [], editor.events(task_id)
    patches = (await editor.command(Command.PATCH_LIST.identifier, {}))["patches"]
    assert [(p["kind"], p["path"]) for p in patches] == [("create", "tests/test_mean_more.py")]
    assert not (workspace / "tests").exists()  # nothing written before the user accepts
    await accept_all(editor, done)
    assert isinstance(editor.applied[-1].edit.document_changes[0], lsp.CreateFile)
    assert "def test_mean_of_one" in editor.text("tests/test_mean_more.py")


async def test_bad_actions_are_invalid_params(editor):
    await editor.open("calc.py")
    line = {"start": {"line": 3, "character": 0}, "end": {"line": 3, "character": 0}}
    with pytest.raises(JsonRpcException, match="action must be one of"):
        await editor.command(Command.ASK.identifier, {"prompt": "x", "uri": editor.uri("calc.py"), "range": line,
                                                      "action": "bogus"})
    with pytest.raises(JsonRpcException, match="is not a `gdm:` comment"):
        await editor.command(Command.ASK.identifier, {"prompt": "x", "uri": editor.uri("calc.py"), "range": line,
                                                      "action": "comment"})
