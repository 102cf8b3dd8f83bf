"""Where a line starts in a document's text, per keystroke without splitting the whole text.

An inline completion request names a line; splitting a 3,000-line file into lines to find it cost
about a millisecond a keystroke (pygls' `lines` splits on every use). The last answer per document
is kept: the next keystroke is nearly always on the same line or one near it, and the text before
that line start is checked unchanged (a memory compare) before the start is reused.
"""

from __future__ import annotations

import re
from collections import OrderedDict

KEPT = 64
_BREAK = re.compile(r"\r\n|\r|\n")


class LineStarts:
    """The code-point offset of a line's start, with the last one per document as a hint."""

    def __init__(self, kept: int = KEPT) -> None:
        self._last: OrderedDict[str, tuple[str, int, int]] = OrderedDict()  # uri -> (text before start, line, start)
        self._kept = kept

    def line_start(self, uri: str, text: str, line: int) -> int | None:
        """The offset where `line` (0-based) starts in `text`; None when the text has no such line
        (the line after a last newline exists, empty; the one after a last line without one does not)."""
        if line < 0:
            return None
        if "\r" in text and text.count("\r") != text.count("\r\n"):
            return _start_by_any_break(text, line)  # a lone CR ends a line too (LSP): rare, slower
        hint = self._last.get(uri)
        at, start = 0, 0
        if hint is not None and hint[1] <= line and text.startswith(hint[0]):
            at, start = hint[1], hint[2]
        while at < line:
            found = text.find("\n", start)
            if found < 0:
                return None
            at, start = at + 1, found + 1
        self._last[uri] = (text[:start], line, start)
        self._last.move_to_end(uri)
        while len(self._last) > self._kept:
            self._last.popitem(last=False)
        return start


def _start_by_any_break(text: str, line: int) -> int | None:
    if line == 0:
        return 0
    for number, found in enumerate(_BREAK.finditer(text), 1):
        if number == line:
            return found.end()
    return None
