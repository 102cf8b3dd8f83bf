"""Which MCP servers a session may use: the user's `mcpServers`, and those the workspace defines.

The workspace's own files (`.mcp.json` — `{"mcpServers": {...}}` — and `.vscode/mcp.json` —
`{"servers": {...}}`) are read as offers only: such a server is started after the user's yes
(manager.py), since a repository must not run a program just by being opened. A name the user's
settings define wins over the workspace's.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from gdm.config import McpHttpServer, McpStdioServer

log = logging.getLogger(__name__)

WORKSPACE_FILES = (".mcp.json", ".vscode/mcp.json")
ServerConfig = McpStdioServer | McpHttpServer


@dataclass(frozen=True)
class ServerSpec:
    """One server to offer: its name, its config, and where it was defined (`settings` or a file)."""

    name: str
    config: ServerConfig
    source: str = "settings"

    @property
    def from_workspace(self) -> bool:
        """Defined by a file of the workspace, not by the user's settings."""
        return self.source != "settings"

    def command_line(self) -> str:
        """What would run (stdio) or be reached (HTTP), for the user to read."""
        if isinstance(self.config, McpStdioServer):
            return " ".join([self.config.command, *self.config.args])
        return self.config.url


def _parse_entry(raw: Any, root: Path) -> ServerConfig:
    """One entry of an mcp.json file; VS Code's `type` key and `${workspaceFolder}` understood."""
    if not isinstance(raw, dict):
        raise ValueError("must be an object")
    entry = {k: v for k, v in raw.items() if k not in ("type", "description")}
    kind = raw.get("type")
    if kind not in (None, "stdio", "http", "streamableHttp", "streamable-http"):
        raise ValueError(f"transport {kind!r} is not supported (stdio and streamable HTTP are)")
    text = json.dumps(entry).replace("${workspaceFolder}", str(root).replace("\\", "\\\\"))
    if "${" in text:
        raise ValueError("uses ${…} variables gdm cannot fill in (only ${workspaceFolder})")
    entry = json.loads(text)
    model = McpHttpServer if "url" in entry else McpStdioServer
    return model.model_validate(entry)


def workspace_specs(root: Path) -> tuple[list[ServerSpec], list[str]]:
    """The servers the workspace's files define, and what was wrong with those files."""
    specs: list[ServerSpec] = []
    problems: list[str] = []
    for rel in WORKSPACE_FILES:
        path = root / rel
        if not path.is_file():
            continue
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            problems.append(f"{rel}: not readable JSON ({exc})")
            continue
        servers = data.get("mcpServers", data.get("servers")) if isinstance(data, dict) else None
        if not isinstance(servers, dict):
            problems.append(f"{rel}: no \"mcpServers\" (or \"servers\") object")
            continue
        for name, raw in servers.items():
            try:
                specs.append(ServerSpec(str(name), _parse_entry(raw, root), rel))
            except (ValueError, ValidationError) as exc:
                reason = exc.errors()[0].get("msg") if isinstance(exc, ValidationError) else str(exc)
                problems.append(f"{rel}: server {name!r} {reason}")
    return specs, problems


def all_specs(settings_servers: dict[str, ServerConfig], root: Path | None) -> tuple[list[ServerSpec], list[str]]:
    """The user's servers, then the workspace's under names not already taken."""
    specs = [ServerSpec(name, config) for name, config in settings_servers.items()]
    if root is None:
        return specs, []
    offered, problems = workspace_specs(root)
    taken = {s.name for s in specs}
    for spec in offered:
        if spec.name in taken:
            log.info("MCP server %r of %s ignored: the settings define a server of that name", spec.name, spec.source)
            continue
        taken.add(spec.name)
        specs.append(spec)
    return specs, problems
