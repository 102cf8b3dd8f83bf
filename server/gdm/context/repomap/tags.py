"""Plain data of the code map: a file's definitions and references, and the languages by extension.

Nothing here imports tree-sitter; these tuples are what the cache stores and the ranking reads.
"""

from __future__ import annotations

import hashlib
import marshal
from array import array
from collections.abc import ItemsView, Iterable, Iterator, Mapping
from typing import NamedTuple

from gdm.context.repomap import weights

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


def name_key(name: str) -> bytes:
    """A name's 64-bit key (8 bytes, little-endian signed; stable across processes, unlike `hash`):
    what the ranking joins references to definitions by. Two of the kernel's 3 million names share
    one with a chance of ~2e-7."""
    return hashlib.blake2b(name.encode("utf-8", "surrogatepass"), digest_size=8).digest()


class Refs(Mapping[str, int]):
    """A file's referenced names and how often each, compact: a Mapping built from a dict, kept as
    one string of the names and three byte strings, each a column over the names in order — their
    counts (uint32), their keys (`name_key`; `name_keys`, not `keys`, which stays Mapping's method:
    `dict(refs)` calls it) and their weight codes (`weights.code`). On the Linux
    kernel (8.8 million references) that is ~0.2 GB where a dict per file took ~0.85 GB, and the
    ranking reads the columns as arrays without touching a name."""

    __slots__ = ("_text", "counts", "name_keys", "codes")

    def __init__(self, text: str, counts: bytes, name_keys: bytes, codes: bytes) -> None:
        self._text, self.counts, self.name_keys, self.codes = text, counts, name_keys, codes

    @classmethod
    def of(cls, counts: Mapping[str, int] | Iterable[tuple[str, int]], lang: str | None) -> Refs:
        """Compact a name -> count mapping (names with a newline are no identifiers: left out), in
        name order: the same references make the same columns however they were found (a buffer's
        parse and its disk file's found them in different orders, which made the graph look changed)."""
        pairs = sorted((n, c) for n, c in (counts.items() if isinstance(counts, Mapping) else counts) if "\n" not in n)
        if not pairs:
            return _NO_REFS
        names = [n for n, _c in pairs]
        return cls("\n" + "\n".join(names) + "\n", array("I", [c for _n, c in pairs]).tobytes(),
                   b"".join(map(name_key, names)), bytes(weights.code(n, lang) for n in names))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and "\n" not in name and f"\n{name}\n" in self._text

    def __iter__(self) -> Iterator[str]:
        return iter(self._text[1:-1].split("\n") if self.codes else ())

    def __len__(self) -> int:
        return len(self.codes)

    def __getitem__(self, name: str) -> int:
        if name not in self:
            raise KeyError(name)
        index = self._text.count("\n", 0, self._text.find(f"\n{name}\n"))
        return int.from_bytes(self.counts[4 * index:4 * index + 4], "little")

    def items(self) -> ItemsView[str, int]:  # type: ignore[override]
        """(name, count) pairs in order, in one pass (Mapping's own would search each name)."""
        return dict(zip(self, array("I", self.counts))).items()

    def __repr__(self) -> str:
        return f"Refs({dict(self.items())!r})"


_NO_REFS = Refs("\n", b"", b"", b"")


class FileTags:
    """What one file defines, and how often it references each name; `note` says why a file has
    no tags (no grammar, skipped) or that they may be partial (syntax errors). `refs` given as a
    dict is compacted (`Refs`); `def_keys` are the `name_key`s of `top_names()`, made with the tags.

    The definitions are kept marshal-ed (with a string of their names, for `defines`) and made
    into `Def`s when read: a map reads a few dozen files', and the kernel's million `Def` tuples
    took 0.36 GB where their bytes take ~0.1 GB."""

    __slots__ = ("lang", "_defs", "_names", "refs", "note", "def_keys", "_top", "_by_name")

    def __init__(self, lang: str | None, defs: list[Def] | bytes, refs: Refs | Mapping[str, int] | list,
                 note: str | None = None, def_keys: bytes | None = None, names: str | None = None) -> None:
        self.lang, self.note = lang, note
        if isinstance(defs, bytes):
            self._defs = defs
        else:
            self._defs = marshal.dumps([tuple(d) for d in defs])
            names = "\n" + "".join(f"{d.name}\n" for d in defs)
        self._names = names if names is not None else "\n" + "".join(f"{d[0]}\n" for d in marshal.loads(defs))
        self.refs = refs if isinstance(refs, Refs) else Refs.of(refs, lang)
        self._top: list[int] | None = None
        self._by_name: dict[str, int] | None = None
        self.def_keys = def_keys if def_keys is not None else b"".join(map(name_key, self.top_names()))

    @property
    def defs(self) -> list[Def]:
        """The definitions, in file order (a new list each time: bind it when reading several)."""
        return [Def(*d) for d in marshal.loads(self._defs)]

    def has_defs(self) -> bool:
        """Whether the file defines anything."""
        return len(self._names) > 1

    def defines(self, name: str) -> bool:
        """Whether any definition of the file (nested ones too) has this name."""
        return "\n" not in name and f"\n{name}\n" in self._names

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FileTags):
            return NotImplemented
        return (self.lang, self._defs, self.note) == (other.lang, other._defs, other.note) and self.refs == other.refs

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"FileTags(lang={self.lang!r}, defs={self.defs!r}, refs={self.refs!r}, note={self.note!r})"

    def to_record(self) -> tuple:
        """A marshal-able tuple, for the cache."""
        r = self.refs
        return (self.lang, self._defs, self._names, r._text, r.counts, r.name_keys, r.codes, self.def_keys, self.note)

    @classmethod
    def from_record(cls, record: tuple) -> FileTags:
        """The inverse of `to_record`."""
        lang, defs, names, text, counts, keys, codes, def_keys, note = record
        refs = Refs(text, counts, keys, codes) if codes else _NO_REFS
        return cls(lang, defs, refs, note, def_keys, names)

    def top_names(self) -> list[str]:
        """The names of `top_level()`, each once, in order (what the ranking knows a file defines)."""
        defs = self.defs
        return list(dict.fromkeys(defs[i].name for i in self.top_level()))

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
            defs = self.defs
            for index in self.top_level():
                by_name.setdefault(defs[index].name, index)
            self._by_name = by_name
        return self._by_name.get(name)
