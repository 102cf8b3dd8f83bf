"""The code map in the editor: `gdm.map`, the buffers that feed it, and indexing progress.

- `gdm.map {focus?: [path…], maxTokens?}` → `{text, files, symbols, ms}`: what the model would see.
- `textDocument/didOpen` / `didChange` / `didClose`: the buffer's new text is re-parsed
  incrementally (from its previous tree) in a worker thread, the latest text per file only, once
  the buffer has been quiet for a second (a map asked meanwhile parses the open buffers itself).
- `workspace/didChangeWatchedFiles`: the next use of the map walks the folders again.
- The first index of the workspace runs in the background once the session exists, reported with
  `$/progress` when it has many files to parse.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from gdm.commands import Command
from gdm.context.workspace import PathRefused

if TYPE_CHECKING:
    from gdm.agent.session import Session
    from gdm.server import GdmServer

log = logging.getLogger(__name__)

PROGRESS_TOKEN = "gdm-index"
PROGRESS_FROM_FILES = 200  # a first index with fewer files to parse reports no progress
QUIET_S = 1.0  # a buffer is re-parsed for the map after this long without a change


class BufferFeed:
    """Feeds open buffers to the code map off the event loop: one job per file at a time, which
    parses the latest text once the buffer has been quiet for `quiet_s` (a pause in the typing).
    Parsing at every keystroke of a 3,000-line file took the GIL from the inline completion that
    keystroke asked for; a map in the meantime parses the buffer itself (it passes the open
    buffers), so nothing reads stale tags. A close is applied at once."""

    def __init__(self, quiet_s: float = QUIET_S) -> None:
        self.quiet_s = quiet_s
        self._latest: dict[str, str | None] = {}
        self._changed_at: dict[str, float] = {}
        self._running: set[str] = set()

    def changed(self, session: Session, rel: str, text: str | None) -> None:
        """A buffer's new text (None: closed); parsed in a worker thread once typing pauses."""
        self._latest[rel] = text
        self._changed_at[rel] = asyncio.get_running_loop().time()
        if rel not in self._running:
            self._running.add(rel)
            asyncio.ensure_future(self._drain(session, rel))

    async def _drain(self, session: Session, rel: str) -> None:
        code_map = session.knowledge.code_map
        loop = asyncio.get_running_loop()
        try:
            while rel in self._latest:
                quiet_at = self._changed_at[rel] + self.quiet_s
                if self._latest[rel] is not None and loop.time() < quiet_at:
                    await asyncio.sleep(quiet_at - loop.time())
                    continue
                text = self._latest.pop(rel)
                del self._changed_at[rel]  # set again with the next change, as _latest is
                if text is None:
                    await asyncio.to_thread(code_map.index.close_buffer, rel)
                else:
                    await asyncio.to_thread(code_map.index.update_buffer, rel, text)
        except (OSError, ValueError, RuntimeError) as exc:
            log.warning("code map: %s not re-parsed: %s", rel, exc)
        finally:
            self._running.discard(rel)


def register(server: GdmServer) -> None:
    """Register `gdm.map` and the document notifications that feed the map."""
    ls = server.ls
    feed = BufferFeed()

    def fed(uri: str, closed: bool = False) -> None:
        session = server.session
        rel = session.view.rel_of_uri(uri) if session is not None else None
        if session is None or rel is None or session.view.is_secret(rel):
            return
        doc = server.ls.workspace.text_documents.get(uri)
        feed.changed(session, rel, None if closed or doc is None else doc.source)

    @ls.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(params: lsp.DidOpenTextDocumentParams) -> None:
        fed(params.text_document.uri)

    @ls.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(params: lsp.DidChangeTextDocumentParams) -> None:
        fed(params.text_document.uri)

    @ls.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(params: lsp.DidCloseTextDocumentParams) -> None:
        fed(params.text_document.uri, closed=True)

    @ls.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched(params: lsp.DidChangeWatchedFilesParams) -> None:
        if server.session is not None:
            server.session.knowledge.code_map.files_changed()

    @ls.command(Command.MAP.identifier)
    async def show_map(*args: Any) -> dict[str, Any]:
        from gdm.features.params import MapParams, parse  # noqa: PLC0415 - pydantic after `initialize`

        params = parse(MapParams, Command.MAP.identifier, args, optional=True)
        session = await server.get_session()
        focus = []
        for path in params.focus:
            try:
                focus.append(session.view.rel(path) if not path.startswith("file:") else session.view.rel_of_uri(path))
            except PathRefused as exc:
                raise JsonRpcInvalidParams(f"gdm.map: {exc}") from exc
        from gdm.context.repomap.service import Overlay  # noqa: PLC0415 - tree-sitter's side, after `initialize`

        overlay = Overlay({p: b.text for p in session.view.buffers.open_paths()
                           if (b := session.view.buffers.buffer(p)) is not None and not session.view.is_secret(p)})
        tokens = params.max_tokens or session.settings.map_tokens or 2048
        await session.knowledge.wait_indexed()  # a large first index: what is ready after 3 s
        result = await asyncio.to_thread(session.knowledge.code_map.map, [f for f in focus if f], tokens,
                                         overlay=overlay)
        return {"text": result.text, "files": result.files, "symbols": result.symbols, "ms": result.ms}


def start_indexing(server: GdmServer, session: Session) -> None:
    """The workspace's first index, in the background, with `$/progress` when it is large."""
    loop = asyncio.get_running_loop()
    state: dict[str, Any] = {"begun": None}

    def report(done: int, total: int) -> None:  # called from the indexing thread
        loop.call_soon_threadsafe(_progress, server, state, done, total)
    task = session.knowledge.start_indexing(report)
    task.add_done_callback(lambda _t: _progress(server, state, -1, -1))


def _progress(server: GdmServer, state: dict[str, Any], done: int, total: int) -> None:
    """Begin (once, when the index is large), report, end; on the event loop."""
    if done < 0:
        if state["begun"] is not None:
            state["begun"].add_done_callback(lambda f: f.result() and server.ls.work_done_progress.end(
                PROGRESS_TOKEN, lsp.WorkDoneProgressEnd(message="code map ready")))
        return
    if state["begun"] is None:
        if total < PROGRESS_FROM_FILES or done >= total or not server.caps.work_done_progress:
            return
        state["begun"] = asyncio.ensure_future(_begin(server, total))
        return
    message = f"{done} of {total} files"
    state["begun"].add_done_callback(lambda f: f.result() and server.ls.work_done_progress.report(
        PROGRESS_TOKEN, lsp.WorkDoneProgressReport(message=message, percentage=int(100 * done / max(1, total)))))


async def _begin(server: GdmServer, total: int) -> bool:
    try:
        await asyncio.wait_for(server.ls.work_done_progress.create_async(PROGRESS_TOKEN), 5.0)
    except (TimeoutError, JsonRpcException) as exc:
        server.log(f"gdm: no progress for the code map index: {exc}", lsp.MessageType.Warning)
        return False
    server.ls.work_done_progress.begin(PROGRESS_TOKEN, lsp.WorkDoneProgressBegin(
        title="gdm: indexing the code", message=f"{total} files to parse", percentage=0))
    return True
