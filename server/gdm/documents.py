"""The editor's open documents: pygls' workspace and text document, with an incremental change
that costs what the edit costs, not what the document costs.

pygls 2.1 applies each `didChange` by splitting the whole text into lines (twice: a tuple for the
range, a loop writing every line back), so a keystroke in a 3,000-line file cost ~1.5 ms on the
event loop before the inline completion request behind it was read (measured with py-spy on
benchmarks/completion_latency.py: a third of the loop's busy time). Here the range's two offsets
are found from a line-start hint (completions/lines.py) and the text is cut and joined once.

Line breaks are LSP's (`\\n`, `\\r\\n`, `\\r`), as every editor counts them; pygls' `splitlines`
also breaks at form feeds, `\\v`, `\\x1c`–`\\x1e`, NEL and U+2028/2029, so an edit after a form
feed (old C and Python files, Emacs pages) landed on the wrong line. A column past a line's end
is its end (the LSP rule; pygls put it one before the end of a last line with no newline), a line
past the document's end is the document's end.
"""

from __future__ import annotations

from typing import Any

from lsprotocol import types as lsp
from pygls.workspace import TextDocument, Workspace

from gdm.completions.lines import LineStarts


class Document(TextDocument):
    """One open document (see the module docstring)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._starts = LineStarts(kept=1)

    def _apply_incremental_change(self, change: lsp.TextDocumentContentChangePartial) -> None:
        text = self.source
        start = self.offset_of(text, change.range.start)
        end = max(start, self.offset_of(text, change.range.end))
        self._source = text[:start] + change.text + text[end:]

    def offset_of(self, text: str, position: lsp.Position) -> int:
        """The code-point offset in `text` of an LSP position in the client's units."""
        start = self._starts.line_start(self.uri, text, position.line)
        if start is None:
            return len(text)
        end = _line_end(text, start)
        line = text[start:end]
        units = position.character
        if units >= len(line) and self.position_codec.client_num_units(line) <= units:
            return end
        if line.isascii():
            return start + units
        return start + self.position_codec.position_from_client_units([line], lsp.Position(0, units)).character


def _line_end(text: str, start: int) -> int:
    """Where the line starting at `start` ends, before its line break."""
    newline = text.find("\n", start)
    cr = text.find("\r", start, None if newline < 0 else newline)
    if cr >= 0:
        return cr
    return len(text) if newline < 0 else newline


class Documents(Workspace):
    """pygls' workspace, making gdm's `Document`s."""

    def _create_text_document(self, doc_uri: str, source: str | None = None, version: int | None = None,
                              language_id: str | None = None) -> TextDocument:
        return Document(doc_uri, source=source, version=version, language_id=language_id,
                        sync_kind=self._sync_kind, position_codec=self._position_codec)


def adopt(workspace: Workspace | None) -> Workspace | None:
    """pygls builds its `Workspace` inside `initialize`: it becomes a `Documents` (the same object,
    its class swapped before any document is opened; the subclass adds no state)."""
    if workspace is not None and type(workspace) is Workspace:
        workspace.__class__ = Documents
    return workspace
