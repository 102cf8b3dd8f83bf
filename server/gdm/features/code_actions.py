"""`textDocument/codeAction`: every gdm action offered on a selection or cursor.

Actions come from small providers, one per kind of action ("Ask gdm…" here; review and
ready-made actions in their own modules), each `(server, params) -> [CodeAction]`. "Ask gdm…"
carries `gdm.ask` with `{uri, range}` and no prompt: a client with an input box (our VS Code
extension) asks the user for it before the command reaches the server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from gdm.commands import Command

if TYPE_CHECKING:
    from gdm.server import GdmServer

ASK_KIND = lsp.CodeActionKind.RefactorRewrite

ActionProvider = Callable[["GdmServer", lsp.CodeActionParams], list[lsp.CodeAction]]


def wanted(kind: str, params: lsp.CodeActionParams) -> bool:
    """Honour `context.only`: a kind matches a requested kind or any of its parents."""
    only = [str(getattr(k, "value", k)) for k in params.context.only] if params.context.only else None
    return not only or any(kind == k or kind.startswith(f"{k}.") or k == "" for k in only)


def range_payload(rng: lsp.Range) -> dict:
    """An LSP range as the plain JSON of command payloads."""
    return {"start": {"line": rng.start.line, "character": rng.start.character},
            "end": {"line": rng.end.line, "character": rng.end.character}}


def ask_actions(server: GdmServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    """ "Ask gdm…" on any selection or cursor."""
    if not wanted(ASK_KIND.value, params):
        return []
    payload = {"uri": params.text_document.uri, "range": range_payload(params.range)}
    command = lsp.Command(title=Command.ASK.title, command=Command.ASK.identifier, arguments=[payload])
    return [lsp.CodeAction(title=Command.ASK.title, kind=ASK_KIND, command=command)]


def register(server: GdmServer, providers: tuple[ActionProvider, ...] | None = None) -> None:
    """Register the code action handler over `providers` (default: every gdm provider)."""
    chosen = providers if providers is not None else (ask_actions,)
    kinds = [ASK_KIND, lsp.CodeActionKind.QuickFix]

    @server.ls.feature(lsp.TEXT_DOCUMENT_CODE_ACTION,
                       lsp.CodeActionOptions(code_action_kinds=kinds, resolve_provider=False))
    async def code_actions(params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
        # Review, "Explain" and "Write tests" need the session: wait for it to open (bounded);
        # the actions that need no store ("Ask gdm…", a `gdm:` comment's) are offered either way.
        await server.session_or_none()
        actions: list[lsp.CodeAction] = []
        for provider in chosen:
            actions += provider(server, params)
        return actions
