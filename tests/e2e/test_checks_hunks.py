"""Issue 15 over LSP: two nearby edits are two hunks, each accepted alone with fixed indices; checks
after edits with a real ruff and a real mypy feed new problems back to the model, which fixes them;
problems that were there before do not count; what is left is in the patch's risk reasons.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from gdm.commands import Command
from gdm.scripted import ScriptedModel
from tests.conftest import FIXTURES, scripted_settings
from tests.e2e.editor import start_editor, stop_editor

BIN = Path(sys.executable).parent
CHECKS = [f"{BIN / 'ruff'} check --no-cache .", f"{BIN / 'mypy'} --no-error-summary ."]
DOC = '"""A tiny calculator, the sample workspace of gdm\'s demo and tests."""\n'


@pytest.fixture
def checks_model():
    with ScriptedModel(json.loads((FIXTURES / "scripts" / "checks.json").read_text())) as model:
        yield model


async def open_editor(workspace: Path, tmp_path: Path, model: ScriptedModel, **extra):
    ed, _ = await start_editor(workspace, tmp_path, init_options=scripted_settings(model, tmp_path, **extra))
    await ed.wait_for(lambda: ed.notes["gdm/costUpdate"])
    return ed


async def ask(editor, prompt: str) -> str:
    task_id = (await editor.command(Command.ASK.identifier, {"prompt": prompt}))["taskId"]
    done = await editor.wait_done(task_id, timeout=240)
    assert done["status"] == "done", editor.events(task_id)
    return task_id


async def test_two_nearby_edits_are_two_hunks_each_accepted_alone(workspace, tmp_path, checks_model):
    editor = await open_editor(workspace, tmp_path, checks_model, checkCommands=[], testCommand="true")
    try:
        await editor.open("calc.py")
        await ask(editor, "Nearby edits: document add and divide")
        [patch] = (await editor.command(Command.PATCH_LIST.identifier, {}))["patches"]
        # four unchanged lines apart: `diff -u` would make one hunk of them
        assert [h["index"] for h in patch["hunks"]] == [0, 1] and patch["diff"].count("@@ -") == 2
        assert [h["range"]["start"]["line"] for h in patch["hunks"]] == [4, 9]
        second = await editor.command(Command.PATCH_ACCEPT.identifier, {"patchId": patch["patchId"], "hunks": [1]})
        assert second["applied"] is True and second["appliedHunks"] == [1] and second["conflicts"] == []
        text = editor.text("calc.py")
        assert '"""Return a divided by b."""' in text and '"""Return a + b."""' in text
        [left] = (await editor.command(Command.PATCH_LIST.identifier, {}))["patches"]
        assert [(h["index"], h["status"]) for h in left["hunks"]] == [(0, "pending"), (1, "accepted")]
        lenses = await editor.lenses("calc.py")
        assert [lens.range.start.line for lens in lenses if "Accept" in lens.command.title] == [4]
        first = await editor.command(Command.PATCH_ACCEPT.identifier, {"patchId": patch["patchId"], "hunks": [0]})
        assert first["applied"] is True and first["appliedHunks"] == [0]
        text = editor.text("calc.py")
        assert '"""Return the sum of a and b."""' in text and '"""Return a divided by b."""' in text
        assert (workspace / "calc.py").read_text().count("Return a + b.") == 1  # the editor's buffer, not the disk
    finally:
        await stop_editor(editor)


async def test_new_lint_and_type_problems_go_back_to_the_model_and_are_fixed(workspace, tmp_path, checks_model):
    before = (workspace / "calc.py").read_text()
    editor = await open_editor(workspace, tmp_path, checks_model, checkCommands=CHECKS, testCommand="true")
    try:
        task_id = await ask(editor, "Checks round trip: tidy mean")
        assert checks_model.failures == [] and len(checks_model.requests) == 4
        feedback = checks_model.requests[2]["messages"][-1]
        assert feedback["role"] == "user" and "calc.py:3:8: F401" in feedback["content"]
        assert "return-value" in feedback["content"] and "(mypy)" in feedback["content"]
        said = [e["text"] for e in editor.events(task_id, "thinking")]
        assert any(t.startswith("Checks: 2 new problem(s) with the patches") for t in said)
        assert any(t == "Checks: 0 new problem(s) with the patches" for t in said)
        [patch] = (await editor.command(Command.PATCH_LIST.identifier, {}))["patches"]
        codes = {r["code"]: r["message"] for r in patch["risk"]["reasons"]}
        assert "lint_new" not in codes and "types_new" not in codes and "mypy" in codes["checks_ok"]
        assert "(a list of numbers)" in patch["diff"] and "import os" not in patch["diff"]
        assert (workspace / "calc.py").read_text() == before
    finally:
        await stop_editor(editor)


async def test_problems_left_after_the_rounds_are_risk_reasons_and_old_ones_do_not_count(
        workspace, tmp_path, checks_model):
    calc = (workspace / "calc.py").read_text().replace(DOC, DOC + "\nimport sys\n")
    (workspace / "calc.py").write_text(calc)  # an unused import that the patch moves down a line
    (workspace / "legacy.py").write_text("import json\n\n\ndef count() -> int:\n    return 'many'\n")
    editor = await open_editor(workspace, tmp_path, checks_model, checkCommands=CHECKS, testCommand="true")
    try:
        await ask(editor, "Checks round trip: stubborn")
        assert checks_model.failures == [] and len(checks_model.requests) == 4  # two rounds of feedback
        for request in checks_model.requests[2:]:
            content = request["messages"][-1]["content"]
            assert "2 new problem(s)" in content and "legacy.py" not in content and "`sys`" not in content
        [patch] = (await editor.command(Command.PATCH_LIST.identifier, {}))["patches"]
        codes = {r["code"]: r for r in patch["risk"]["reasons"]}
        assert "calc.py:3:8: F401 `os` imported but unused (ruff)" in codes["lint_new"]["message"]
        assert "return-value" in codes["types_new"]["message"] and codes["types_new"]["weight"] > 0
        assert "sys" not in codes["lint_new"]["message"] and "legacy" not in codes["types_new"]["message"]
        assert patch["risk"]["tier"] != "LOW"
    finally:
        await stop_editor(editor)
