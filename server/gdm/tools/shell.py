"""`run_command`: a shell command in the workspace, gated by the `shell` policy.

Under `ask` each command is put to the user (the approver the session was given: the editor's
`window/showMessageRequest`, or the terminal); `allow` runs, `deny` refuses. Every decision is
written to the audit log. A command runs in its own process group with a timeout, its output
capped, its environment scrubbed of API keys and other secrets, in the workspace (or the scratch
copy the task tests on); on timeout or cancel the whole group is killed.
"""

from __future__ import annotations

import asyncio
import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gdm.context.secrets import scrub_env
from gdm.tools.base import ALLOW_ONCE, ALWAYS_ALLOW, DENY, ApprovalRequest, Tool, ToolContext, ToolError, ToolOutcome

DEFAULT_TIMEOUT_S = 60.0
MAX_TIMEOUT_S = 600.0
MAX_OUTPUT_CHARS = 20_000  # head and tail of it; the middle of a long log is rarely what matters
READ_CHUNK = 65_536


@dataclass
class CommandResult:
    """How a command ended and what it printed (stdout and stderr together, capped)."""

    exit_code: int | None
    output: str
    timed_out: bool = False
    dropped_chars: int = 0


def kill_group(proc: asyncio.subprocess.Process) -> None:
    """SIGKILL the process group a command runs in (its children and grandchildren too)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass  # already gone: nothing left to stop


async def _read_capped(stream: asyncio.StreamReader, limit: int) -> tuple[str, int]:
    head, tail, dropped = bytearray(), bytearray(), 0
    half = limit // 2
    while chunk := await stream.read(READ_CHUNK):
        room = half - len(head)
        if room > 0:
            head += chunk[:room]
            chunk = chunk[room:]
        tail += chunk
        if len(tail) > half:
            dropped += len(tail) - half
            del tail[: len(tail) - half]
    text = head.decode("utf-8", errors="replace")
    if dropped:
        text += f"\n… [{dropped} bytes of output cut] …\n"
    return text + tail.decode("utf-8", errors="replace"), dropped


async def run_process(command: str, cwd: Path, timeout_s: float, env: dict[str, str],
                      limit: int = MAX_OUTPUT_CHARS) -> CommandResult:
    """Run `command` with /bin/sh in its own process group; kill the group on timeout or cancel."""
    spawn = asyncio.ensure_future(asyncio.create_subprocess_exec(
        "/bin/sh", "-c", command, cwd=str(cwd), env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, start_new_session=True))
    try:
        proc = await asyncio.shield(spawn)
    except asyncio.CancelledError:
        # Cancelled while the process was being started: it may already run, so finish starting
        # it only to kill its group.
        kill_group(await spawn)
        raise
    assert proc.stdout is not None
    try:
        output, dropped = await asyncio.wait_for(_read_capped(proc.stdout, limit), timeout_s)
        code = await asyncio.wait_for(proc.wait(), timeout_s)
    except asyncio.TimeoutError:
        kill_group(proc)
        await proc.wait()
        return CommandResult(proc.returncode, "", timed_out=True)
    except asyncio.CancelledError:
        kill_group(proc)  # the task was cancelled: nothing it started may outlive it
        raise
    kill_group(proc)  # background children left holding nothing: they go with the command
    return CommandResult(code, output, dropped_chars=dropped)


class RunCommand(Tool):
    """Run a shell command in the workspace, after the user's approval under the `ask` policy."""

    name = "run_command"
    description = ("Run a shell command (sh -c) in the workspace root, e.g. the tests. The user may be asked to "
                   "approve it, or may deny it. Output (stdout and stderr) is capped; default timeout 60 s.")
    parameters = {
        "type": "object",
        "properties": {
            "command": {"type": "string"},
            "timeout_s": {"type": "number", "description": f"seconds before the command is killed "
                                                           f"(default {DEFAULT_TIMEOUT_S:.0f}, max {MAX_TIMEOUT_S:.0f})"},
        },
        "required": ["command"],
    }

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        command = args["command"].strip()
        if not command:
            raise ToolError("run_command: command must not be empty")
        timeout = min(MAX_TIMEOUT_S, max(1.0, float(args.get("timeout_s") or DEFAULT_TIMEOUT_S)))
        cwd = Path(os.path.realpath(ctx.cwd or ctx.view.root))
        decision, by = await decide(ctx, command, cwd)
        if ctx.audit is not None:
            await asyncio.to_thread(ctx.audit, "shell", {"tool": self.name, "command": command, "cwd": str(cwd),
                                                        "policy": ctx.shell_policy, "decision": decision, "by": by})
        if decision == DENY:
            raise ToolError(f"run_command: running `{command}` was denied ({by}). Do not retry it; continue "
                            f"without it or explain what the user could run.")
        result = await run_process(command, cwd, timeout, scrub_env(os.environ, ctx.hidden_env))
        return ToolOutcome(describe(command, result, timeout))


async def decide(ctx: ToolContext, command: str, cwd: Path) -> tuple[str, str]:
    """The decision on a command and who made it: the policy, an earlier 'always', or the user."""
    if ctx.shell_policy == "deny":
        return DENY, "shell policy deny"
    if ctx.shell_policy == "allow":
        return ALLOW_ONCE, "shell policy allow"
    if command in ctx.always_allowed:
        return ALWAYS_ALLOW, "allowed earlier for this session"
    if ctx.approve is None:
        return DENY, "nobody to ask (not interactive)"
    answer = await ctx.approve(ApprovalRequest(ctx.task_id, "run_command", command, str(cwd)))
    if answer == ALWAYS_ALLOW:
        ctx.always_allowed.add(command)
    return (answer if answer in (ALLOW_ONCE, ALWAYS_ALLOW) else DENY), "user"


def describe(command: str, result: CommandResult, timeout: float) -> str:
    """What the model reads: the command, how it ended, its output."""
    if result.timed_out:
        return f"$ {command}\n(killed after the {timeout:g} s timeout, with its whole process group)"
    return f"$ {command}\n(exit code {result.exit_code})\n{result.output}"
