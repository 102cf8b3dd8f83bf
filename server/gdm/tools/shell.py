"""`run_command`: a shell command in the workspace, gated by the `shell` policy; and `run_process`,
the one door every process the model can influence goes through.

Under `ask` each command is put to the user (the approver the session was given: the editor's
`window/showMessageRequest`, the terminal, ACP's permission request), saying whether it runs
sandboxed; `auto` runs read-only commands and the project's own test and check commands in the
sandbox without asking and asks about the rest; `allow` runs, `deny` refuses. Every decision is
written to the audit log. A command runs in the sandbox (gdm/sandbox: no network, writes only in the
workspace, the home's secrets and every other process invisible) unless the user set `sandbox: off`;
when the sandbox cannot start, nothing runs. It runs in its own process group with a timeout, its
output capped, its environment scrubbed of API keys and other secrets; on timeout or cancel the
whole group is killed. A sandboxed command that failed for lack of network may be offered once to
run again with the network — only ever by asking the user.
"""

from __future__ import annotations

import asyncio
import os
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gdm.context.secrets import scrub_env
from gdm.sandbox import NOT_RUN, Jail, SandboxUnavailable, shell_policy
from gdm.sandbox.bwrap import Launch
from gdm.sandbox.commands import offline_failure, runs_without_asking
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
    not_run: str | None = None  # the sandbox could not start (bubblewrap's words): nothing ran


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
                      limit: int = MAX_OUTPUT_CHARS, *, jail: Jail) -> CommandResult:
    """Run `command` with /bin/sh in its own process group, confined by `jail` (which every runner
    chooses: the sandbox with its policy, or UNSANDBOXED by the user's `sandbox: off`); kill the
    group on timeout or cancel. A sandbox that could not be set up runs nothing: `not_run` says why."""
    launch = await asyncio.to_thread(jail.prepare, command, env) if jail.sandboxed else None
    try:
        result = await _spawn_and_wait(command, cwd, timeout_s, env, limit, launch)
    finally:
        if launch is not None:
            await asyncio.to_thread(launch.finish)
    return result


async def _spawn_and_wait(command: str, cwd: Path, timeout_s: float, env: dict[str, str], limit: int,
                          launch: Launch | None) -> CommandResult:
    argv = launch.argv if launch is not None else ["/bin/sh", "-c", command]
    spawn = asyncio.ensure_future(asyncio.create_subprocess_exec(
        *argv, cwd=str(cwd), env=launch.env if launch is not None else env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, start_new_session=True,
        pass_fds=launch.pass_fds if launch is not None else ()))
    try:
        proc = await asyncio.shield(spawn)
    except asyncio.CancelledError:
        # Cancelled while the process was being started: it may already run, so finish starting
        # it only to kill its group.
        kill_group(await spawn)
        raise
    finally:
        if launch is not None and spawn.done():
            launch.spawned()
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
    if launch is not None and not launch.started():
        words = output.strip().splitlines()
        return CommandResult(None, output, not_run=words[-1] if words else f"bubblewrap exited with code {code}")
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
        policy = shell_policy(cwd, cwd, ctx.sandbox.network)
        try:
            jail = await ctx.sandbox.jail(policy)
        except SandboxUnavailable as exc:
            await _audit(ctx, {"command": command, "cwd": str(cwd), "policy": ctx.shell_policy,
                               "decision": "not_run", "by": f"{NOT_RUN}: {exc}", "sandbox": "unavailable"})
            return ToolOutcome(f"$ {command}\n({NOT_RUN}: {exc}; nothing was run. Do not retry it: tell the user "
                               f"what to run themselves.)")
        decision, by = await decide(ctx, command, cwd, jail)
        await _audit(ctx, {"command": command, "cwd": str(cwd), "policy": ctx.shell_policy, "decision": decision,
                           "by": by, "sandbox": _state(jail)})
        if decision == DENY:
            raise ToolError(f"run_command: running `{command}` was denied ({by}). Do not retry it; continue "
                            f"without it or explain what the user could run.")
        env = scrub_env(os.environ, ctx.hidden_env)
        result = await run_process(command, cwd, timeout, env, jail=jail)
        if result.not_run is None and jail.sandboxed and not policy.network and offline_failure(result):
            networked = await _offer_network(ctx, command, cwd, jail, result)
            if networked is not None:
                return ToolOutcome(describe(command, await run_process(command, cwd, timeout, env, jail=networked),
                                            timeout, networked))
        return ToolOutcome(describe(command, result, timeout, jail))


async def _audit(ctx: ToolContext, detail: dict[str, Any]) -> None:
    if ctx.audit is not None:
        await asyncio.to_thread(ctx.audit, "shell", {"tool": RunCommand.name, **detail})


def _state(jail: Jail) -> str:
    """The audit's word for where a command ran."""
    if not jail.sandboxed:
        return "off"
    return "on, network" if jail.policy is not None and jail.policy.network else "on"


async def decide(ctx: ToolContext, command: str, cwd: Path, jail: Jail) -> tuple[str, str]:
    """The decision on a command and who made it: the policy, an earlier 'always', or the user."""
    if ctx.shell_policy == "deny":
        return DENY, "shell policy deny"
    if ctx.shell_policy == "allow":
        return ALLOW_ONCE, "shell policy allow"
    if command in ctx.always_allowed:
        return ALWAYS_ALLOW, "allowed earlier for this session"
    if ctx.shell_policy == "auto" and jail.sandboxed and (why := runs_without_asking(command, ctx.known_commands)):
        return ALLOW_ONCE, f"shell policy auto: {why}, sandboxed"
    if ctx.approve is None:
        return DENY, "nobody to ask (not interactive)"
    answer = await ctx.approve(ApprovalRequest(ctx.task_id, "run_command", command, str(cwd),
                                               sandbox=jail.describe()))
    if answer == ALWAYS_ALLOW:
        ctx.always_allowed.add(command)
    return (answer if answer in (ALLOW_ONCE, ALWAYS_ALLOW) else DENY), "user"


async def _offer_network(ctx: ToolContext, command: str, cwd: Path, jail: Jail,
                         result: CommandResult) -> Jail | None:
    """A command that failed for lack of network: asked once whether to run it again with the
    network (never decided by a policy or an earlier 'always'); the jail to do it in, or None."""
    if ctx.approve is None or jail.policy is None:
        return None
    networked = Jail(jail.machine, jail.policy.with_network())
    answer = await ctx.approve(ApprovalRequest(ctx.task_id, "run_command", command, str(cwd), kind="network",
                                               sandbox=networked.describe(), detail=offline_failure(result)))
    await _audit(ctx, {"command": command, "cwd": str(cwd), "policy": ctx.shell_policy, "kind": "network",
                       "decision": answer if answer == ALLOW_ONCE else DENY, "by": "user", "sandbox": "on, network"})
    return networked if answer == ALLOW_ONCE else None


def describe(command: str, result: CommandResult, timeout: float, jail: Jail | None = None) -> str:
    """What the model reads: the command, how it ended, where it ran, its output."""
    if result.not_run is not None:
        return f"$ {command}\n({NOT_RUN}: {result.not_run}; nothing was run)"
    if result.timed_out:
        return f"$ {command}\n(killed after the {timeout:g} s timeout, with its whole process group)"
    where = f"; {jail.describe()}" if jail is not None else ""
    return f"$ {command}\n(exit code {result.exit_code}{where})\n{result.output}"
