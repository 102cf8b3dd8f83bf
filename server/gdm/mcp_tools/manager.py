"""The session's MCP servers: started lazily, restarted once, stopped when removed or at the end.

Every SDK session is bound to the event loop it was created on. Tools run on the loop that drives
the task (the editor's loop; a headless `asyncio.run`), so the servers live on that loop — the
manager's home, set by the first task that needs a tool list — and a call costs no thread
hand-over (a hop to another thread was +4 ms a call on this loaded machine; benchmarks/README.md).
A call from another thread's loop is handed to the home loop (`_hop`); a home loop that has ended
(a finished `asyncio.run`) took its connections with it, so the next one starts afresh. What the
user must hear (a server that did not start, one that crashed) goes to `report`, once.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import os
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from gdm.config import Settings
from gdm.context.secrets import scrub_env
from gdm.mcp_tools.results import CallResult, McpFailure, RemoteTool
from gdm.mcp_tools.specs import ServerSpec, all_specs
from gdm.mcp_tools.tools import registry_with
from gdm.tools.base import ALLOW_ONCE, ALWAYS_ALLOW, ApprovalRequest, ToolContext, ToolError, ToolRegistry

if TYPE_CHECKING:
    from gdm.mcp_tools.client import Connection

log = logging.getLogger(__name__)
T = TypeVar("T")

START_TIMEOUT_S = 30.0  # initialize + tools/list
CALL_TIMEOUT_S = 60.0  # fixed (the tool's own `timeout_s` argument is never trusted)
# Tests shorten these without a settings key (README, "MCP tools").
START_TIMEOUT_ENV, CALL_TIMEOUT_ENV = "GDM_TEST_MCP_START_TIMEOUT_S", "GDM_TEST_MCP_CALL_TIMEOUT_S"
MAX_RESTARTS = 1
# At gdm's exit: how long servers get to stop by themselves (stdin closed) before SIGKILL, and then
# for the SDK to see them go. Both within the 2 s an editor waits before killing gdm.
EXIT_GRACE_S, EXIT_REAP_S = 1.0, 0.5


def _seconds(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, ""))
    except ValueError:
        return default
    return value if value > 0 else default


@dataclass
class ServerState:
    """One server of the session: how it is doing and what it offers."""

    spec: ServerSpec
    status: str = "not started"  # running | failed | refused | gone (crashed after its restart) | not started
    connection: Connection | None = None
    tools: list[RemoteTool] = field(default_factory=list)
    error: str | None = None
    restarts: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def fingerprint(spec: ServerSpec) -> str:
    """Same name, source and config: the same server (a changed command is asked about again)."""
    return json.dumps([spec.name, spec.source, spec.config.model_dump()], sort_keys=True)


class McpManager:
    """The MCP servers of one session, fed from its Settings (`mcpServers`, `mcpPolicy`)."""

    def __init__(self, root: Path, settings: Settings, *, hidden_env: frozenset[str] = frozenset(),
                 allow_workspace: bool | None = None) -> None:
        self.root = root
        self.hidden_env = hidden_env
        # None: ask the user (editor); True / False: headless, the explicit flag decides.
        self.allow_workspace = allow_workspace
        self.always_allowed: set[str] = set()  # tool names the user chose "Always allow" for
        self.consent: dict[str, bool] = {}  # workspace server fingerprint -> the user's answer
        self.report: Callable[[str], None] = lambda message: log.warning("%s", message)
        self.start_timeout_s = _seconds(START_TIMEOUT_ENV, START_TIMEOUT_S)
        self.call_timeout_s = _seconds(CALL_TIMEOUT_ENV, CALL_TIMEOUT_S)
        self._home: asyncio.AbstractEventLoop | None = None  # where the servers' connections live
        self._servers: dict[str, ServerState] = {}  # touched on the home loop only
        self._queued: collections.deque[str] = collections.deque()
        self._pending: set[asyncio.Task[None]] = set()
        self._started: set[Connection] = set()  # every connection whose process may still run (for `end`)
        self._reported: set[str] = set()
        self.update(settings)

    # -- settings --------------------------------------------------------------------

    def update(self, settings: Settings) -> None:
        """New settings: servers removed or changed are stopped (a changed one restarts when next needed)."""
        self.policy = settings.mcp_policy
        self.user = settings.effective_user()
        self.configured = dict(settings.mcp_servers)
        if self._servers and self._home is not None and not self._home.is_closed():
            wanted = {name: fingerprint(ServerSpec(name, config)) for name, config in self.configured.items()}
            self._background(self._drop_settings_servers(wanted))

    def _background(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run `coro` on the home loop without waiting for it (from a sync caller)."""
        assert self._home is not None
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._home:
            self._pending.add(task := self._home.create_task(coro))
            task.add_done_callback(self._pending.discard)
        else:
            asyncio.run_coroutine_threadsafe(coro, self._home)

    async def _drop_settings_servers(self, wanted: dict[str, str]) -> None:
        for name, state in list(self._servers.items()):
            if not state.spec.from_workspace and wanted.get(name) != fingerprint(state.spec):
                await self._forget(name)

    def specs(self) -> list[ServerSpec]:
        """The servers on offer now: settings first, then the workspace's files (read each time)."""
        specs, problems = all_specs(self.configured, self.root)
        for problem in problems:
            self.problem(f"gdm: {problem}; that MCP server is not offered", key=problem)
        return specs

    # -- reporting -------------------------------------------------------------------

    def problem(self, message: str, key: str | None = None) -> None:
        """Queue a message for the user; with a `key`, only the first time."""
        if key is not None:
            if key in self._reported:
                return
            self._reported.add(key)
        log.warning("%s", message)
        self._queued.append(message)

    def flush(self) -> None:
        """Hand the queued messages to `report` (on the caller's loop)."""
        while self._queued:
            self.report(self._queued.popleft())

    async def _hop(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await `coro` on the home loop: right here when this is it (the usual case)."""
        loop = asyncio.get_running_loop()
        home = self._home
        if home is not None and home is not loop and (home.is_closed() or not home.is_running()):
            log.info("the MCP servers' event loop has ended; they start afresh on this one")
            self._servers, home = {}, None
        if home is None:
            self._home = home = loop
        try:
            if home is loop:
                return await coro
            return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, home))
        finally:
            self.flush()

    # -- the tools of a task -----------------------------------------------------------

    async def registry(self, base: ToolRegistry, ctx: ToolContext) -> ToolRegistry:
        """`base` plus the tools of every server on offer (started now if needed)."""
        specs = await asyncio.to_thread(self.specs)
        self.flush()
        if not specs:
            return base
        allowed = [s for s in specs if not s.from_workspace or await self._consent(s, ctx)]
        listed = await self._hop(self._ensure(allowed)) if allowed else {}
        registry = registry_with(base, self, listed)
        self.flush()
        return registry

    async def _consent(self, spec: ServerSpec, ctx: ToolContext) -> bool:
        """The user's yes to start a server the workspace defines: asked once per session."""
        key = fingerprint(spec)
        if key in self.consent:
            return self.consent[key]
        if self.allow_workspace is not None:
            allowed, by = self.allow_workspace, "command line"
        elif ctx.approve is None:
            allowed, by = False, "nobody to ask"
        else:
            answer = await ctx.approve(ApprovalRequest(ctx.task_id, spec.name, spec.command_line(), str(self.root),
                                                       kind="mcp-server", server=spec.name, server_tool=spec.source))
            allowed, by = answer in (ALLOW_ONCE, ALWAYS_ALLOW), "user"
        self.consent[key] = allowed
        if ctx.audit is not None:
            await asyncio.to_thread(ctx.audit, "mcp", {"server": spec.name, "source": spec.source,
                                                       "command": spec.command_line(), "decision":
                                                       "start" if allowed else "refuse", "reason": by, "by": self.user})
        if not allowed:
            self.problem(f"gdm: the MCP server {spec.name!r} defined in {spec.source} of the workspace was not started "
                         f"({'refused' if by == 'user' else 'not allowed: ' + by}); its tools are not available")
        return allowed

    async def _ensure(self, specs: list[ServerSpec]) -> dict[str, list[RemoteTool]]:
        """Start what is not running (concurrently); each running server's tools."""
        states = []
        for spec in specs:
            state = self._servers.get(spec.name)
            if state is None or fingerprint(state.spec) != fingerprint(spec):
                if state is not None:
                    await self._forget(spec.name)
                state = self._servers[spec.name] = ServerState(spec)
            states.append(state)
        await asyncio.gather(*(self._start(s) for s in states))
        return {s.spec.name: s.tools for s in states if s.status == "running"}

    async def _start(self, state: ServerState) -> None:
        async with state.lock:
            if state.status == "running" and state.connection is not None and not state.connection.alive:
                await self._restart(state, state.connection.ended or "it exited")
            if state.status != "not started":
                return
            name = state.spec.name
            try:
                state.connection, state.tools = await self._open(state.spec)
            except McpFailure as exc:
                state.status, state.error = "failed", str(exc)
                self.problem(f"gdm: the MCP server {name!r} did not start: {exc}; its tools are not available",
                             key=f"start:{fingerprint(state.spec)}")
                return
            state.status, state.error = "running", None

    async def _open(self, spec: ServerSpec) -> tuple[Connection, list[RemoteTool]]:
        from gdm.mcp_tools.client import Connection  # the SDK (~1 s to import), on this thread, when needed

        config = spec.config
        cwd = self.root
        env = scrub_env(os.environ, self.hidden_env)
        if hasattr(config, "command"):
            cwd = (self.root / config.cwd) if config.cwd else self.root
            if not cwd.is_dir():
                raise McpFailure(f"its cwd {cwd} is not a folder")
            env = {**env, **config.env}
        connection = Connection(config, cwd, env)
        self._started = {c for c in self._started if not c.finished}
        self._started.add(connection)
        return connection, await connection.open(self.start_timeout_s)

    async def _restart(self, state: ServerState, why: str) -> str:
        """After a crash: once per server, a fresh start; what happened, for the model."""
        name = state.spec.name
        old, state.connection = state.connection, None
        if old is not None:
            await old.close()
        if state.restarts >= MAX_RESTARTS:
            state.status, state.error, state.tools = "gone", why, []
            self.problem(f"gdm: the MCP server {name!r} exited again ({why}); it is not restarted, its tools are "
                         f"unavailable for the rest of this session")
            return "it had already been restarted once, so its tools are unavailable for the rest of this session"
        state.restarts += 1
        try:
            state.connection, state.tools = await self._open(state.spec)
        except McpFailure as exc:
            state.status, state.error, state.tools = "failed", str(exc), []
            self.problem(f"gdm: the MCP server {name!r} exited ({why}) and did not restart: {exc}")
            return f"restarting it failed ({exc}); its tools are unavailable"
        state.status = "running"
        self.problem(f"gdm: the MCP server {name!r} exited ({why}); gdm restarted it")
        return "gdm restarted it, so the call can be retried"

    # -- calls -----------------------------------------------------------------------

    async def call(self, server: str, tool: str, args: dict[str, Any]) -> CallResult:
        """Call a tool (on the MCP loop); ToolError with a clear reason when that fails."""
        try:
            return await self._hop(self._call(server, tool, args))
        except McpFailure as exc:
            raise ToolError(f"mcp__{server}__{tool}: {exc}") from None

    async def _call(self, server: str, tool: str, args: dict[str, Any]) -> CallResult:
        state = self._servers.get(server)
        if state is None or state.status != "running" or state.connection is None:
            why = state.error if state is not None and state.error else "it is not running"
            raise McpFailure(f"the MCP server {server!r} is not available ({why})")
        connection = state.connection
        try:
            return await connection.call(tool, args, self.call_timeout_s)
        except McpFailure as failure:
            exc = failure
            if exc.timeout:
                self.problem(f"gdm: the MCP tool {tool!r} of server {server!r} did not answer within "
                             f"{self.call_timeout_s:g} s; the call was cancelled, the server keeps running")
                raise McpFailure(f"the tool {tool!r} of MCP server {server!r} did not answer within "
                                 f"{self.call_timeout_s:g} s; the call was cancelled (the server keeps running)") from None
            if not exc.closed and connection.alive:
                raise McpFailure(f"the MCP server {server!r} answered the call with an error: {exc}") from None
        async with state.lock:
            note = await self._restart(state, connection.ended or str(exc)) if state.connection is connection else \
                "it has been restarted since"
        raise McpFailure(f"the MCP server {server!r} exited during the call ({exc}); the call may or may not have "
                         f"taken effect; {note}")

    # -- listing and stopping ------------------------------------------------------------

    async def servers(self, start: bool = True) -> list[dict[str, Any]]:
        """Each server on offer: where it comes from, whether it started, its tools (started now if `start`)."""
        specs = await asyncio.to_thread(self.specs)
        allowed = [s for s in specs if not s.from_workspace or self.allow_workspace
                   or self.consent.get(fingerprint(s))]
        if start and allowed:
            await self._hop(self._ensure(allowed))
        rows = await self._hop(self._rows(specs))
        for row, spec in zip(rows, specs):
            if spec.from_workspace and spec not in allowed:
                row["status"] = "not started (defined by the workspace: needs your yes, e.g. --allow-workspace-mcp)"
        return rows

    async def _rows(self, specs: list[ServerSpec]) -> list[dict[str, Any]]:
        return [self._row(self._servers.get(s.name) or ServerState(s)) for s in specs]

    @staticmethod
    def _row(state: ServerState) -> dict[str, Any]:
        from gdm.mcp_tools.tools import tool_name

        spec = state.spec
        return {"name": spec.name, "source": spec.source, "transport": "stdio" if hasattr(spec.config, "command")
                else "http", "command": spec.command_line(), "status": state.status, "error": state.error,
                "tools": [{"name": tool_name(spec.name, t.name), "serverTool": t.name,
                           "description": t.description} for t in state.tools]}

    async def _forget(self, name: str) -> None:
        state = self._servers.pop(name, None)
        if state is not None and state.connection is not None:
            log.info("stopping MCP server %r", name)
            await state.connection.close()

    async def _stop_all(self) -> None:
        await asyncio.gather(*(self._forget(name) for name in list(self._servers)))

    async def aclose(self) -> None:
        """Stop every server (the end of a headless run); safe to call twice."""
        if self._servers:
            await self._hop(self._stop_all())

    def close(self) -> None:
        """Stop every server without waiting (shutdown, from a sync handler on the home loop).

        The SDK closes each server's stdin, then terminates its process tree (2 s, SIGTERM, 2 s,
        SIGKILL); gdm's exit does not wait that long (`end`).
        """
        if self._servers and self._home is not None and not self._home.is_closed():
            self._background(self._stop_all())

    async def end(self, grace_s: float = EXIT_GRACE_S) -> None:
        """gdm is exiting: stop every server as `close` does, give them `grace_s` to go, then
        SIGKILL the process group of each stdio server still running (one that ignores end-of-file
        on stdin and SIGTERM would otherwise outlive gdm, which the editor kills 2 s after `exit`)."""
        self.close()
        here = asyncio.get_running_loop()
        stopping = [t for t in self._pending if not t.done()] if self._home is here else []
        live = [c for c in self._started if not c.finished]
        if not live:
            return
        if stopping:
            await asyncio.wait(stopping, timeout=grace_s)
        elif self._home is not here:  # their loop is elsewhere (or gone): only the grace to wait for
            await asyncio.sleep(grace_s)
        killed = [c for c in live if c.kill()]
        if killed and stopping:
            await asyncio.wait(stopping, timeout=EXIT_REAP_S)  # the SDK sees the exit and lets go
