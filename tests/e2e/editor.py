"""A small editor for end-to-end tests: a pytest-lsp client that behaves like VS Code.

It keeps open documents with versions, sends incremental `didChange` when "the user types",
answers `workspace/applyEdit` by really applying the edit to its buffers (checking versions, as
VS Code does) and then telling the server with `didChange`, and records every notification a
user would see.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable

from lsprotocol import types as lsp
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import make_test_lsp_client

REPO = Path(__file__).resolve().parents[2]


def plain(value: Any) -> Any:
    """pygls decodes unknown payloads into namedtuples; turn them back into JSON-like data."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def uri_of(path: Path) -> str:
    return path.resolve().as_uri()


def _offset(text: str, pos: lsp.Position) -> int:
    """Offset of an LSP position (UTF-16 characters) in text."""
    lines = text.splitlines(keepends=True)
    if pos.line >= len(lines):
        return len(text)
    before = sum(len(line) for line in lines[: pos.line])
    line = lines[pos.line]
    units, index = 0, 0
    while index < len(line) and units < pos.character:
        units += 2 if ord(line[index]) > 0xFFFF else 1
        index += 1
    return before + index


def apply_text_edits(text: str, edits: list[Any]) -> str:
    """Apply LSP text edits (non-overlapping) to text, last first."""
    spans = sorted(((_offset(text, e.range.start), _offset(text, e.range.end), e.new_text) for e in edits),
                   reverse=True)
    for start, end, new in spans:
        text = text[:start] + new + text[end:]
    return text


def vscode_capabilities(**overrides: Any) -> lsp.ClientCapabilities:
    """VS Code's recorded capabilities (pytest-lsp ships them), optionally with parts removed."""
    caps = client_capabilities("visual-studio-code")
    for path, value in overrides.items():
        target = caps
        *parents, name = path.split("__")
        for part in parents:
            target = getattr(target, part)
        setattr(target, name, value)
    return caps


class Editor:
    """A test editor connected to a real `python -m gdm` process."""

    def __init__(self, client: LanguageClient, root: Path) -> None:
        self.client = client
        self.root = root
        self.docs: dict[str, list[Any]] = {}  # uri -> [text, version]
        self.notes: dict[str, list[dict]] = defaultdict(list)
        self.apply_answer: Callable[[lsp.ApplyWorkspaceEditParams], bool | None] = lambda _p: True
        self.applied: list[lsp.ApplyWorkspaceEditParams] = []
        self.lens_refreshes = 0
        self.renames: list[tuple[str, str]] = []
        self._changed = asyncio.Event()
        self._install()

    # -- wiring --------------------------------------------------------------------------

    def _install(self) -> None:
        client = self.client

        for method in ("gdm/taskEvent", "gdm/patchProposed", "gdm/costUpdate"):
            def note(params: Any, method: str = method) -> None:
                self.notes[method].append(plain(params))
                self._changed.set()
            client.feature(method)(note)

        @client.feature(lsp.WORKSPACE_APPLY_EDIT)
        async def apply_edit(params: lsp.ApplyWorkspaceEditParams) -> lsp.ApplyWorkspaceEditResult:
            self.applied.append(params)
            answer = self.apply_answer(params)
            if answer is None:  # an editor that never answers
                await asyncio.sleep(3600)
            if not answer:
                return lsp.ApplyWorkspaceEditResult(applied=False, failure_reason="user declined")
            return await self._apply(params.edit)

        @client.feature(lsp.WORKSPACE_CODE_LENS_REFRESH)
        def lens_refresh(_params: Any) -> None:
            self.lens_refreshes += 1

        # lsprotocol's union (Command | CodeAction) decoding picks Command for actions that carry a
        # command (NOTES.md): decide by shape instead.
        converter = client.protocol._converter
        union = lsp.Command | lsp.CodeAction

        def structure(obj: Any, _t: Any) -> Any:
            if isinstance(obj.get("command"), str):
                return converter.structure(obj, lsp.Command)
            return converter.structure(obj, lsp.CodeAction)
        converter.register_structure_hook(union, structure)

    async def _apply(self, edit: lsp.WorkspaceEdit) -> lsp.ApplyWorkspaceEditResult:
        if edit.document_changes:
            for change in edit.document_changes:
                if isinstance(change, lsp.CreateFile):
                    path = Path(change.uri.removeprefix("file://"))
                    if not path.exists():
                        path.parent.mkdir(parents=True, exist_ok=True)
                        path.write_text("")
                    continue
                if isinstance(change, (lsp.RenameFile, lsp.DeleteFile)):
                    failure = self._file_operation(change)
                    if failure:
                        return lsp.ApplyWorkspaceEditResult(applied=False, failure_reason=failure)
                    continue
                uri, version = change.text_document.uri, change.text_document.version
                if uri in self.docs and version is not None and self.docs[uri][1] != version:
                    return lsp.ApplyWorkspaceEditResult(applied=False, failure_reason="version mismatch")
                if uri not in self.docs:
                    await self.open_uri(uri)
                await self._replace(uri, apply_text_edits(self.docs[uri][0], list(change.edits)))
        for uri, edits in (edit.changes or {}).items():
            if uri not in self.docs:
                await self.open_uri(uri)
            await self._replace(uri, apply_text_edits(self.docs[uri][0], list(edits)))
        return lsp.ApplyWorkspaceEditResult(applied=True)

    def _file_operation(self, op: lsp.RenameFile | lsp.DeleteFile) -> str | None:
        """Move or delete on disk as VS Code does; an open document follows its file (closed, reopened)."""
        if isinstance(op, lsp.DeleteFile):
            Path(op.uri.removeprefix("file://")).unlink()
            if self.docs.pop(op.uri, None) is not None:
                self.client.text_document_did_close(lsp.DidCloseTextDocumentParams(
                    text_document=lsp.TextDocumentIdentifier(uri=op.uri)))
            return None
        old, new = Path(op.old_uri.removeprefix("file://")), Path(op.new_uri.removeprefix("file://"))
        if new.exists():
            return f"{new.name} exists"
        new.parent.mkdir(parents=True, exist_ok=True)
        old.rename(new)
        doc = self.docs.pop(op.old_uri, None)
        if doc is not None:
            self.client.text_document_did_close(lsp.DidCloseTextDocumentParams(
                text_document=lsp.TextDocumentIdentifier(uri=op.old_uri)))
            self.docs[op.new_uri] = [doc[0], 1]
            self.client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(
                uri=op.new_uri, language_id="python", version=1, text=doc[0])))
        self.renames.append((op.old_uri, op.new_uri))
        return None

    async def _replace(self, uri: str, text: str) -> None:
        doc = self.docs[uri]
        doc[0], doc[1] = text, doc[1] + 1
        self.client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=doc[1]),
            content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=text)]))

    # -- documents -----------------------------------------------------------------------

    def uri(self, rel: str) -> str:
        return uri_of(self.root / rel)

    async def open_uri(self, uri: str) -> None:
        path = Path(uri.removeprefix("file://"))
        text = path.read_text() if path.exists() else ""
        self.docs[uri] = [text, 1]
        self.client.text_document_did_open(lsp.DidOpenTextDocumentParams(
            text_document=lsp.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))

    async def open(self, rel: str) -> str:
        uri = self.uri(rel)
        await self.open_uri(uri)
        return uri

    def text(self, rel: str) -> str:
        return self.docs[self.uri(rel)][0]

    def save(self, rel: str) -> None:
        """The user saves: the buffer's text to disk (no `didSave`: gdm does not ask for it, and VS
        Code sends it only to servers that do)."""
        (self.root / rel).write_text(self.docs[self.uri(rel)][0])

    async def type(self, rel: str, line: int, character: int, new_text: str,
                   end: tuple[int, int] | None = None) -> None:
        """The user types: an incremental change at (line, character) [to end]."""
        uri = self.uri(rel)
        doc = self.docs[uri]
        end_line, end_char = end or (line, character)
        rng = lsp.Range(start=lsp.Position(line=line, character=character),
                        end=lsp.Position(line=end_line, character=end_char))
        doc[0] = apply_text_edits(doc[0], [lsp.TextEdit(range=rng, new_text=new_text)])
        doc[1] += 1
        self.client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=doc[1]),
            content_changes=[lsp.TextDocumentContentChangePartial(range=rng, text=new_text)]))

    # -- commands and waiting ----------------------------------------------------------

    async def command(self, command: str, payload: Any = None, *, raw_args: list | None = None) -> Any:
        args = raw_args if raw_args is not None else ([payload] if payload is not None else [])
        result = await self.client.workspace_execute_command_async(
            lsp.ExecuteCommandParams(command=command, arguments=args))
        return plain(result)

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
        async def loop() -> Any:
            while True:
                value = predicate()
                if value:
                    return value
                self._changed.clear()
                try:
                    await asyncio.wait_for(self._changed.wait(), 0.2)
                except asyncio.TimeoutError:
                    pass
        return await asyncio.wait_for(loop(), timeout)

    def answer_requests(self, answers: list[str]) -> None:
        """Answer each `window/showMessageRequest` with the next of `answers` (none left: no answer,
        which the server takes as Deny); every request is kept in `self.requests`."""
        self.requests: list[lsp.ShowMessageRequestParams] = []
        pending = list(answers)

        @self.client.feature(lsp.WINDOW_SHOW_MESSAGE_REQUEST)
        def show_request(params: lsp.ShowMessageRequestParams) -> lsp.MessageActionItem | None:
            self.requests.append(params)
            return lsp.MessageActionItem(title=pending.pop(0)) if pending else None

    def events(self, task_id: str, kind: str | None = None) -> list[dict]:
        return [e for e in self.notes["gdm/taskEvent"]
                if e["taskId"] == task_id and (kind is None or e["kind"] == kind)]

    async def wait_done(self, task_id: str, timeout: float = 60.0) -> dict:
        return (await self.wait_for(lambda: self.events(task_id, "done"), timeout))[0]

    def messages(self) -> list[str]:
        return [m.message for m in self.client.messages]

    def complete(self, rel: str, line: int, character: int, *, invoked: bool = False,
                 msg_id: str | None = None) -> asyncio.Future:
        """Send an inline completion request now, its answer awaited later (a burst of keystrokes sends
        several before the first is answered, as an editor does)."""
        params = inline_completion_params(self.uri(rel), line, character, invoked)
        return asyncio.wrap_future(self.client.protocol.send_request(lsp.TEXT_DOCUMENT_INLINE_COMPLETION, params,
                                                                     msg_id=msg_id))

    async def lenses(self, rel: str) -> list[lsp.CodeLens]:
        return await self.client.text_document_code_lens_async(
            lsp.CodeLensParams(text_document=lsp.TextDocumentIdentifier(uri=self.uri(rel)))) or []


def server_env(tmp: Path, **extra: str) -> dict[str, str]:
    """A clean environment for the server under test: its own data dir, no real keys."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GDM_", "OPENAI_", "ANTHROPIC_"))}
    env.update({"XDG_DATA_HOME": str(tmp / "xdg"), "XDG_CACHE_HOME": str(tmp / "xdg-cache"),
                "LITELLM_LOCAL_MODEL_COST_MAP": "True",
                "PYTHONPATH": str(REPO / "server")})
    env.update(extra)
    return env


async def start_editor(root: Path, tmp: Path, *, init_options: dict | None = None,
                       capabilities: lsp.ClientCapabilities | None = None,
                       configuration: dict | None = None, env: dict[str, str] | None = None,
                       ) -> tuple[Editor, lsp.InitializeResult]:
    """Start `python -m gdm`, initialize it like VS Code and return the editor."""
    client = make_test_lsp_client()
    if configuration is not None:
        client.set_configuration(configuration, section="gdm")
    await client.start_io(sys.executable, "-m", "gdm", env=env or server_env(tmp))
    editor = Editor(client, root)
    result = await client.initialize_session(lsp.InitializeParams(
        capabilities=capabilities or vscode_capabilities(),
        root_uri=uri_of(root),
        workspace_folders=[lsp.WorkspaceFolder(uri=uri_of(root), name=root.name)],
        initialization_options=init_options or {},
    ))
    return editor, result


async def stop_editor(editor: Editor) -> None:
    try:
        await asyncio.wait_for(editor.client.shutdown_session(), 10)
    except (asyncio.TimeoutError, RuntimeError):
        pass
    await editor.client.stop()



VSCODE_STOP_PATIENCE_S = 2.0  # vscode-languageclient's checkProcessDied: SIGKILL 2 s after exit


async def stop_editor_like_vscode(editor: Editor, patience_s: float = VSCODE_STOP_PATIENCE_S) -> bool:
    """Stop the server as VS Code's client does: `shutdown`, `exit`, and SIGKILL it if it is still
    running `patience_s` later. True when the server exited by itself in time.

    The caller still calls `editor.client.stop()`, after killing whatever outlived the server:
    `stop()` waits for the server's pipes to close, and a child holding them keeps it waiting.
    """
    process = editor.client._server  # pygls keeps the server's process here (no public accessor)
    assert process is not None
    await asyncio.wait_for(editor.client.shutdown_async(None), 10)
    editor.client.exit(None)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience_s
    # The exit status, not process.wait(): that also waits for EOF on the pipes (see above).
    while process.returncode is None and loop.time() < deadline:
        await asyncio.sleep(0.02)
    if process.returncode is None:
        process.kill()
        return False
    return True


def inline_completion_params(uri: str, line: int, character: int, invoked: bool = False) -> lsp.InlineCompletionParams:
    """A `textDocument/inlineCompletion` request at a place, as typing (automatic) or asked (invoked)."""
    kind = lsp.InlineCompletionTriggerKind.Invoked if invoked else lsp.InlineCompletionTriggerKind.Automatic
    return lsp.InlineCompletionParams(text_document=lsp.TextDocumentIdentifier(uri=uri),
                                      position=lsp.Position(line=line, character=character),
                                      context=lsp.InlineCompletionContext(trigger_kind=kind))


def end_of(text: str) -> tuple[int, int]:
    """The (line, character) of the end of a text (ASCII: characters are UTF-16 units)."""
    lines = text.split("\n")
    return len(lines) - 1, len(lines[-1])
