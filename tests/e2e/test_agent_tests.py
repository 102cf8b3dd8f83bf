"""Tests after edits, end to end over LSP: the tests run on a scratch copy with the pending patch,
a failure goes back to the model and is fixed in a second round; a patch whose tests still fail
says so in its risk reasons. The user's files are never touched.
"""

from __future__ import annotations

from pathlib import Path

from gdm.commands import Command
from gdm.scripted import ScriptedModel
from tests.conftest import scripted_settings
from tests.e2e.editor import start_editor, stop_editor


async def open_editor(workspace: Path, tmp_path: Path, model: ScriptedModel, **extra):
    settings = scripted_settings(model, tmp_path, **extra)
    ed, _ = await start_editor(workspace, tmp_path, init_options=settings)
    await ed.wait_for(lambda: ed.notes["gdm/costUpdate"])
    return ed


def thoughts(editor, task_id: str) -> list[str]:
    return [e["text"] for e in editor.events(task_id, "thinking")]


async def test_failing_test_fed_back_and_fixed_in_a_second_round(workspace, tmp_path, agent_model):
    before = (workspace / "calc.py").read_text()
    editor = await open_editor(workspace, tmp_path, agent_model)  # pytest detected from test_calc.py
    try:
        task_id = (await editor.command(Command.ASK.identifier, {"prompt": "Tests round trip: document add"}))["taskId"]
        done = await editor.wait_done(task_id, timeout=120)
        assert done["status"] == "done" and agent_model.failures == [], editor.events(task_id)
        assert len(agent_model.requests) == 4
        feedback = agent_model.requests[2]["messages"][-1]
        assert feedback["role"] == "user" and "test_add" in feedback["content"]
        said = thoughts(editor, task_id)
        assert any(t.startswith("Tests fail with the patches") for t in said)
        assert any(t.startswith("Tests pass with the patches") for t in said)
        [patch] = (await editor.command(Command.PATCH_LIST.identifier, {}))["patches"]
        assert "return a + b" in patch["diff"] and "-    return a + b" not in patch["diff"]
        codes = [r["code"] for r in patch["risk"]["reasons"]]
        assert "tests_pass" in codes and "tests_failing" not in codes
        assert (workspace / "calc.py").read_text() == before  # the tests ran on a copy
        assert not [p for p in workspace.rglob("*") if "gdm-scratch" in str(p)]
    finally:
        await stop_editor(editor)


async def test_tests_still_failing_after_the_rounds_raise_the_patch_risk(workspace, tmp_path, agent_model):
    editor = await open_editor(workspace, tmp_path, agent_model,
                               testCommand="python3 -m pytest -q -x -p no:cacheprovider test_calc.py")
    try:
        task_id = (await editor.command(Command.ASK.identifier, {"prompt": "Tests round trip: stubborn"}))["taskId"]
        done = await editor.wait_done(task_id, timeout=120)
        assert done["status"] == "done" and agent_model.failures == [], editor.events(task_id)
        assert len(agent_model.requests) == 4  # the first answer and two rounds of feedback
        [patch] = (await editor.command(Command.PATCH_LIST.identifier, {}))["patches"]
        reasons = {r["code"]: r["message"] for r in patch["risk"]["reasons"]}
        assert "tests_failing" in reasons and "python3 -m pytest" in reasons["tests_failing"]
        assert patch["risk"]["tier"] != "LOW"
        proposed = [n for n in editor.notes["gdm/patchProposed"] if n["patchId"] == patch["patchId"]]
        assert "tests_failing" in [r["code"] for r in proposed[-1]["risk"]["reasons"]]
        assert "return a + b" in (workspace / "calc.py").read_text()
    finally:
        await stop_editor(editor)
