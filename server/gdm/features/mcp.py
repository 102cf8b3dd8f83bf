"""`gdm.mcp.list`: the session's MCP servers, whether each started, and its tools.

Servers from the settings are started if they are not yet (as a task would); a server the
workspace defines is listed but started only once the user said yes in a task. The VS Code
extension shows the answer in the quick pick "gdm: MCP servers".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp

from gdm.commands import Command

if TYPE_CHECKING:
    from gdm.server import GdmServer


def register(server: GdmServer) -> None:
    """Register the MCP listing command."""

    @server.ls.command(Command.MCP_LIST.identifier)
    async def mcp_list(*_args: Any) -> dict[str, Any]:
        session = await server.get_session()
        servers = await session.mcp.servers(start=True)
        for row in servers:
            tools = ", ".join(t["name"] for t in row["tools"]) or "no tools"
            server.log(f"gdm: MCP server {row['name']} ({row['source']}): {row['status']}; {tools}",
                       lsp.MessageType.Info)
        return {"servers": servers}
