"""Approvals of gated tools through `window/showMessageRequest`.

The engine asks through an `Approver` callback (tools/base.py) and knows nothing of LSP; this
module is the editor's side: the command and its working directory in the message, and the
actions "Allow once" / "Always allow this command" / "Deny" (for an MCP tool: its server, name
and arguments, "Always allow this tool"; for a workspace-defined MCP server: start it or not).
A client that cannot show a request, or that answers nothing, means Deny.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException

from gdm.tools.base import ALLOW_ONCE, ALWAYS_ALLOW, DENY, ApprovalRequest, Approver

if TYPE_CHECKING:
    from gdm.server import GdmServer

ACTIONS = {"Allow once": ALLOW_ONCE, "Always allow this command": ALWAYS_ALLOW, "Deny": DENY}
# MCP tool calls and workspace-defined MCP servers (ApprovalRequest.kind) have their own actions.
KIND_ACTIONS = {
    "mcp": {"Allow once": ALLOW_ONCE, "Always allow this tool": ALWAYS_ALLOW, "Deny": DENY},
    "mcp-server": {"Start it for this session": ALWAYS_ALLOW, "Don't start": DENY},
}
SETTING = {"shell": "gdm.shell", "mcp": "gdm.mcpPolicy", "mcp-server": "gdm.mcpServers"}


def message(request: ApprovalRequest) -> str:
    """What the user reads: which task wants to run what, and where."""
    if request.kind == "mcp":
        return (f"gdm ({request.task_id}) wants to call the tool {request.server_tool!r} of the MCP server "
                f"{request.server!r} with the arguments:\n{request.command}")
    if request.kind == "mcp-server":
        return (f"The workspace's {request.server_tool} defines the MCP server {request.server!r}, which would run:\n"
                f"{request.command}\nin {request.cwd}\nStart it? Only if you trust this repository.")
    return f"gdm ({request.task_id}) wants to run:\n{request.command}\nin {request.cwd}"


def actions(request: ApprovalRequest) -> dict[str, str]:
    """The buttons of a request, title -> answer."""
    return KIND_ACTIONS.get(request.kind, ACTIONS)


def approver(server: GdmServer) -> Approver:
    """An Approver that asks the user in the editor."""

    async def ask(request: ApprovalRequest) -> str:
        if not server.caps.show_message_request:
            server.log(f"gdm: denied `{request.command}`: this editor cannot show approval requests "
                       f"(set {SETTING.get(request.kind, 'gdm.shell')} to allow or deny)", lsp.MessageType.Warning)
            return DENY
        params = lsp.ShowMessageRequestParams(type=lsp.MessageType.Warning, message=message(request),
                                              actions=[lsp.MessageActionItem(title=t) for t in actions(request)])
        try:
            answer = await server.ls.window_show_message_request_async(params)
        except JsonRpcException as exc:
            server.log(f"gdm: approval request failed ({exc}); denied", lsp.MessageType.Warning)
            return DENY
        return actions(request).get(answer.title, DENY) if answer is not None else DENY

    return ask
