"""What the user reads when a gated tool asks: one wording for the editor, the terminal and ACP.

Every front end asks through an `Approver` (tools/base.py) and shows `question(request)`; the
answers each offers are its own (buttons, keys, ACP permission options), named by `answers`.
"""

from __future__ import annotations

from gdm.tools.base import ALLOW_ONCE, ALWAYS_ALLOW, DENY, ApprovalRequest

# the answers a request offers, title -> answer, by ApprovalRequest.kind
ANSWERS = {
    "shell": {"Allow once": ALLOW_ONCE, "Always allow this command": ALWAYS_ALLOW, "Deny": DENY},
    "network": {"Run again with the network": ALLOW_ONCE, "Don't": DENY},
    "mcp": {"Allow once": ALLOW_ONCE, "Always allow this tool": ALWAYS_ALLOW, "Deny": DENY},
    "mcp-server": {"Start it for this session": ALWAYS_ALLOW, "Don't start": DENY},
}


def answers(request: ApprovalRequest) -> dict[str, str]:
    """The answers of a request, title -> answer (ALLOW_ONCE, ALWAYS_ALLOW or DENY)."""
    return ANSWERS.get(request.kind, ANSWERS["shell"])


def question(request: ApprovalRequest) -> str:
    """What is asked: which task wants to run what, where, and whether it runs sandboxed."""
    if request.kind == "mcp":
        return (f"gdm ({request.task_id}) wants to call the tool {request.server_tool!r} of the MCP server "
                f"{request.server!r} with the arguments:\n{request.command}")
    if request.kind == "mcp-server":
        return (f"The workspace's {request.server_tool} defines the MCP server {request.server!r}, which would run:\n"
                f"{request.command}\nin {request.cwd}\nStart it? Only if you trust this repository.")
    if request.kind == "network":
        return (f"gdm ({request.task_id}): `{request.command}` failed in the sandbox, which has no network:\n"
                f"{request.detail}\nRun it again with the network? It would still run "
                f"{request.sandbox.removeprefix('runs ')}.")
    where = f"\n{request.sandbox}" if request.sandbox else ""
    return f"gdm ({request.task_id}) wants to run:\n{request.command}\nin {request.cwd}{where}"
