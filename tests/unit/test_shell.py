"""run_command without an editor: policies, the approver, audit, output cap, timeout, cancel."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gdm.context.workspace import NoBuffers, WorkspaceView
from gdm.headless import terminal_approver
from gdm.scripted import ScriptedModel
from gdm.patches.book import PatchBook
from gdm.patches.risk import RiskContext
from gdm.tools.base import ApprovalRequest, ToolContext, ToolError, counter_ids
from gdm.sandbox import UNSANDBOXED, Jail, Sandbox, shell_policy
from gdm.tools.shell import RunCommand, run_process
from tests.conftest import FIXTURES
from tests.e2e.editor import server_env
from tests.procs import in_folder, none_in
from tests.waiting import until


def make_ctx(root: Path, policy: str, answers: list[str] | None = None) -> tuple[ToolContext, list, list]:
    asked, audits = [], []

    async def approve(request):
        asked.append(request)
        return answers.pop(0)

    book = PatchBook()
    ctx = ToolContext("t1", WorkspaceView(root, NoBuffers(), book), book, RiskContext(), counter_ids("p"),
                      approve=approve if answers is not None else None, shell_policy=policy,
                      audit=lambda kind, detail: audits.append((kind, detail)))
    return ctx, asked, audits


async def run(ctx, **args):
    tool = RunCommand()
    return await tool.run(tool.check_args(args), ctx)


async def test_ask_allow_once_then_always_then_remembered(tmp_path):
    ctx, asked, audits = make_ctx(tmp_path, "ask", ["allow_once", "always"])
    assert "(exit code 0; runs sandboxed: no network, writes only in the workspace)\nhi" in (
        await run(ctx, command="echo hi")).text
    await run(ctx, command="echo hi")
    await run(ctx, command="echo hi")
    assert len(asked) == 2 and asked[0].cwd == str(tmp_path.resolve()) and asked[0].command == "echo hi"
    assert [d["decision"] for _, d in audits] == ["allow_once", "always", "always"]
    assert audits[-1][1]["by"] == "allowed earlier for this session"


@pytest.mark.parametrize("policy,answers,by", [("ask", ["deny"], "user"), ("ask", ["nonsense"], "user"),
                                               ("ask", None, "nobody to ask (not interactive)"),
                                               ("deny", ["allow_once"], "shell policy deny")])
async def test_denied_commands_do_not_run(tmp_path, policy, answers, by):
    ctx, _, audits = make_ctx(tmp_path, policy, answers)
    with pytest.raises(ToolError, match="denied"):
        await run(ctx, command="touch ran")
    assert not (tmp_path / "ran").exists()
    assert audits == [("shell", {"tool": "run_command", "command": "touch ran", "cwd": str(tmp_path.resolve()),
                                 "policy": policy, "decision": "deny", "by": by, "sandbox": "on"})]


async def jail(tmp_path: Path, sandboxed: bool) -> Jail:
    """The workspace's shell jail, or explicitly none (what `sandbox: off` gives)."""
    return await Sandbox().jail(shell_policy(tmp_path, tmp_path, False)) if sandboxed else UNSANDBOXED


@pytest.mark.parametrize("sandboxed", [True, False], ids=["sandboxed", "unsandboxed"])
async def test_output_is_capped_keeping_head_and_tail(tmp_path, sandboxed):
    result = await run_process("seq 1 200000", tmp_path, 30, dict(os.environ), limit=1000,
                               jail=await jail(tmp_path, sandboxed))
    assert result.exit_code == 0 and result.dropped_chars > 0
    assert result.output.startswith("1\n2\n") and result.output.rstrip().endswith("200000")
    assert len(result.output) < 1200


async def test_timeout_and_cancel_kill_the_group(tmp_path):
    none = UNSANDBOXED
    result = await run_process("sleep 30 & echo $! > pid; wait", tmp_path, 1, dict(os.environ), jail=none)
    assert result.timed_out
    assert await _dies(int((tmp_path / "pid").read_text()))
    task = asyncio.ensure_future(run_process("sleep 30 & echo $! > pid2; wait", tmp_path, 60, dict(os.environ),
                                             jail=none))
    await until(lambda: (tmp_path / "pid2").exists() and (tmp_path / "pid2").read_text().strip())
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await _dies(int((tmp_path / "pid2").read_text()))


async def test_timeout_and_cancel_kill_the_whole_sandbox(tmp_path):
    """Inside the sandbox pids are its own: the machine's processes are found by their working folder
    (a background `setsid` child too), and must all be gone."""
    sandbox = await jail(tmp_path, True)
    result = await run_process("setsid sleep 30 & sleep 30 & echo started > started; wait", tmp_path, 1,
                               dict(os.environ), jail=sandbox)
    assert result.timed_out and (tmp_path / "started").exists()
    assert await none_in(tmp_path)
    task = asyncio.ensure_future(run_process("setsid sleep 30 & echo started > started2; wait", tmp_path, 60,
                                             dict(os.environ), jail=sandbox))
    await until((tmp_path / "started2").exists)
    assert in_folder(tmp_path)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await none_in(tmp_path)


async def _dies(pid: int) -> bool:
    """SIGKILL is sent at once, but a loaded machine may take a moment to schedule the death."""
    for _ in range(250):
        if not _alive(pid):
            return True
        await asyncio.sleep(0.02)
    return False


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


class _FakeTerminal:
    def __init__(self, answer: str, tty: bool = True) -> None:
        self.answer, self.tty = answer, tty

    def isatty(self) -> bool:
        return self.tty

    def readline(self) -> str:
        return self.answer


@pytest.mark.parametrize("typed,tty,decision", [("o\n", True, "allow_once"), ("a\n", True, "always"),
                                                ("\n", True, "deny"), ("n\n", True, "deny"),
                                                ("o\n", False, "deny")])
async def test_terminal_approver(typed, tty, decision):
    out = io.StringIO()
    answer = await terminal_approver(_FakeTerminal(typed, tty), out)(ApprovalRequest("t1", "run_command", "make", "/w"))
    assert answer == decision
    assert ("make" in out.getvalue()) and (("/w" in out.getvalue()) is tty)


def test_headless_ask_denies_when_stdin_is_not_a_terminal_and_runs_under_allow(workspace, tmp_path):
    with ScriptedModel(json.loads((FIXTURES / "scripts" / "agent.json").read_text())) as model:
        env = server_env(tmp_path, GDM_MODEL="openai/scripted", GDM_API_BASE=model.base_url,
                         GDM_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}")
        denied = subprocess.run([sys.executable, "-m", "gdm.cli", "ask", "Shell check, denied", "--workspace",
                                 str(workspace)], capture_output=True, text=True, env=env, timeout=120,
                                stdin=subprocess.DEVNULL)
        assert denied.returncode == 0, denied.stdout + denied.stderr
        assert "stdin is not a terminal" in denied.stdout and model.failures == []
        allowed = subprocess.run([sys.executable, "-m", "gdm.cli", "ask", "Shell check, allowed", "--workspace",
                                  str(workspace)], capture_output=True, text=True, timeout=120,
                                 env={**env, "GDM_SHELL": "allow"}, stdin=subprocess.DEVNULL)
        assert allowed.returncode == 0 and model.failures == [], allowed.stdout + allowed.stderr
        assert "shell-says-hi" in allowed.stdout
