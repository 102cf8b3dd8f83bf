"""What a completion needs from other files: the definitions the code around the cursor names.

The names come from the lines near the cursor, nearest first — called names, imported names, types
and attribute bases before the rest — and are looked up in a name → files index of the code map's
definitions (`DefinitionIndex`), kept in step with the map's snapshot by identity, so that only the
files whose tags changed since the last completion are read again: a lookup on a 3,000-file project
is a few dict hits. Each definition found becomes a snippet (its signature; a class with its members'),
and the places the user worked at last in other files a few lines each, within a character budget.
Blocking only on the code index's lock: run it off the event loop.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping
from dataclasses import dataclass

from gdm.completions.prompt import CONTEXT_CHARS, Window
from gdm.context.repomap.tags import Def, FileTags
from gdm.context.repomap.weights import BUILTIN_NAMES, COMMON_NAMES

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_IMPORT_START = re.compile(r"\s*(?:from\s+[\w.]+\s+import\b|import\b|#include\b|use\b|require\b)")
_REQUIRE_CALL = re.compile(r"\brequire\(")
LINES_BEFORE, LINES_AFTER = 30, 8
MAX_NAMES = 120
DEFS_PER_NAME = 2
MEMBERS_SHOWN = 8
RECENT_LINES = 4  # lines each side of a place worked at in another file
_OTHER_KEYWORDS = frozenset(
    "function var let const this new return if else for while do switch case break continue typeof instanceof "
    "null undefined true false func package go defer chan select struct interface map type range fn mut impl "
    "pub use mod crate self Self match enum trait where public private protected static final void class "
    "extends implements throws throw try catch finally end begin then elif unless module require include "
    "int char long short double float bool string auto unsigned signed sizeof".split())
_SKIP = frozenset(keyword.kwlist) | _OTHER_KEYWORDS | BUILTIN_NAMES["python"]
# Methods of the languages' own types (`append`, `get`, `push`): said nothing as `x.get(` or bare.
_COMMON = COMMON_NAMES["python"] | COMMON_NAMES["js"]


def names_near(win: Window) -> list[str]:
    """Identifiers around the cursor that may be defined elsewhere, most telling first: those called,
    imported, capitalised or used as an attribute base in the lines near the cursor, by distance; then
    the others there; then the same two kinds in the rest of the window."""
    before = win.prefix.splitlines()
    after = win.suffix.splitlines()
    near = list(reversed(before[-LINES_BEFORE:])) + after[:LINES_AFTER]
    far = list(reversed(before[:-LINES_BEFORE])) + after[LINES_AFTER:]
    strong, weak = _names_in(near)
    for line in import_lines(before):
        for name in _IDENT.findall(line):
            if name not in _SKIP and len(name) > 1:
                strong.setdefault(name, None)
    far_strong, far_weak = _names_in(far)
    ordered = list(dict.fromkeys([*strong, *weak, *far_strong, *far_weak]))
    return ordered[:MAX_NAMES]


def import_lines(lines: list[str]) -> list[str]:
    """The lines that import something (Python, JS/TS, C, Rust, Ruby): a cheap test per line first,
    since a regex over the whole prefix costs milliseconds per keystroke in a long file."""
    return [line for line in lines if ("import" in line or "require" in line or "#include" in line or "use " in line)
            and (_IMPORT_START.match(line) or _REQUIRE_CALL.search(line))]


def _names_in(lines: list[str]) -> tuple[dict[str, None], dict[str, None]]:
    """The telling and the other identifiers of `lines`, each in order of first appearance."""
    strong: dict[str, None] = {}
    weak: dict[str, None] = {}
    for line in lines:
        for match in reversed(list(_IDENT.finditer(line))):
            name = match.group()
            if name in _SKIP or len(name) < 2:
                continue
            following = line[match.end():match.end() + 1]
            method = line[match.start() - 1:match.start()] == "."
            if name in _COMMON and (method or following != "("):
                continue
            telling = following in ("(", ".") or name[0].isupper()
            (strong if telling else weak)[name] = None
    return strong, weak


class DefinitionIndex:
    """Name → the files whose map-visible definitions (top level, class members) have that name."""

    def __init__(self) -> None:
        self._seen: dict[str, FileTags] = {}
        self._names: dict[str, list[str]] = {}  # path -> its names
        self._files: dict[str, list[str]] = {}  # name -> paths
        self._defs: dict[str, list[Def]] = {}  # path -> its definitions, decoded once (FileTags.defs unmarshals)
        self._last: Mapping[str, FileTags] | None = None

    def update(self, snapshot: Mapping[str, FileTags]) -> int:
        """Follow the code index's snapshot; returns how many files were read again (none, at once,
        for the same snapshot object as last time: `CodeIndex.tags_now` while nothing changed)."""
        if snapshot is self._last:
            return 0
        self._last = snapshot
        for path in [p for p in self._seen if p not in snapshot]:
            self._drop(path)
        read = 0
        for path, tags in snapshot.items():
            if self._seen.get(path) is tags:
                continue
            self._drop(path)
            self._seen[path] = tags
            names = tags.top_names() if tags.has_defs() else []
            self._names[path] = names
            for name in names:
                self._files.setdefault(name, []).append(path)
            read += 1
        return read

    def _drop(self, path: str) -> None:
        self._seen.pop(path, None)
        self._defs.pop(path, None)
        for name in self._names.pop(path, []):
            paths = self._files.get(name)
            if paths is not None and path in paths:
                paths.remove(path)
                if not paths:
                    del self._files[name]

    def files_defining(self, name: str) -> list[str]:
        """The files that define `name` (sorted)."""
        return sorted(self._files.get(name, ()))

    def definitions(self, name: str, limit: int = DEFS_PER_NAME) -> list[tuple[str, int, list[Def]]]:
        """(path, index of the definition, that file's definitions) for up to `limit` files."""
        out = []
        for path in self.files_defining(name)[:limit]:
            tags = self._seen[path]
            index = tags.first_def(name)
            if index is not None:
                defs = self._defs.get(path)
                if defs is None:
                    defs = self._defs[path] = tags.defs
                out.append((path, index, defs))
        return out


def snippet(path: str, index: int, defs: list[Def]) -> str:
    """A definition as the model sees it: its signature with its file (and class), a class with its
    members' signatures."""
    d = defs[index]
    if d.parent >= 0:
        return f"{path}: in {defs[d.parent].signature}\n    {d.signature}"
    lines = [f"{path}: {d.signature}"]
    if d.kind in ("class", "interface", "type", "module"):
        members = [m.signature for m in defs if m.parent == index][:MEMBERS_SHOWN]
        lines += [f"    {m}" for m in members]
    return "\n".join(lines)


@dataclass(frozen=True)
class Recent:
    """A place the user worked at in another file: its path, text (as the editor has it) and line."""

    path: str
    text: str
    line: int


def excerpt(place: Recent) -> str:
    """A few lines around a recent place, headed by its path."""
    lines = place.text.splitlines()
    start = max(0, place.line - RECENT_LINES)
    body = "\n".join(lines[start:place.line + RECENT_LINES + 1])
    return f"{place.path} (edited recently, from line {start + 1}):\n{body}"


def gather(index: DefinitionIndex, snapshot: Mapping[str, FileTags], path: str | None, win: Window,
           recent: list[Recent], budget: int = CONTEXT_CHARS) -> list[str]:
    """The snippets for a completion at `win` in `path`, within `budget` characters: definitions the
    nearby code names (none that the window already shows), then recent places in other files."""
    index.update(snapshot)
    shown_lines = range(win.first_line, win.first_line + win.prefix.count("\n") + win.suffix.count("\n") + 1)
    out: list[str] = []
    used = 0
    for name in names_near(win):
        for file, at, defs in index.definitions(name):
            if file == path and defs[at].line in shown_lines:
                continue  # in the window already
            text = snippet(file, at, defs)
            if used + len(text) > budget or text in out:
                continue
            out.append(text)
            used += len(text) + 1
    for place in recent:
        if place.path == path:
            continue
        text = excerpt(place)
        if used + len(text) <= budget:
            out.append(text)
            used += len(text) + 1
    return out
