"""Checks after edits without an editor: real ruff and mypy output parsed, only new problems counted,
detection, and the bad inputs (a check that hangs, floods its output, or is not installed)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from gdm.agent import checks
from gdm.agent.checks import Problem, detect_check_commands, machine_readable, new_problems, parse_run, tool_of
from gdm.agent.events import Thinking
from gdm.agent.testrun import TestGate
from gdm.context.workspace import NoBuffers, WorkspaceView
from gdm.patches.book import PatchBook
from gdm.patches.risk import RiskContext
from gdm.sandbox import Sandbox, scratch_policy
from gdm.tools.base import ToolContext, counter_ids
from gdm.tools.edit import propose
from gdm.tools.shell import CommandResult, run_process

BIN = Path(sys.executable).parent
RUFF, MYPY = f"{BIN / 'ruff'} check --no-cache", f"{BIN / 'mypy'} --no-error-summary"
CALC = (Path(__file__).resolve().parents[2] / "fixtures" / "workspaces" / "calc" / "calc.py").read_text()
WITH_PROBLEMS = CALC.replace('tests."""\n', 'tests."""\n\nimport os\n').replace(
    "    return divide(sum(values), len(values))", "    return str(divide(sum(values), len(values)))")


def make_ctx(root: Path) -> ToolContext:
    book = PatchBook()
    return ToolContext("t1", WorkspaceView(root, NoBuffers(), book), book, RiskContext(), counter_ids("p"))


async def run_check(command: str, ws: Path, **kw):
    command = machine_readable(command)
    jail = await Sandbox().jail(scratch_policy("checks", ws, ws, False))
    return parse_run(command, await run_process(command, ws, kw.get("timeout", 120), {"PATH": "/usr/bin:/bin"},
                                                limit=checks.CHECK_OUTPUT_CHARS, jail=jail), ws)


async def test_real_ruff_and_mypy_output_is_parsed_with_codes_and_places(workspace: Path):
    (workspace / "calc.py").write_text(WITH_PROBLEMS)
    ruff = await run_check(f"{RUFF} .", workspace)
    assert ruff.note is None and "--output-format json" in ruff.command
    [unused] = ruff.problems
    assert (unused.tool, unused.kind, unused.path, unused.line, unused.code) == ("ruff", "lint", "calc.py", 3, "F401")
    assert "`os` imported but unused" in unused.message
    for fmt in ("-O json", ""):  # JSON lines, and the `file:line:col: error: msg  [code]` text
        mypy = await run_check(f"{MYPY} {fmt} calc.py", workspace)
        assert mypy.note is None, mypy.result.output
        [wrong] = mypy.problems
        assert (wrong.kind, wrong.path, wrong.line, wrong.code) == ("types", "calc.py", 18, "return-value")
        assert "Incompatible return value type" in wrong.message


def test_a_problem_that_only_moved_is_not_new():
    old = Problem("mypy", "types", "a.py", 5, 1, "arg-type", 'Argument 1 has type "int"; see line 5')
    moved = Problem("mypy", "types", "a.py", 9, 1, "arg-type", 'Argument 1 has type "int"; see line 9')
    again = Problem("mypy", "types", "a.py", 30, 1, "arg-type", 'Argument 1 has type "int"; see line 30')
    other_file = Problem("mypy", "types", "b.py", 5, 1, "arg-type", 'Argument 1 has type "int"; see line 5')
    assert new_problems([old], [moved]) == []
    assert new_problems([old], [moved, again]) == [again]  # by count: a second copy is new
    assert new_problems([old], [other_file]) == [other_file]


def test_other_tools_formats_and_unknown_commands():
    ws = Path("/w")
    eslint = json.dumps([{"filePath": "/w/src/a.js", "messages": [
        {"ruleId": "no-unused-vars", "severity": 2, "message": "'x' is assigned a value but never used.",
         "line": 3, "column": 7}, {"ruleId": "no-eval", "severity": 2, "message": "eval can be harmful.",
                                   "line": 4, "column": 1}]}])
    got = parse_run("eslint -f json .", CommandResult(1, eslint), ws).problems
    assert [(p.path, p.kind, p.code, p.line) for p in got] == [
        ("src/a.js", "lint", "no-unused-vars", 3), ("src/a.js", "security", "no-eval", 4)]
    tsc = "src/a.ts(3,5): error TS2322: Type 'string' is not assignable to type 'number'.\n"
    [t] = parse_run("tsc --noEmit --pretty false", CommandResult(2, tsc), ws).problems
    assert (t.tool, t.kind, t.path, t.line, t.column, t.code) == ("tsc", "types", "src/a.ts", 3, 5, "TS2322")
    pyright = json.dumps({"generalDiagnostics": [{"file": "/w/m.py", "severity": "error", "message": "bad",
                                                  "rule": "reportGeneralTypeIssues",
                                                  "range": {"start": {"line": 0, "character": 4}}}]})
    [p] = parse_run("pyright --outputjson", CommandResult(1, pyright), ws).problems
    assert (p.path, p.line, p.column, p.kind) == ("m.py", 1, 5, "types")
    ruff_security = json.dumps([{"code": "S307", "message": "Use of possibly insecure function", "filename": "/w/x.py",
                                 "location": {"row": 2, "column": 1}}])
    assert parse_run("ruff check --output-format json", CommandResult(1, ruff_security), ws).problems[0].kind == "security"
    lines = parse_run("./lint.sh", CommandResult(1, "x.py:3: bad thing\n\nx.py:9: other\n"), ws).problems
    assert [p.message for p in lines] == ["x.py:3: bad thing", "x.py:9: other"]
    assert new_problems(lines[:1], parse_run("./lint.sh", CommandResult(1, "x.py:4: bad thing\n"), ws).problems) == []
    unreadable = parse_run("ruff check --output-format json", CommandResult(2, "ruff: error: bad config"), ws)
    assert unreadable.problems == [] and "could not read" in unreadable.note


def test_tool_names_and_machine_readable_flags():
    assert tool_of("/x/.venv/bin/ruff check src") == "ruff"
    assert tool_of("MYPY_FORCE_COLOR=0 python -m mypy .") == "mypy"
    assert tool_of("npx --no-install eslint .") == "eslint" and tool_of("uv run pyright") == "pyright"
    assert machine_readable("ruff check src") == "ruff check src --no-fix --output-format json"
    assert machine_readable("ruff check --fix --output-format=json") == "ruff check --fix --output-format=json"
    assert machine_readable("npx eslint .") == "npx eslint . -f json"
    assert machine_readable("pyright") == "pyright --outputjson"
    assert machine_readable("make lint") == "make lint"


def test_detection(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    assert detect_check_commands(tmp_path) == ([], [])
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\nline-length = 100\n\n[tool.mypy]\nstrict = true\n")
    assert detect_check_commands(tmp_path) == ([], ["ruff (configured in the workspace, not installed)",
                                                    "mypy (configured in the workspace, not installed)"])
    monkeypatch.setenv("PATH", str(BIN))
    commands, missing = detect_check_commands(tmp_path)
    assert commands == ["ruff check --no-cache --no-fix --output-format json .", "mypy --no-error-summary -O json ."]
    assert missing == []
    (tmp_path / "package.json").write_text(json.dumps({"devDependencies": {"eslint": "^9", "typescript": "^5"}}))
    (tmp_path / "tsconfig.json").write_text("{}")
    commands, missing = detect_check_commands(tmp_path)
    assert len(commands) == 2 and [m.split()[0] for m in missing] == ["eslint", "tsc"]
    assert checks.check_commands(("make lint",), tmp_path) == (["make lint"], [])  # a list replaces detection
    assert checks.check_commands((), tmp_path) == ([], [])


async def collect(gate: TestGate, patch_ids: list[str]) -> list:
    return [event async for event in gate.check("t1", patch_ids)]


async def test_gate_sends_new_problems_back_then_marks_them_and_ignores_old_ones(workspace: Path):
    # a problem already there (an unused import) moves down with the patch: not new
    base = CALC.replace('tests."""\n', 'tests."""\n\nimport sys\n')
    (workspace / "calc.py").write_text(base)
    ctx = make_ctx(workspace)
    patch = propose(ctx, "calc.py", base.replace("import sys\n", "import os\nimport sys\n").replace(
        "    return divide(sum(values), len(values))", "    return str(divide(sum(values), len(values)))"))
    gate = TestGate(ctx, None, rounds=1, checks=[f"{RUFF} .", f"{MYPY} calc.py"])
    events = await collect(gate, [patch.id])
    assert gate.feedback is not None and "2 new problem(s)" in gate.feedback
    assert "F401" in gate.feedback and "`os` imported but unused" in gate.feedback and "return-value" in gate.feedback
    assert "sys" not in gate.feedback.split("\n", 3)[-1]
    assert any("Checks: 2 new problem(s)" in e.text for e in events if isinstance(e, Thinking))
    await collect(gate, [patch.id])  # no rounds left: the problems go into the risk
    assert gate.feedback is None
    reasons = {r.code: r for r in ctx.patches.get(patch.id).risk.reasons}
    assert "calc.py:3:8: F401" in reasons["lint_new"].message and reasons["lint_new"].weight > 0
    assert "return-value" in reasons["types_new"].message
    assert ctx.patches.get(patch.id).risk.tier.rank >= 1  # a new type error: at least MEDIUM
    assert "calc.py" in (workspace / "calc.py").name and (workspace / "calc.py").read_text() == base


async def test_a_clean_patch_gets_no_check_reason_but_says_the_checks_ran(workspace: Path):
    ctx = make_ctx(workspace)
    patch = propose(ctx, "calc.py", CALC.replace("Return a + b.", "Return the sum of a and b."))
    gate = TestGate(ctx, None, checks=[f"{RUFF} ."])
    await collect(gate, [patch.id])
    assert gate.feedback is None
    codes = {r.code: r.message for r in ctx.patches.get(patch.id).risk.reasons}
    assert "lint_new" not in codes and "ruff" in codes["checks_ok"]


async def test_bad_check_commands_are_reported_and_count_nothing(workspace: Path):
    ctx = make_ctx(workspace)
    patch = propose(ctx, "calc.py", WITH_PROBLEMS)
    flood = f"{sys.executable} -c \"print('x' * 3_000_000)\""
    gate = TestGate(ctx, None, checks=["no-such-checker-gdm --all", "sleep 30", flood, f"{RUFF} ."], timeout_s=3)
    said = [e.text for e in await collect(gate, [patch.id]) if isinstance(e, Thinking)]
    assert any("no-such-checker-gdm" in t and "not installed" in t for t in said)
    assert any("`sleep 30` timed out" in t for t in said)
    assert any("printed more than 2,000,000 characters" in t for t in said)
    assert gate.feedback is not None and "F401" in gate.feedback  # the working check still counts
    again = [e.text for e in await collect(gate, [patch.id]) if isinstance(e, Thinking)]
    assert not any("no-such-checker-gdm" in t for t in again)  # a missing tool is said once
    assert not any("sleep 30" in t and "timed out" in t for t in again)  # no baseline: skipped since


async def test_a_ruff_config_that_fixes_does_not_hide_new_problems(workspace: Path):
    (workspace / "pyproject.toml").write_text("[tool.ruff]\nfix = true\n")  # click's pyproject has this
    ctx = make_ctx(workspace)
    patch = propose(ctx, "calc.py", WITH_PROBLEMS)
    gate = TestGate(ctx, None, rounds=0, checks=[f"{RUFF} ."])
    await collect(gate, [patch.id])
    assert "F401" in {r.code: r.message for r in ctx.patches.get(patch.id).risk.reasons}["lint_new"]
    assert (workspace / "calc.py").read_text() == CALC


async def test_the_tests_see_exactly_the_workspace_with_the_patches_whatever_a_check_writes(
        workspace: Path, tmp_path: Path):
    ctx = make_ctx(workspace)
    patch = propose(ctx, "calc.py", CALC.replace("Return a + b.", "Return the sum."))
    expected = tmp_path / "expected.py"  # outside the scratch copy: readable in the sandbox, not writable
    expected.write_text(patch.new_text)
    gate = TestGate(ctx, f"cmp calc.py {expected}", rounds=0, checks=["echo '# written by a check' >> calc.py; cat calc.py"])
    for _ in range(2):
        await collect(gate, [patch.id])
        assert "The tests fail" not in (gate.feedback or "")
        assert "tests_pass" in {r.code for r in ctx.patches.get(patch.id).risk.reasons}
    assert (workspace / "calc.py").read_text() == CALC


def test_detection_never_runs_the_workspaces_own_mypy(tmp_path: Path, monkeypatch):
    """A hostile repository ships `.venv/bin/mypy`: detection (outside the sandbox) must not run it to
    learn its version; the version comes from the metadata beside it."""
    monkeypatch.setenv("PATH", "/nonexistent")
    (tmp_path / "pyproject.toml").write_text("[tool.mypy]\nstrict = true\n")
    marker = tmp_path.parent / f"{tmp_path.name}-ran"
    fake = tmp_path / ".venv" / "bin" / "mypy"
    fake.parent.mkdir(parents=True)
    fake.write_text(f"#!/bin/sh\ntouch {marker}\necho 'mypy 1.15.0'\n")
    fake.chmod(0o755)
    [old] = detect_check_commands(tmp_path)[0]
    assert not marker.exists()
    assert "-O json" not in old  # no metadata: the text format every mypy has
    (tmp_path / ".venv" / "lib" / "python3.11" / "site-packages" / "mypy-1.15.0.dist-info").mkdir(parents=True)
    [new] = detect_check_commands(tmp_path)[0]
    assert "-O json" in new and not marker.exists()
