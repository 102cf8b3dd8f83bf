"""`textDocument/codeAction`: "Ask gdm…" on any selection or cursor.

The action carries `gdm.ask` with `{uri, range}` and no prompt: a client with an input box
(our VS Code extension) asks the user for it before the command reaches the server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from gdm.commands import Command

if TYPE_CHECKING:
    from gdm.server import GdmServer

ASK_KIND = lsp.CodeActionKind.RefactorRewrite


def _wanted(kind: str, only: list[str] | None) -> bool:
    """Honour `context.only`: a kind matches a requested kind or any of its parents."""
    return not only or any(kind == k or kind.startswith(f"{k}.") or k == "" for k in only)


def register(server: GdmServer) -> None:
    """Register the code action provider."""

    @server.ls.feature(lsp.TEXT_DOCUMENT_CODE_ACTION,
                       lsp.CodeActionOptions(code_action_kinds=[ASK_KIND], resolve_provider=False))
    def code_actions(params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
        only = [str(getattr(k, "value", k)) for k in params.context.only] if params.context.only else None
        actions: list[lsp.CodeAction] = []
        if _wanted(ASK_KIND.value, only):
            rng = params.range
            payload = {"uri": params.text_document.uri,
                       "range": {"start": {"line": rng.start.line, "character": rng.start.character},
                                 "end": {"line": rng.end.line, "character": rng.end.character}}}
            command = lsp.Command(title=Command.ASK.title, command=Command.ASK.identifier, arguments=[payload])
            actions.append(lsp.CodeAction(title=Command.ASK.title, kind=ASK_KIND, command=command))
        return actions
