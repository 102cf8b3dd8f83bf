"""The one owner of position encoding: LSP's line breaks, column widths, and the conversion of
the engine's columns to the client's position units.

Inside gdm, edit plans count columns in code points (Python string indices); the client's units
(UTF-16 by default, UTF-8 or UTF-32 when negotiated) are reached once, at the LSP edge, through
pygls' position codec (`to_client_units`, which takes the codec so this module needs no pygls).
Lines are LSP lines: a break is `\\n`, `\\r\\n` or a lone `\\r`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, NamedTuple, Protocol, TypeVar

LSP_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")  # LSP's line breaks: \n, \r\n, \r

Width = Callable[[str], int]


def lsp_lines(text: str) -> list[str]:
    """`text` split at LSP's line breaks, each line keeping its break."""
    return LSP_LINES.findall(text)


def utf16_len(s: str) -> int:
    """The length of `s` in UTF-16 code units (LSP's default position encoding)."""
    return len(s.encode("utf-16-le")) // 2


def width(code_points: bool) -> Width:
    """How columns are counted: code points (`len`) or UTF-16 code units."""
    return len if code_points else utf16_len


def lsp_position(text: str, offset: int, count: Width = utf16_len) -> tuple[int, int]:
    """(line, character) of a character offset, with LSP's line breaks: \\n, \\r\\n, \\r."""
    prefix = text[:offset]
    line = prefix.count("\n") + prefix.count("\r") - prefix.count("\r\n")
    start = max(prefix.rfind("\n"), prefix.rfind("\r")) + 1
    return line, count(prefix[start:])


class LinePositions:
    """LSP positions of the starts of the model's lines (and of the end of the text), with
    characters counted in UTF-16 code units, or in code points when `code_points`."""

    def __init__(self, text: str, lines: list[str], code_points: bool = False) -> None:
        self.text, self.lines = text, lines
        self.width = width(code_points)
        self.offsets = [0]
        for line in lines:
            self.offsets.append(self.offsets[-1] + len(line))
        # LSP also breaks lines at a lone '\r'; only then do its line numbers differ from ours
        self.simple = text.count("\r") == text.count("\r\n")

    def at(self, k: int) -> tuple[int, int]:
        """(line, UTF-16 character) of the start of model line k; k == len(lines) is the end."""
        if not self.simple:
            return lsp_position(self.text, self.offsets[k], self.width)
        if k == len(self.lines) and self.lines and not self.lines[-1].endswith("\n"):
            return k - 1, self.width(self.lines[-1])
        return k, 0


class _Position(NamedTuple):
    line: int
    character: int


class _Range(NamedTuple):
    start: _Position
    end: _Position


class PositionCodec(Protocol):
    """What gdm uses of pygls' `PositionCodec` (`server.ls.workspace.position_codec`)."""

    def range_to_client_units(self, lines: Sequence[str], range: Any) -> Any: ...


class _Edit(Protocol):
    start_line: int
    start_char: int
    end_line: int
    end_char: int


E = TypeVar("E", bound=_Edit)


def to_client_units(codec: PositionCodec, before: str, edits: Sequence[E]) -> list[E]:
    """`edits` on `before` with columns converted from code points to the client's units."""
    if all(e.start_char == 0 and e.end_char == 0 for e in edits):
        return list(edits)
    lines = lsp_lines(before)
    out = []
    for e in edits:
        rng = codec.range_to_client_units(lines, _Range(_Position(e.start_line, e.start_char),
                                                        _Position(e.end_line, e.end_char)))
        out.append(replace(e, start_line=rng.start.line, start_char=rng.start.character,  # type: ignore[type-var]
                           end_line=rng.end.line, end_char=rng.end.character))
    return out
