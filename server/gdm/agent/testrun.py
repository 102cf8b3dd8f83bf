"""Tests after edits: run the project's tests on a scratch copy with the task's pending patches.

When the model ends a turn without tool calls and the task has proposed patches, the loop asks
the `TestGate`: the workspace is copied to a temporary folder (never the user's files), the
text the task sees (open buffers, its pending patches on top) is written there, and the test
command runs in it under the shell fences (scrubbed environment, timeout, process group). New
failures — the tests passed without the patches — go back to the model for up to `rounds`
more tries; the last result is written into the patches' risk reasons.

The same gate runs the checks after edits (agent/checks.py) on the same scratch copy: first
without the task's patches (once per task: the baseline), then with them; the problems the
patches add go back to the model like failing tests, in the same message and the same rounds.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from gdm.agent import checks as chk
from gdm.agent.events import Event, PatchProposed, Thinking
from gdm.agent.scratch import Scratch, overlay
from gdm.context.rules import rules_test_command
from gdm.context.secrets import scrub_env
from gdm.patches.risk import CHECK_WEIGHTS, RiskReason, Tier, set_reasons, tier_for
from gdm.sandbox import NOT_RUN, SandboxUnavailable, scratch_policy
from gdm.tools.base import ToolContext
from gdm.tools.shell import CommandResult, run_process

__all__ = ["TestGate", "TestRun", "detect_test_command", "overlay", "run_on_scratch"]

DEFAULT_ROUNDS = 2
TEST_TIMEOUT_S = 300.0
FEEDBACK_CHARS = 6_000  # the end of a test log is where the failures are summarised
FAILING_WEIGHT = 0.3
PYTEST_NO_TESTS = 5  # pytest's exit code when it collected no tests


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
    def not_run(self) -> bool:
        """The sandbox could not start: nothing ran, nothing passed or failed."""
        return self.result.not_run is not None

    @property
    def none_ran(self) -> bool:
        """pytest found no tests (exit code 5): nothing failed, there was nothing to run."""
        return self.result.exit_code == PYTEST_NO_TESTS and "no tests ran" in self.result.output

    def summary(self) -> str:
        """One line: the command and how it ended."""
        if self.result.not_run is not None:
            return f"`{self.command}` ({NOT_RUN}: {self.result.not_run})"
        how = "timed out" if self.result.timed_out else f"exit code {self.result.exit_code}"
        return f"`{self.command}` ({how})"


async def run_on_scratch(ctx: ToolContext, command: str, task_id: str | None,
                         timeout_s: float = TEST_TIMEOUT_S) -> TestRun:
    """Run `command` on a fresh scratch copy (the task's patches applied if `task_id`), then remove it."""
    async with Scratch(ctx) as scratch:
        scratch.apply(task_id)
        return await _run_tests(ctx, command, scratch, timeout_s)


async def _run_tests(ctx: ToolContext, command: str, scratch: Scratch, timeout_s: float) -> TestRun:
    """The test command in the sandbox: writes only in the scratch copy; not run when it cannot start."""
    env = scrub_env(os.environ, ctx.hidden_env)
    try:
        jail = await ctx.sandbox.jail(scratch_policy("tests", scratch.base, scratch.ws, ctx.sandbox.network))
    except SandboxUnavailable as exc:
        return TestRun(command, CommandResult(None, "", not_run=str(exc)))
    return TestRun(command, await run_process(command, scratch.ws, timeout_s, env, jail=jail))


class TestGate:
    """Decides, at the end of each model answer, whether the tests or checks send the model back to work."""

    __test__ = False  # not a pytest class, despite its name

    def __init__(self, ctx: ToolContext, command: str | None, rounds: int = DEFAULT_ROUNDS,
                 checks: list[str] | tuple[str, ...] = (), check_notes: list[str] | tuple[str, ...] = (),
                 timeout_s: float = TEST_TIMEOUT_S) -> None:
        self.ctx = ctx
        self.command = command
        self.rounds_left = rounds
        self.feedback: str | None = None
        self.checks = [chk.machine_readable(c) for c in checks]
        self.timeout_s = timeout_s
        self._notes = list(check_notes)  # said once, at the first check
        self._baseline: TestRun | None = None
        self._check_baseline: dict[str, chk.CheckRun] | None = None
        self._skipped: set[str] = set()  # checks not installed, or without a usable baseline
        # tool caches (MYPY_CACHE_DIR) for the task's life, outside every scratch copy: a later
        # round's mypy rechecks only what changed. Removed when the task may end, or collected.
        self._caches: tempfile.TemporaryDirectory[str] | None = None

    async def check(self, task_id: str, patch_ids: list[str]) -> AsyncIterator[Event]:
        """Run the tests and checks; set `feedback` to the message for the model, or None when the task may end."""
        self.feedback = None
        for note in self._notes:
            yield Thinking(task_id, f"Check skipped: {note}")
        self._notes = []
        # The tests first, on the copy exactly as the workspace + buffers + patches; then the checks
        # with the patches; then (once per task) the baseline on the same copy, the patched files
        # put back: both check runs see whatever the tests left behind in the copy alike.
        async with Scratch(self.ctx) as scratch:
            scratch.apply(task_id)
            run = None
            if self.command:
                yield Thinking(task_id, f"Running the tests on a scratch copy with the pending patches: {self.command}"
                                        f" ({self._where()})")
                run = await _run_tests(self.ctx, self.command, scratch, self.timeout_s)
            added: list[chk.Problem] = []
            if self.checks:
                yield Thinking(task_id, "Running the checks on the scratch copy with the pending patches: "
                                        + "; ".join(self._usable()))
                after = await self._run_checks(scratch)
                if self._check_baseline is None:
                    scratch.apply(None)
                    yield Thinking(task_id, "Running the checks on the scratch copy without the patches "
                                            "(the baseline, once per task)")
                    self._check_baseline = await self._run_checks(scratch)
                    for event in self._skip_unusable(task_id, self._check_baseline):
                        yield event
                for event in self._skip_unusable(task_id, after):
                    yield event
                for command, got in after.items():
                    if command not in self._skipped:
                        added += chk.new_problems(self._check_baseline[command].problems, got.problems)
        async for event in self._decide(task_id, patch_ids, run, added):
            yield event
        if self.feedback is None and self._caches is not None:
            await asyncio.to_thread(self._caches.cleanup)
            self._caches = None

    async def _decide(self, task_id: str, patch_ids: list[str], run: TestRun | None,
                      added: list[chk.Problem]) -> AsyncIterator[Event]:
        new_failure = already = False
        if run is not None and not run.not_run and not run.none_ran and not run.passed:
            if self._baseline is None:
                self._baseline = await run_on_scratch(self.ctx, run.command, None, self.timeout_s)
            new_failure, already = self._baseline.passed, not self._baseline.passed
        if (new_failure or added) and self.rounds_left > 0:
            self.rounds_left -= 1
            more = f"({self.rounds_left} more round(s) after this one)"
            parts = []
            if new_failure:
                parts.append(_feedback(run))
                yield Thinking(task_id, f"Tests fail with the patches: {run.summary()}; sending the failures "
                                        f"back to the model {more}")
            if added:
                parts.append(chk.feedback(added, self._usable()))
                yield Thinking(task_id, f"Checks: {len(added)} new problem(s) with the patches "
                                        f"({added[0].describe()}{', …' if len(added) > 1 else ''}); sending them "
                                        f"back to the model {more}")
            self.feedback = "\n\n".join(parts)
            return
        marked: set[str] = set()
        if run is not None and run.not_run:
            yield Thinking(task_id, f"Tests not run: {run.summary()}")
            marked |= {p for p in patch_ids if self._mark(p, run, already)}
        elif run is not None and run.none_ran:
            # The patches leave no tests (they delete or move them): nothing for the model to fix;
            # the risk says what removing tests means.
            yield Thinking(task_id, f"No tests ran with the patches: {run.summary()}")
        elif run is not None:
            yield Thinking(task_id, f"Tests {'pass' if run.passed else 'fail'} with the patches: {run.summary()}"
                                    + (" (they failed before the change too)" if already else ""))
            marked |= {p for p in patch_ids if self._mark(p, run, already)}
        if self.checks:
            yield Thinking(task_id, f"Checks: {len(added)} new problem(s) with the patches"
                                    + (f" ({'; '.join(p.describe() for p in added[:3])})" if added else ""))
            marked |= {p for p in patch_ids if self._mark_checks(p, patch_ids, added)}
        for patch_id in patch_ids:
            if patch_id in marked:
                yield PatchProposed(task_id, patch_id)

    async def _run_checks(self, scratch: Scratch) -> dict[str, chk.CheckRun]:
        if self._caches is None:
            self._caches = tempfile.TemporaryDirectory(prefix="gdm-check-caches-")
        caches = Path(self._caches.name)
        env = {**scrub_env(os.environ, self.ctx.hidden_env), "MYPY_CACHE_DIR": str(caches / "mypy")}
        runs: dict[str, chk.CheckRun] = {}
        unavailable = ""
        try:
            jail = await self.ctx.sandbox.jail(scratch_policy("checks", scratch.base, scratch.ws,
                                                              self.ctx.sandbox.network, (caches,)))
        except SandboxUnavailable as exc:
            jail, unavailable = None, str(exc)
        for command in self.checks:
            if command in self._skipped:
                continue
            if jail is None:
                result = CommandResult(None, "", not_run=unavailable)
            else:
                result = await run_process(command, scratch.ws, self.timeout_s, env, limit=chk.CHECK_OUTPUT_CHARS,
                                           jail=jail)
            runs[command] = chk.parse_run(command, result, scratch.ws)
        return runs

    def _where(self) -> str:
        """Where the tests run, as the thinking event says it."""
        if not self.ctx.sandbox.enabled:
            return "UNSANDBOXED: sandbox is off"
        return "sandboxed: " + ("network on" if self.ctx.sandbox.network else "no network")

    def _skip_unusable(self, task_id: str, runs: dict[str, chk.CheckRun]) -> list[Event]:
        """Thinking events for runs whose problems do not count; a missing tool, or a check without a
        baseline, is skipped for the rest of the task (said once)."""
        events: list[Event] = []
        for command, got in runs.items():
            if got.note is None:
                continue
            events.append(Thinking(task_id, f"Check skipped: {got.note}"))
            if got.missing or runs is self._check_baseline:
                self._skipped.add(command)
        return events

    def _usable(self) -> list[str]:
        return [c for c in self.checks if c not in self._skipped]

    def _mark_checks(self, patch_id: str, patch_ids: list[str], added: list[chk.Problem]) -> bool:
        """Write the problems a patch adds into its risk: one reason per kind, with messages and places.
        A problem in a file none of the task's patches touches (a caller broken by a changed
        signature) is put on every patch of the task."""
        patch = self.ctx.patches.get(patch_id)
        if patch is None or patch.risk is None:
            return False
        task_paths = {q for pid in patch_ids if (other := self.ctx.patches.get(pid))
                      for q in (other.path, other.new_path) if q}
        mine = [p for p in added if p.path in (patch.path, patch.new_path) or p.path not in task_paths]
        for code, (weight, floor) in CHECK_WEIGHTS.items():
            found = [p for p in mine if f"{p.kind}_new" == code]
            shown = [p.describe() for p in found[:chk.SHOWN_PROBLEMS]]
            if shown:
                shown[0] = f"adds {len(found)} {code.removesuffix('_new')} problem(s): {shown[0]}"
            set_reasons(patch.risk, code, shown, weight, floor)
        ran = ", ".join(f"`{c}`" for c in self._usable())
        set_reasons(patch.risk, "checks_ok", [] if mine or not ran else [f"no new problems from {ran}"], 0.0)
        self.ctx.patches.put(patch)
        return True

    def _mark(self, patch_id: str, run: TestRun, already: bool) -> bool:
        """Write the test result into a patch's risk reasons (failing raises the score)."""
        patch = self.ctx.patches.get(patch_id)
        if patch is None or patch.risk is None:
            return False
        risk = patch.risk
        risk.reasons = [r for r in risk.reasons if not r.code.startswith("tests_")]
        if run.not_run:
            # Nothing ran: the patch is not known to pass or fail; the reason says why, for the user.
            risk.reasons.append(RiskReason("tests_not_run", 0.0, f"tests {NOT_RUN}: {run.result.not_run}"))
        elif run.passed:
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
