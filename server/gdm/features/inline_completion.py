"""`textDocument/inlineCompletion` (LSP 3.18; `inlineCompletionProvider`) and
`gdm.completion.accepted {id, acceptedChars?}`, the command each item carries so that the editor
tells gdm when a suggestion is taken (counted in the store, never sent anywhere).

The engine is gdm.completions (no pygls); this module turns LSP positions into code-point offsets
and back (the client's units, through pygls' codec), tells the user once a day when the budget stops
completions, and keeps the cost meter current without a message per keystroke (`gdm/costUpdate` at
most every `COST_PUSH_S` while completions spend).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcInvalidParams

from gdm.commands import Command
from gdm.completions.lines import LineStarts
from gdm.completions.state import Answer, Request
from gdm.features import notifications

if TYPE_CHECKING:
    from pygls.workspace import TextDocument

    from gdm.completions.engine import CompletionEngine
    from gdm.server import GdmServer

METHOD = lsp.TEXT_DOCUMENT_INLINE_COMPLETION
COST_PUSH_S = 2.0
RELS_KEPT = 64


class InlineCompletions:
    """The server's completion engine (made with its session) and what the handlers share."""

    def __init__(self, server: GdmServer) -> None:
        self.server = server
        self._engine: CompletionEngine | None = None
        self._cost_push: asyncio.TimerHandle | None = None
        self._last_error: str | None = None
        self._starts = LineStarts()
        self._rels: dict[str, tuple[TextDocument, str | None]] = {}

    def engine(self) -> CompletionEngine | None:
        """The engine, once the session exists (a keystroke never waits for start-up)."""
        session = self.server.session
        if session is None:
            return None
        if self._engine is None:
            from gdm.completions.engine import for_session  # noqa: PLC0415 - the engine, after `initialize`

            docs = self.server.ls.workspace.text_documents
            self._engine = for_session(session, lambda uri: d.source if (d := docs.get(uri)) else None)
        return self._engine

    def request(self, params: lsp.InlineCompletionParams) -> Request | None:
        """The engine's request, or None for a file completions stay out of (secrets files)."""
        uri, pos = params.text_document.uri, params.position
        doc = self.server.ls.workspace.text_documents.get(uri)
        if doc is None:
            raise JsonRpcInvalidParams(f"{METHOD}: {uri} is not open (send textDocument/didOpen first)")
        text = doc.source
        start = self._starts.line_start(uri, text, pos.line)
        if start is None:
            lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
            raise JsonRpcInvalidParams(f"{METHOD}: line {pos.line} is past the end of {uri} ({lines} lines)")
        rel = self._rel(uri, doc)
        session = self.server.session
        if rel is not None and session is not None and session.view.is_secret(rel):
            return None
        end = text.find("\n", start)
        line = text[start:] if end < 0 else text[start:end + 1]
        column = doc.position_codec.position_from_client_units([line], lsp.Position(0, pos.character)).character
        invoked = params.context.trigger_kind == lsp.InlineCompletionTriggerKind.Invoked
        return Request(uri, rel, doc.version or 0, text, start + column, invoked)

    def _rel(self, uri: str, doc: TextDocument) -> str | None:
        """The workspace path of an open document, resolved once while it stays open (realpath
        stats every folder of the path: per keystroke, that was most of this handler's time)."""
        known = self._rels.get(uri)
        if known is not None and known[0] is doc:
            return known[1]
        session = self.server.session
        rel = session.view.rel_of_uri(uri) if session is not None else None
        if session is not None:
            self._rels[uri] = (doc, rel)
            while len(self._rels) > RELS_KEPT:
                del self._rels[next(iter(self._rels))]
        return rel

    def items(self, params: lsp.InlineCompletionParams, request: Request, answer: Answer) -> list[lsp.InlineCompletionItem]:
        """The answer as LSP items: inserted at the cursor, replacing the closers it overlaps."""
        if not answer.ok:
            return []
        pos = params.position
        doc = self.server.ls.workspace.text_documents[request.uri]
        replaced = request.text[request.offset:request.offset + answer.replace]
        end = lsp.Position(pos.line, pos.character + doc.position_codec.client_num_units(replaced))
        accepted = lsp.Command(title="gdm: completion accepted", command=Command.COMPLETION_ACCEPTED.identifier,
                               arguments=[{"id": answer.completion_id}])
        return [lsp.InlineCompletionItem(insert_text=answer.text, range=lsp.Range(start=pos, end=end), command=accepted)]

    def after(self, answer: Answer) -> None:
        """Tell the user what they must know: the budget (once a day), a new failure (in the log)."""
        engine, server = self._engine, self.server
        if answer.source == "budget" and engine is not None and engine.parts.accounting.first_stop_today():
            server.show(f"gdm: inline completions are paused for today: {answer.detail}", lsp.MessageType.Warning)
        elif answer.source == "error" and answer.detail != self._last_error:
            server.log(f"gdm: inline completion failed: {answer.detail}", lsp.MessageType.Warning)
        self._last_error = answer.detail if answer.source == "error" else self._last_error
        if answer.source == "model" and self._cost_push is None:
            self._cost_push = asyncio.get_running_loop().call_later(COST_PUSH_S, self._push_cost)

    def _push_cost(self) -> None:
        self._cost_push = None
        if self.server.session is not None:
            notifications.cost_update(self.server, self.server.session.totals())


def register(server: GdmServer) -> None:
    """Register inline completions and the accepted-suggestion command."""
    state = InlineCompletions(server)

    @server.ls.feature(METHOD, lsp.InlineCompletionOptions())
    async def inline_completion(params: lsp.InlineCompletionParams) -> lsp.InlineCompletionList:
        request = state.request(params)
        engine = state.engine()
        if request is None or engine is None:
            return lsp.InlineCompletionList(items=[])
        answer = await engine.complete(request)
        state.after(answer)
        return lsp.InlineCompletionList(items=state.items(params, request, answer))

    @server.ls.command(Command.COMPLETION_ACCEPTED.identifier)
    async def accepted(*args: Any) -> dict[str, Any]:
        from gdm.features.params import CompletionAcceptedParams, parse  # noqa: PLC0415 - pydantic after `initialize`

        params = parse(CompletionAcceptedParams, Command.COMPLETION_ACCEPTED.identifier, args)
        session = await server.get_session()
        engine = state.engine()
        if engine is not None and engine.accepted(params.id, params.accepted_chars):
            return {"id": params.id, "counted": True}
        await session.spending.settled()  # its row is written after its answer
        row = await asyncio.to_thread(session.store.completion, params.id)  # an older suggestion of this store
        if row is None:
            raise JsonRpcInvalidParams(f"{Command.COMPLETION_ACCEPTED.identifier}: no inline completion {params.id!r}")
        taken = row["text"] if params.accepted_chars is None else row["text"][:params.accepted_chars]
        status = "accepted" if len(taken) >= len(row["text"]) else "partial"
        await asyncio.to_thread(session.store.mark_completion, params.id, status, len(taken),
                                taken.count("\n") + 1 if taken else 0)
        return {"id": params.id, "counted": True}
