"""Approvals of gated tools through `window/showMessageRequest`.

The engine asks through an `Approver` callback (tools/base.py) and knows nothing of LSP; this
module is the editor's side: the command and its working directory in the message, and the
actions "Allow once" / "Always allow this command" / "Deny". A client that cannot show a
request, or that answers nothing, means Deny.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException

from gdm.tools.base import ALLOW_ONCE, ALWAYS_ALLOW, DENY, ApprovalRequest, Approver

if TYPE_CHECKING:
    from gdm.server import GdmServer

ACTIONS = {"Allow once": ALLOW_ONCE, "Always allow this command": ALWAYS_ALLOW, "Deny": DENY}


def message(request: ApprovalRequest) -> str:
    """What the user reads: which task wants to run what, and where."""
    return f"gdm ({request.task_id}) wants to run:\n{request.command}\nin {request.cwd}"


def approver(server: GdmServer) -> Approver:
    """An Approver that asks the user in the editor."""

    async def ask(request: ApprovalRequest) -> str:
        if not server.caps.show_message_request:
            server.log(f"gdm: denied `{request.command}`: this editor cannot show approval requests "
                       f"(set gdm.shell to allow or deny)", lsp.MessageType.Warning)
            return DENY
        params = lsp.ShowMessageRequestParams(type=lsp.MessageType.Warning, message=message(request),
                                              actions=[lsp.MessageActionItem(title=t) for t in ACTIONS])
        try:
            answer = await server.ls.window_show_message_request_async(params)
        except JsonRpcException as exc:
            server.log(f"gdm: approval request failed ({exc}); denied", lsp.MessageType.Warning)
            return DENY
        return ACTIONS.get(answer.title, DENY) if answer is not None else DENY

    return ask
