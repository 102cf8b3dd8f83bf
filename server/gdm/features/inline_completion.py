"""`textDocument/inlineCompletion` (LSP 3.18): ghost text at the cursor, and
`gdm.completion.accepted`, the command a shown item carries, which counts an accept.

Thin: the document is snapshotted here (text, version, the position in code points through
pygls' codec), the engine (gdm/completions) decides whether the model is asked, and the answer's
range goes back in the client's units. A call moves the cost meter (`gdm/costUpdate`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp

from gdm.commands import Command
from gdm.completions.engine import Request
from gdm.features import notifications

if TYPE_CHECKING:
    from gdm.server import GdmServer


def register(server: GdmServer) -> None:
    """Register the inline-completion provider and its accept command."""

    @server.ls.feature(lsp.TEXT_DOCUMENT_INLINE_COMPLETION, lsp.InlineCompletionOptions())
    async def inline_completion(params: lsp.InlineCompletionParams) -> lsp.InlineCompletionList | None:
        session = server.session
        path = session.view.rel_of_uri(params.text_document.uri) if session is not None else None
        if session is None or path is None:
            return None  # before the store is open, or a file outside the workspace: nothing to offer
        doc = server.ls.workspace.get_text_document(params.text_document.uri)
        codec = server.ls.workspace.position_codec
        lines = doc.lines
        at = codec.position_from_client_units(lines, params.position)
        outcome = await session.completions.complete(Request(path, doc.version, doc.source, at.line, at.character))
        if outcome.called:
            notifications.cost_update(server, session.totals())
        items = []
        for s in outcome.suggestions:
            end = lsp.Position(at.line, at.character + s.replace_chars)
            span = codec.range_to_client_units(lines, lsp.Range(at, end))
            items.append(lsp.InlineCompletionItem(
                insert_text=s.text, range=span,
                command=lsp.Command(title="gdm: accepted", command=Command.COMPLETION_ACCEPTED.identifier,
                                    arguments=[{"chars": len(s.text)}])))
        return lsp.InlineCompletionList(items=items)

    @server.ls.command(Command.COMPLETION_ACCEPTED.identifier)
    async def accepted(*args: Any) -> dict[str, Any]:
        session = await server.get_session()
        payload = args[0] if args and isinstance(args[0], dict) else {}
        chars = payload.get("chars") if isinstance(payload.get("chars"), int) else 0
        session.completions.accepted(chars)
        return {"accepted": session.completions.stats.accepted}
