"""Plain data of the code map: a file's definitions and references, and the languages by extension.

Nothing here imports tree-sitter; these tuples are what the cache stores and the ranking reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

KINDS = ("class", "function", "method", "constant", "variable", "interface", "type", "module")
_KIND_OF = {"class": "class", "function": "function", "method": "method", "constant": "constant",
            "variable": "variable", "interface": "interface", "type": "type", "module": "module",
            "macro": "function", "field": "variable", "enum": "type", "struct": "class"}

EXTENSIONS = {
    ".py": "python", ".pyi": "python",
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
    ".ts": "typescript", ".mts": "typescript", ".cts": "typescript", ".tsx": "tsx",
    ".go": "go", ".rs": "rust", ".java": "java",
    ".c": "c", ".h": "c",
    ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".c++": "cpp", ".hpp": "cpp", ".hh": "cpp", ".hxx": "cpp",
    ".rb": "ruby",
}


def kind_of(capture_kind: str) -> str:
    """A tags.scm kind (`definition.<kind>`) as one of KINDS."""
    return _KIND_OF.get(capture_kind, "variable")


def language_of(path: str) -> str | None:
    """The grammar key of a path by its extension, or None (listed by path only)."""
    dot = path.rfind(".")
    if dot <= path.rfind("/") + 1:  # no suffix (or a dotfile's name)
        return None
    return EXTENSIONS.get(path[dot:].lower())


class Def(NamedTuple):
    """A definition: its name, kind, the 0-based line of its name, its 0-based line range, its
    one-line signature, and the index of its enclosing definition in the file (-1: top level)."""

    name: str
    kind: str
    line: int
    start_line: int
    end_line: int
    signature: str
    parent: int


@dataclass
class FileTags:
    """What one file defines, and how often it references each name; `note` says why a file has
    no tags (no grammar, skipped) or that they may be partial (syntax errors)."""

    lang: str | None
    defs: list[Def]
    refs: dict[str, int]
    note: str | None = None
    _top: list[int] | None = field(default=None, repr=False, compare=False)
    _by_name: dict[str, int] | None = field(default=None, repr=False, compare=False)

    def to_record(self) -> tuple:
        """A marshal-able tuple, for the cache."""
        return (self.lang, [tuple(d) for d in self.defs], self.refs, self.note)

    @classmethod
    def from_record(cls, record: tuple) -> FileTags:
        """The inverse of `to_record`."""
        lang, defs, refs, note = record
        return cls(lang, [Def(*d) for d in defs], refs, note)

    def top_level(self) -> list[int]:
        """Indices of the definitions a map shows: top level and class members, not locals."""
        if self._top is None:
            defs = self.defs
            self._top = [i for i, d in enumerate(defs)
                         if d.parent < 0 or (defs[d.parent].kind in ("class", "interface", "module", "type")
                                             and defs[d.parent].parent < 0)]
        return self._top

    def first_def(self, name: str) -> int | None:
        """Index of the first map-visible definition of `name` in the file, or None."""
        if self._by_name is None:
            by_name: dict[str, int] = {}
            for index in self.top_level():
                by_name.setdefault(self.defs[index].name, index)
            self._by_name = by_name
        return self._by_name.get(name)
