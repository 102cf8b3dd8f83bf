"""Approvals of gated tools through `window/showMessageRequest`.

The engine asks through an `Approver` callback (tools/base.py) and knows nothing of LSP; this
module is the editor's side: the question (tools/asking.py: the command, its working directory
and whether it runs sandboxed) and its answers as the request's actions: "Allow once" / "Always
allow this command" / "Deny"; "Run again with the network" / "Don't" for a command that failed in
the sandbox for lack of network; for an MCP tool "Always allow this tool"; for a workspace-defined
MCP server, start it or not. A client that cannot show a request, or that answers nothing, means Deny.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException

from gdm.tools.asking import answers, question
from gdm.tools.base import DENY, ApprovalRequest, Approver

if TYPE_CHECKING:
    from gdm.server import GdmServer

SETTING = {"shell": "gdm.shell", "network": "gdm.sandboxNetwork", "mcp": "gdm.mcpPolicy", "mcp-server": "gdm.mcpServers"}


def approver(server: GdmServer) -> Approver:
    """An Approver that asks the user in the editor."""

    async def ask(request: ApprovalRequest) -> str:
        if not server.caps.show_message_request:
            server.log(f"gdm: denied `{request.command}`: this editor cannot show approval requests "
                       f"(set {SETTING.get(request.kind, 'gdm.shell')} to allow or deny)", lsp.MessageType.Warning)
            return DENY
        params = lsp.ShowMessageRequestParams(type=lsp.MessageType.Warning, message=question(request),
                                              actions=[lsp.MessageActionItem(title=t) for t in answers(request)])
        try:
            answer = await server.ls.window_show_message_request_async(params)
        except JsonRpcException as exc:
            server.log(f"gdm: approval request failed ({exc}); denied", lsp.MessageType.Warning)
            return DENY
        return answers(request).get(answer.title, DENY) if answer is not None else DENY

    return ask
