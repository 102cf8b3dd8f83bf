"""Rendering the ranked map within a token budget, Aider-like.

Each file's workspace-relative path on a line ending in `:`, its chosen definitions' signature
lines indented under it (a class's methods under the class, the class line shown when one of its
members is chosen); the focus files first (what the user works on heads the map, even where the
steps against the edges give its tests more of their definitions' score), then the files in the
order of their best chosen definition. The most definitions that fit are found by binary search
over the ranked list; files without definitions (no grammar, or none ranked) follow by path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from gdm.context.repomap.rank import Ranking
from gdm.context.repomap.tags import FileTags

INDENT = "  "


def chars_per_token(text: str) -> int:
    """The fallback token count: characters / 4."""
    return (len(text) + 3) // 4


@dataclass
class MapResult:
    """A rendered map: its text, the files and number of definitions in it, and how long it took."""

    text: str
    files: list[str]
    symbols: int
    ms: float = 0.0
    notes: list[str] = field(default_factory=list)


def _items(tags: Mapping[str, FileTags], ranking: Ranking) -> list[tuple[str, int]]:
    """(path, def index) best first, then (path, -1) for files with nothing ranked."""
    items: list[tuple[str, int]] = []
    with_defs = set()
    for key, _score in ranking.defs:
        index = tags[key[0]].first_def(key[1]) if key[0] in tags else None
        if index is not None:
            items.append((key[0], index))
            with_defs.add(key[0])
    items += [(path, -1) for path, _score in ranking.files if path not in with_defs]
    return items


def _text(tags: Mapping[str, FileTags], chosen: list[tuple[str, int]], first: tuple[str, ...] = ()
          ) -> tuple[str, list[str], int]:
    present = {path for path, _index in chosen}
    by_file: dict[str, set[int]] = {path: set() for path in first if path in present}
    for path, index in chosen:
        by_file.setdefault(path, set())
        if index >= 0:
            by_file[path].add(index)
    lines: list[str] = []
    symbols = 0
    for path, indices in by_file.items():
        lines.append(f"{path}:")
        defs = tags[path].defs
        shown = set(indices) | {defs[i].parent for i in indices if defs[i].parent >= 0}
        symbols += len(indices)
        for index in sorted(shown, key=lambda i: defs[i].line):
            depth = 1 if defs[index].parent >= 0 else 0
            lines.append(f"{INDENT * (depth + 1)}{defs[index].signature}")
    return "\n".join(lines) + ("\n" if lines else ""), list(by_file), symbols


def render(tags: Mapping[str, FileTags], ranking: Ranking, max_tokens: int,
           count: Callable[[str], int] = chars_per_token) -> MapResult:
    """The largest rank-ordered prefix of definitions (then file names) within `max_tokens`."""
    items = _items(tags, ranking)
    if max_tokens <= 0 or not items:
        return MapResult("", [], 0)
    lo, hi = 0, min(len(items), max(1, max_tokens // 3))  # a signature line costs 3 tokens at least
    best = ("", [], 0)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        candidate = _text(tags, items[:mid], ranking.focus)
        if count(candidate[0]) <= max_tokens:
            lo, best = mid, candidate
        else:
            hi = mid - 1
    if lo and not best[0]:
        best = _text(tags, items[:lo], ranking.focus)
    return MapResult(best[0], best[1], best[2])
