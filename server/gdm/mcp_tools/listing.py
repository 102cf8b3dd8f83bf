"""`gdm mcp list`: each configured MCP server, whether it started, and its tools.

The user's servers come from `--mcp-config FILE` (the usual mcp.json shape, `{"mcpServers":
{...}}`); the workspace's `.mcp.json` and `.vscode/mcp.json` are listed too, and started only
with `--allow-workspace-mcp`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from gdm.config import Settings
from gdm.mcp_tools.manager import McpManager


def mcp_config_layer(path: str | None) -> dict[str, Any]:
    """The `mcpServers` setting from an mcp.json-shaped file (ValueError with the reason)."""
    if not path:
        return {}
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"--mcp-config {path}: {exc}") from None
    servers = data.get("mcpServers", data.get("servers")) if isinstance(data, dict) else None
    if not isinstance(servers, dict):
        raise ValueError(f"--mcp-config {path}: no \"mcpServers\" object")
    return {"mcpServers": servers}


async def list_servers(settings: Settings, workspace: Path, allow_workspace: bool) -> list[dict[str, Any]]:
    """Start each server on offer (workspace ones only if allowed) and describe it; stops them after."""
    manager = McpManager(workspace, settings, hidden_env=frozenset(filter(None, [settings.api_key_env])),
                         allow_workspace=allow_workspace)
    manager.report = lambda _message: None  # each row says what went wrong
    try:
        rows = await manager.servers(start=True)
    finally:
        await manager.aclose()
    return rows


def print_servers(rows: list[dict[str, Any]], out: TextIO, fmt: str = "table") -> int:
    """Print the servers; 1 when one of them failed to start, else 0."""
    if fmt == "json":
        out.write(json.dumps(rows, indent=2) + "\n")
    elif not rows:
        out.write("no MCP servers configured (mcpServers, --mcp-config FILE, or the workspace's .mcp.json / "
                  ".vscode/mcp.json)\n")
    for row in rows if fmt != "json" else []:
        error = f" — {row['error']}" if row.get("error") else ""
        out.write(f"{row['name']} ({row['transport']}, from {row['source']}): {row['status']}{error}\n"
                  f"    {row['command']}\n")
        for tool in row["tools"]:
            description = (tool["description"] or "").strip().splitlines()
            out.write(f"    {tool['name']:<40} {description[0][:70] if description else ''}\n")
    return 1 if any(r["status"] == "failed" for r in rows) else 0
