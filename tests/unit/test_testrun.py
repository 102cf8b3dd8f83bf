"""Tests after edits without an editor: detection, the scratch copy, the gate's rounds and marks."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import gdm.agent.testrun as testrun
from gdm.agent.events import PatchProposed, Thinking
from gdm.agent.testrun import TestGate, detect_test_command, run_on_scratch
from gdm.context.workspace import NoBuffers, WorkspaceView
from gdm.patches.book import PatchBook
from gdm.patches.risk import RiskContext
from gdm.tools.base import ToolContext, counter_ids
from gdm.tools.edit import propose

BROKEN_ADD = '"""A tiny calculator."""\n\n\ndef add(a, b):\n    return a - b\n\n\ndef divide(a, b):\n    return a / b\n\n\n' \
             'def mean(values):\n    return divide(sum(values), len(values))\n'


def make_ctx(root: Path) -> ToolContext:
    book = PatchBook()
    return ToolContext("t1", WorkspaceView(root, NoBuffers(), book), book, RiskContext(), counter_ids("p"))


def test_detection(tmp_path: Path, workspace: Path):
    assert detect_test_command(tmp_path) is None
    assert detect_test_command(workspace) == f"{sys.executable} -m pytest -q -x -p no:cacheprovider"
    (tmp_path / "package.json").write_text(json.dumps({"scripts": {"test": "jest"}}))
    assert detect_test_command(tmp_path) == "npm test --silent"
    (tmp_path / "package.json").write_text(json.dumps({"scripts": {"test": "echo \"Error: no test specified\""}}))
    assert detect_test_command(tmp_path) is None
    (tmp_path / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    assert "pytest" in detect_test_command(tmp_path)


async def test_scratch_run_sees_the_patch_and_never_touches_the_workspace(workspace: Path):
    ctx = make_ctx(workspace)
    before = {p: p.read_bytes() for p in workspace.rglob("*") if p.is_file()}
    propose(ctx, "calc.py", BROKEN_ADD)
    command = f"touch made-in-scratch; {sys.executable} -m pytest -q -x -p no:cacheprovider"
    with_patch = await run_on_scratch(ctx, command, "t1")
    without = await run_on_scratch(ctx, command, None)
    assert not with_patch.passed and "test_add" in with_patch.result.output
    assert without.result.exit_code == 0 and "3 passed" in without.result.output
    assert {p: p.read_bytes() for p in workspace.rglob("*") if p.is_file()} == before
    assert not (workspace / "made-in-scratch").exists()


async def test_scratch_never_writes_through_a_link_into_the_workspace(workspace: Path, tmp_path: Path):
    os.symlink(workspace, workspace / "alias")
    ctx = make_ctx(workspace)
    propose(ctx, "alias/calc.py", BROKEN_ADD)
    await run_on_scratch(ctx, "true", "t1")
    assert "return a + b" in (workspace / "calc.py").read_text()


async def collect(gate: TestGate, patch_ids: list[str]) -> list:
    return [e async for e in gate.check("t1", patch_ids)]


async def test_gate_feeds_back_new_failures_then_marks_the_patch(workspace: Path):
    ctx = make_ctx(workspace)
    patch = propose(ctx, "calc.py", BROKEN_ADD)
    gate = TestGate(ctx, f"{sys.executable} -m pytest -q -x -p no:cacheprovider", rounds=1)
    events = await collect(gate, [patch.id])
    assert gate.feedback is not None and "test_add" in gate.feedback and "scratch copy" in gate.feedback
    assert not [e for e in events if isinstance(e, PatchProposed)]
    events = await collect(gate, [patch.id])  # the model did not fix it: no rounds left
    assert gate.feedback is None
    assert [e.patch_id for e in events if isinstance(e, PatchProposed)] == [patch.id]
    reason = next(r for r in patch.risk.reasons if r.code == "tests_failing")
    assert "pytest" in reason.message and patch.risk.tier.value != "LOW" and patch.risk.score >= 0.3


async def test_gate_does_not_blame_the_patch_for_tests_that_failed_before(workspace: Path):
    (workspace / "test_calc.py").write_text("def test_always_broken():\n    assert False\n")
    ctx = make_ctx(workspace)
    patch = propose(ctx, "calc.py", (workspace / "calc.py").read_text() + "\n# a comment\n")
    score, tier = patch.risk.score, patch.risk.tier
    gate = TestGate(ctx, f"{sys.executable} -m pytest -q -p no:cacheprovider")
    events = await collect(gate, [patch.id])
    assert gate.feedback is None
    assert any(isinstance(e, Thinking) and "failed before the change too" in e.text for e in events)
    reason = next(r for r in patch.risk.reasons if r.code.startswith("tests_"))
    assert reason.code == "tests_already_failing" and reason.weight == 0.0
    assert "with and without this change" in reason.message
    assert (patch.risk.score, patch.risk.tier) == (score, tier)  # not riskier for failures it did not cause


def test_no_pytest_to_run_means_no_detected_test_command(workspace: Path, monkeypatch):
    assert testrun.detect_test_command(workspace) is not None  # calc has test_calc.py and pytest is here
    monkeypatch.setattr(testrun.importlib.util, "find_spec", lambda name: None)
    assert testrun.detect_test_command(workspace) is None


async def test_gate_marks_passing_tests_without_raising_risk(workspace: Path):
    ctx = make_ctx(workspace)
    patch = propose(ctx, "calc.py", (workspace / "calc.py").read_text() + "\n# a comment\n")
    score = patch.risk.score
    await collect(TestGate(ctx, f"{sys.executable} -m pytest -q -p no:cacheprovider"), [patch.id])
    assert [r.code for r in patch.risk.reasons if r.code.startswith("tests_")] == ["tests_pass"]
    assert patch.risk.score == score
