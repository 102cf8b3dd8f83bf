"""A test ACP client: drives `gdm acp` (a real subprocess) through the SDK's client side.

It records every session update, answers permission requests by a policy, serves
`fs/read_text_file` from its own "buffers" over the disk (or refuses), and applies
`fs/write_text_file` to disk as an editor that saves would. Waits have deadlines; nothing sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import acp
from acp import RequestError, schema

ACCEPT, ACCEPT_ALL, REJECT, NEVER = "accept", "accept_all", "reject", "never"


@dataclass
class EditorClient:
    """The client's side: what an editor would show and do."""

    permission: str | Callable[[Any], str] = ACCEPT
    buffers: dict[str, str] = field(default_factory=dict)  # unsaved editor text by absolute path
    refuse_read: set[str] = field(default_factory=set)
    refuse_write: set[str] = field(default_factory=set)
    updates: list[tuple[str, Any]] = field(default_factory=list)
    permissions: list[Any] = field(default_factory=list)  # the tool calls asked about
    reads: list[str] = field(default_factory=list)
    writes: list[str] = field(default_factory=list)
    raw: list[dict] = field(default_factory=list)  # every incoming message (observer)
    init: Any = None  # the initialize answer
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def reset(self, permission: str | Callable[[Any], str] = ACCEPT, **fields: Any) -> EditorClient:
        """Forget what happened and set new policies (one agent serves a module's tests)."""
        self.permission = permission
        for name in ("buffers", "updates", "permissions", "reads", "writes", "raw"):
            getattr(self, name).clear()
        self.refuse_read, self.refuse_write = set(), set()
        for name, value in fields.items():
            setattr(self, name, value)
        return self

    def _note(self) -> None:
        self.changed.set()

    async def request_permission(self, options: list[Any], session_id: str, tool_call: Any, **kwargs: Any) -> Any:
        self.permissions.append(tool_call)
        self._note()
        policy = self.permission(tool_call) if callable(self.permission) else self.permission
        if policy == NEVER:
            await asyncio.Event().wait()  # a client that never answers
        kinds = {ACCEPT: "allow_once", ACCEPT_ALL: "allow_always", REJECT: "reject_once"}
        option = next(o for o in options if o.kind == kinds[policy])
        return schema.RequestPermissionResponse(outcome=schema.AllowedOutcome(outcome="selected",
                                                                              option_id=option.option_id))

    async def session_update(self, session_id: str, update: Any, **kwargs: Any) -> None:
        self.updates.append((session_id, update))
        self._note()

    async def read_text_file(self, session_id: str, path: str, line: int | None = None, limit: int | None = None,
                             **kwargs: Any) -> Any:
        self.reads.append(path)
        if path in self.refuse_read:
            raise RequestError(-32000, f"reading {Path(path).name} is not allowed by the test editor")
        if path in self.buffers:
            return schema.ReadTextFileResponse(content=self.buffers[path])
        if not Path(path).is_file():
            raise RequestError.resource_not_found(path)
        return schema.ReadTextFileResponse(content=Path(path).read_text(encoding="utf-8"))

    async def write_text_file(self, session_id: str, path: str, content: str, **kwargs: Any) -> Any:
        if path in self.refuse_write:
            raise RequestError(-32000, f"writing {Path(path).name} is not allowed by the test editor")
        self.writes.append(path)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(content, encoding="utf-8")
        self.buffers.pop(path, None)
        return schema.WriteTextFileResponse()

    def on_connect(self, conn: Any) -> None:
        pass

    # -- what the tests look at ---------------------------------------------------------------

    def kinds(self, sid: str) -> list[str]:
        """`sessionUpdate` of every update of a session, in order."""
        return [u.session_update for s, u in self.updates if s == sid]

    def of(self, sid: str, kind: str) -> list[Any]:
        """A session's updates of one kind."""
        return [u for s, u in self.updates if s == sid and u.session_update == kind]

    def text(self, sid: str, kind: str = "agent_message_chunk") -> str:
        """Every text chunk of a kind, joined."""
        return "".join(u.content.text for u in self.of(sid, kind) if getattr(u.content, "text", None))

    def calls(self, sid: str) -> dict[str, dict]:
        """Tool calls by id: the start merged with its updates (fields that were set), in order."""
        found: dict[str, dict] = {}
        for _, u in self.updates:
            if _ != sid or u.session_update not in ("tool_call", "tool_call_update"):
                continue
            data = u.model_dump(exclude_none=True)
            found.setdefault(u.tool_call_id, {}).update(data)
        return found

    async def wait_for(self, check: Callable[[], Any], timeout: float = 30.0) -> Any:
        """Wait until `check()` is truthy (re-checked on every incoming message)."""
        async def loop() -> Any:
            while not (result := check()):
                self.changed.clear()
                await self.changed.wait()
            return result
        return await asyncio.wait_for(loop(), timeout)


def agent_env(tmp: Path) -> dict[str, str]:
    """The environment of `gdm acp` in tests: scratch user dirs, no GDM_* of the machine."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GDM_")}
    env.update({"XDG_DATA_HOME": str(tmp / "data"), "XDG_CACHE_HOME": str(tmp / "cache"),
                "XDG_CONFIG_HOME": str(tmp / "config"), "LITELLM_LOCAL_MODEL_COST_MAP": "True"})
    return env


@contextlib.asynccontextmanager
async def start_agent(client: EditorClient, tmp: Path, *, read: bool = True,
                      write: bool = True) -> AsyncIterator[tuple[Any, Any]]:
    """`gdm acp` as a subprocess, initialized; yields (connection, process)."""
    log = open(tmp / "agent.log", "ab")  # noqa: SIM115 - closed below; a full stderr pipe would block the agent
    def observe(event: Any) -> None:
        if event.direction.value == "incoming":
            client.raw.append(event.message)
            client.changed.set()
    try:
        async with acp.spawn_agent_process(lambda _agent: client, sys.executable, "-m", "gdm.cli", "acp",
                                           env=agent_env(tmp), cwd=str(tmp), transport_kwargs={"stderr": log},
                                           observers=[observe]) as (conn, proc):
            caps = schema.ClientCapabilities(fs=schema.FileSystemCapabilities(read_text_file=read,
                                                                              write_text_file=write))
            client.init = await asyncio.wait_for(conn.initialize(protocol_version=1, client_capabilities=caps), 60)
            yield conn, proc
    finally:
        log.close()


async def new_session(conn: Any, root: Path, settings: dict, **extra: Any) -> str:
    """session/new rooted at `root` with gdm settings in `_meta.gdm`; the session id."""
    response = await asyncio.wait_for(conn.new_session(cwd=str(root), mcp_servers=[], gdm=settings, **extra), 60)
    return response.session_id


async def ask(conn: Any, session_id: str, text: str, *blocks: Any, timeout: float = 60) -> Any:
    """session/prompt with text (and more blocks); the PromptResponse."""
    return await asyncio.wait_for(conn.prompt(session_id=session_id, prompt=[acp.text_block(text), *blocks]),
                                  timeout)


@dataclass
class Agent:
    """A running `gdm acp` and its client, shared by the tests of a module."""

    conn: Any
    proc: Any
    client: EditorClient
    tmp: Path


@contextlib.asynccontextmanager
async def shared_agent(tmp: Path, **caps: bool) -> AsyncIterator[Agent]:
    """One agent process for many tests (each test opens its own sessions on its own workspace)."""
    client = EditorClient()
    async with start_agent(client, tmp, **caps) as (conn, proc):
        yield Agent(conn, proc, client, tmp)
