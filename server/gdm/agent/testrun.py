"""Tests after edits: run the project's tests on a scratch copy with the task's pending patches.

When the model ends a turn without tool calls and the task has proposed patches, the loop asks
the `TestGate`: the workspace is copied to a temporary folder (never the user's files), the
text the task sees (open buffers, its pending patches on top) is written there, and the test
command runs in it under the shell fences (scrubbed environment, timeout, process group). New
failures — the tests passed without the patches — go back to the model for up to `rounds`
more tries; the last result is written into the patches' risk reasons.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from gdm.agent.events import Event, PatchProposed, Thinking
from gdm.context.rules import rules_test_command
from gdm.context.secrets import scrub_env
from gdm.patches.risk import RiskReason, Tier, tier_for
from gdm.tools.base import ToolContext
from gdm.tools.shell import CommandResult, run_process

DEFAULT_ROUNDS = 2
TEST_TIMEOUT_S = 300.0
FEEDBACK_CHARS = 6_000  # the end of a test log is where the failures are summarised
FAILING_WEIGHT = 0.3
PYTEST_NO_TESTS = 5  # pytest's exit code when it collected no tests
_COPY_IGNORE = shutil.ignore_patterns(".git", ".hg", ".svn", "__pycache__", ".pytest_cache", ".mypy_cache",
                                      ".ruff_cache", ".tox", "*.pyc")


def detect_test_command(root: Path, rules: bool = True) -> str | None:
    """A test command the project rules name (AGENTS.md…, unless `rules` is off), else `npm test`
    for a package.json with a test script, pytest for a Python project, else None."""
    named = rules_test_command(root) if rules else None
    if named:
        return named
    package = root / "package.json"
    if package.is_file():
        try:
            scripts = json.loads(package.read_text(encoding="utf-8")).get("scripts") or {}
        except (OSError, ValueError, AttributeError):
            scripts = {}
        if isinstance(scripts, dict) and scripts.get("test") and "no test specified" not in str(scripts["test"]):
            return "npm test --silent"
    markers = ("pytest.ini", "conftest.py", "tox.ini")
    python_tests = any((root / m).is_file() for m in markers) or any(root.glob("test_*.py")) or any(
        root.glob("tests/test_*.py")) or "[tool.pytest" in _read(root / "pyproject.toml")
    if not python_tests:
        return None
    venv_python = root / ".venv" / "bin" / "python"
    if venv_python.is_file():
        return f"{venv_python} -m pytest -q -x -p no:cacheprovider"
    if importlib.util.find_spec("pytest") is None:
        return None  # no pytest to run them with: "tests fail" would only mean "pytest is missing"
    return f"{sys.executable} -m pytest -q -x -p no:cacheprovider"


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


@dataclass
class TestRun:
    """One run of the test command: with the task's patches, or without (the baseline)."""

    command: str
    result: CommandResult

    @property
    def passed(self) -> bool:
        """Exit code 0 within the timeout."""
        return not self.result.timed_out and self.result.exit_code == 0

    @property
    def none_ran(self) -> bool:
        """pytest found no tests (exit code 5): nothing failed, there was nothing to run."""
        return self.result.exit_code == PYTEST_NO_TESTS and "no tests ran" in self.result.output

    def summary(self) -> str:
        """One line: the command and how it ended."""
        how = "timed out" if self.result.timed_out else f"exit code {self.result.exit_code}"
        return f"`{self.command}` ({how})"


def overlay(ctx: ToolContext, task_id: str | None, target: Path) -> None:
    """Write into a copy of the workspace what the task sees: open buffers and its pending patches."""
    paths = set(ctx.view.buffers.open_paths())
    patches = [p for p in ctx.patches.open() if task_id is not None and p.task_id == task_id]
    paths |= {p.path for p in patches} | {p.new_path for p in patches if p.new_path}
    for rel in sorted(paths):
        dest = target / rel
        text = ctx.view.read(rel, task_id)
        if text is None:  # deleted, or moved away, by the task's patches
            if dest.is_file() or dest.is_symlink():
                dest.unlink()
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.is_symlink():
            dest.unlink()  # never write through a link into the user's files
        if not Path(os.path.realpath(dest)).is_relative_to(os.path.realpath(target)):
            continue  # a folder link out of the copy (into the user's files): not written there
        dest.write_text(text, encoding="utf-8")


async def run_on_scratch(ctx: ToolContext, command: str, task_id: str | None,
                         timeout_s: float = TEST_TIMEOUT_S) -> TestRun:
    """Run `command` on a fresh scratch copy (the task's patches applied if `task_id`), then remove it."""
    base = Path(tempfile.mkdtemp(prefix="gdm-scratch-"))
    try:
        # Reading buffers belongs to the loop thread; copying the tree does not.
        ws = base / ctx.view.root.name
        await asyncio.to_thread(shutil.copytree, ctx.view.root, ws, symlinks=True, ignore=_COPY_IGNORE)
        overlay(ctx, task_id, ws)
        env = scrub_env(os.environ, ctx.hidden_env)
        return TestRun(command, await run_process(command, ws, timeout_s, env))
    finally:
        await asyncio.to_thread(shutil.rmtree, base, True)


class TestGate:
    """Decides, at the end of each model answer, whether the tests send the model back to work."""

    __test__ = False  # not a pytest class, despite its name

    def __init__(self, ctx: ToolContext, command: str, rounds: int = DEFAULT_ROUNDS) -> None:
        self.ctx = ctx
        self.command = command
        self.rounds_left = rounds
        self.feedback: str | None = None
        self._baseline: TestRun | None = None

    async def check(self, task_id: str, patch_ids: list[str]) -> AsyncIterator[Event]:
        """Run the tests; set `feedback` to the message for the model, or None when the task may end."""
        self.feedback = None
        yield Thinking(task_id, f"Running the tests on a scratch copy with the pending patches: {self.command}")
        run = await run_on_scratch(self.ctx, self.command, task_id)
        if run.none_ran:
            # The patches leave no tests (they delete or move them): nothing for the model to fix;
            # the risk says what removing tests means.
            yield Thinking(task_id, f"No tests ran with the patches: {run.summary()}")
            return
        if not run.passed:
            if self._baseline is None:
                self._baseline = await run_on_scratch(self.ctx, self.command, None)
            if self._baseline.passed and self.rounds_left > 0:
                self.rounds_left -= 1
                self.feedback = _feedback(run)
                yield Thinking(task_id, f"Tests fail with the patches: {run.summary()}; sending the failures "
                                        f"back to the model ({self.rounds_left} more round(s) after this one)")
                return
        already = not run.passed and self._baseline is not None and not self._baseline.passed
        yield Thinking(task_id, f"Tests {'pass' if run.passed else 'fail'} with the patches: {run.summary()}"
                                + (" (they failed before the change too)" if already else ""))
        for patch_id in patch_ids:
            if self._mark(patch_id, run, already):
                yield PatchProposed(task_id, patch_id)

    def _mark(self, patch_id: str, run: TestRun, already: bool) -> bool:
        """Write the test result into a patch's risk reasons (failing raises the score)."""
        patch = self.ctx.patches.get(patch_id)
        if patch is None or patch.risk is None:
            return False
        risk = patch.risk
        risk.reasons = [r for r in risk.reasons if not r.code.startswith("tests_")]
        if run.passed:
            risk.reasons.append(RiskReason("tests_pass", 0.0, f"tests pass with this change: {run.summary()}"))
        elif already:
            # Failing before the change too: the patch did not break them, so it is not riskier for it.
            risk.reasons.append(RiskReason("tests_already_failing", 0.0,
                                           f"tests fail with and without this change: {run.summary()}"))
        else:
            risk.reasons.append(RiskReason("tests_failing", FAILING_WEIGHT,
                                           f"tests fail with this change applied: {run.summary()}"))
            risk.score = round(min(1.0, max(risk.score + FAILING_WEIGHT, 0.25)), 2)
            risk.tier = tier_for(risk.score) if tier_for(risk.score).rank >= Tier.MEDIUM.rank else Tier.MEDIUM
        self.ctx.patches.put(patch)
        return True


def _feedback(run: TestRun) -> str:
    output = run.result.output
    if len(output) > FEEDBACK_CHARS:
        output = "…\n" + output[-FEEDBACK_CHARS:]
    return (f"The tests fail with your pending changes applied (run on a scratch copy of the workspace, not the "
            f"user's files; they passed before your changes):\n$ {run.command}\n{output}\n"
            f"Fix your changes with edit_file so that the tests pass; change a test only if it is wrong.")
