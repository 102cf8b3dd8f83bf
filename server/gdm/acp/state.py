"""One ACP session: its gdm Session (rooted at `cwd`), settings, mode, and the prompt running.

Settings are the `GDM_*` environment overridden by `session/new`'s `_meta.gdm` (the keys of the
settings table); the client's `mcpServers` join the `mcpServers` setting (MCP itself starts them).
Consecutive prompts of one ACP session are tasks of one gdm session (one store session, one
ledger, one patch book) and of one conversation (agent/session.py's conversations): a prompt's
model sees the earlier prompts and answers of the session, after `session/load` too.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gdm.config import Settings, SettingsResult, env_layer, resolve

if TYPE_CHECKING:
    from gdm.acp.buffers import ClientBuffers
    from gdm.agent.session import Session

MODES = {"review": "Review: every change is put to you before it is written",
         "auto-low": "Auto (low risk): LOW-risk changes are written at once, the rest put to you"}


@dataclass(frozen=True)
class ClientFs:
    """What the client offered at initialize."""

    read: bool = False
    write: bool = False


def session_settings(meta: Any, mcp_servers: list[Any] | None) -> SettingsResult:
    """The environment, then `_meta.gdm`, with the client's MCP servers added to `mcpServers`."""
    layer: dict[str, Any] = {}
    errors: list[str] = []
    if meta is not None and not isinstance(meta, dict):
        errors.append(f"_meta.gdm must be an object of gdm settings, got {type(meta).__name__}; ignored")
    elif meta:
        layer = dict(meta)
    servers = {**(layer.get("mcpServers") or {})} if isinstance(layer.get("mcpServers") or {}, dict) else {}
    for server in mcp_servers or []:
        name, shape = mcp_entry(server)
        servers.setdefault(name, shape)
    if servers:
        layer["mcpServers"] = servers
    result = resolve([env_layer(), layer], ["environment", "session/new _meta.gdm"])
    result.errors[:0] = errors
    return result


def mcp_entry(server: Any) -> tuple[str, dict[str, Any]]:
    """An ACP `McpServer` as an entry of the `mcpServers` setting (the usual mcp.json shape)."""
    data = server.model_dump(by_alias=True, exclude_none=True) if hasattr(server, "model_dump") else dict(server)
    name = str(data.get("name") or "mcp")
    if data.get("url"):
        return name, {"url": data["url"], "headers": {h["name"]: h["value"] for h in data.get("headers") or []}}
    return name, {"command": data.get("command", ""), "args": list(data.get("args") or []),
                  "env": {e["name"]: e["value"] for e in data.get("env") or []}}


@dataclass
class AcpSession:
    """An ACP session's state; only the event loop touches it."""

    session: Session
    buffers: ClientBuffers
    fs: ClientFs
    notes: list[str] = field(default_factory=list)  # settings problems, told in the first prompt
    running: asyncio.Task[Any] | None = None
    window: int | None = None  # the model's context window, once looked up

    @property
    def id(self) -> str:
        """The ACP session id: the gdm session id (the store's)."""
        return self.session.id

    @property
    def conversation_id(self) -> str:
        """The conversation every prompt of this session continues (created by the first)."""
        return "c-" + self.id.removeprefix("s-")

    @property
    def mode(self) -> str:
        """The current mode: the `autonomy` setting."""
        return self.session.settings.autonomy

    def set_mode(self, mode: str) -> None:
        """Switch between `review` and `auto-low` for the next prompts (and the running one's review)."""
        settings: Settings = self.session.settings
        self.session.update_settings(settings.model_copy(update={"autonomy": mode}))
