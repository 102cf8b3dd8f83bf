"""The code map of one workspace, as the session, the tools, `gdm map` and `gdm.map` use it.

Every method blocks (parsing, walking): call it from a worker thread. Readers pass the texts they
see — open buffers and a task's pending patches (`Overlay`) — taken on the event loop; the map
never reads an editor's state itself. Freshness at use: the first use builds the index unless a
background build is running (then what is ready plus the focus files is used); later uses re-stat
the known files (an edit on disk is re-parsed alone) and walk the folders again when told files
changed (watched-files notifications: before the map) or every `WALK_EVERY_S` (beside it, in a
thread of its own, and no more often than every `WALK_SHARE` walks' time; the map then has the
focus files fresh and the rest as last walked). Each build ends with the ranking's graph of what it
indexed, so that a map (a process's first one too) solves PageRank alone.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from gdm.context.repomap import treesitter
from gdm.context.repomap.index import CodeIndex, Progress
from gdm.context.repomap.rank import Ranker
from gdm.context.repomap.render import MapResult, chars_per_token, render
from gdm.context.repomap.tags import KINDS, Def, FileTags, language_of

log = logging.getLogger(__name__)

WALK_EVERY_S = 10.0
WALK_SHARE = 20  # and no more often than every 20 walks' time: a 5 s walk of a huge tree, every 100 s
MAX_LISTED = 200
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}")


@dataclass
class Overlay:
    """What a reader sees over the disk: open buffers and a task's pending patches (path -> text,
    None for a file deleted for this reader)."""

    buffers: dict[str, str] = field(default_factory=dict)
    pending: dict[str, str | None] = field(default_factory=dict)


class CodeMap:
    """Index, ranking and rendering of one workspace (thread-safe)."""

    def __init__(self, root: Path, *, cache_folder: Path | None = None, workers: int | None = None,
                 use_cache: bool = True) -> None:
        self.index = CodeIndex(root, cache_folder=cache_folder, workers=workers, use_cache=use_cache)
        self.root = self.index.root
        self._ranker = Ranker()
        self._rank_lock = threading.Lock()
        self._building = threading.Event()
        self._dirty = True
        self._last_walk = 0.0
        self._walk_s = 0.0  # what the last walk of the folders took

    # -- freshness ----------------------------------------------------------------------

    def build(self, progress: Progress | None = None) -> dict[str, float]:
        """The full index (first time: from the disk cache and parsing); reports progress."""
        self._building.set()
        try:
            figures = self.index.refresh(progress)
            self._dirty, self._last_walk = False, time.monotonic()
            self._walk_s = figures["walk_ms"] / 1000
            # The ranking's graph of what was just indexed, now: the next map (a process's first one
            # too) solves PageRank alone. Unchanged since the last build: the kept graph, at once.
            started = time.perf_counter()
            snapshot = self.index.snapshot()
            if snapshot:  # an empty workspace has no graph (and loads no numpy for it)
                self._ranker.prepare(snapshot)
            figures["graph_ms"] = (time.perf_counter() - started) * 1000
            return figures
        finally:
            self._building.clear()

    def files_changed(self) -> None:
        """Files were created, deleted or changed on disk (watched-files): walk again at next use."""
        self._dirty = True

    def _freshen(self, focus: Iterable[str]) -> None:
        focus = list(focus)
        if self._building.is_set():
            self.index.ensure(focus)  # a build runs: what is ready, plus the focus
            return
        if not self.index.ready() or self._dirty:
            self.build()  # told files changed: walk before this map
            return
        if time.monotonic() - self._last_walk > max(WALK_EVERY_S, WALK_SHARE * self._walk_s):
            # The periodic walk (new files nobody told of) goes on beside this map, never in its way:
            # on the Linux kernel a walk is ~5 s, and it made every map after a 10 s pause that long.
            self._last_walk = time.monotonic()
            threading.Thread(target=self._walk, name="gdm-code-map-walk", daemon=True).start()
            self.index.ensure(focus)
            return
        self.index.refresh_known()

    def _walk(self) -> None:
        try:
            self.build()
        except Exception:  # noqa: BLE001 - a background walk that fails leaves the index as it was
            log.exception("gdm: the code map's periodic walk failed")

    def _tags(self, overlay: Overlay | None, focus: Iterable[str] = ()) -> dict[str, FileTags]:
        overlay = overlay or Overlay()
        self._freshen([*focus, *overlay.buffers])
        for path, text in overlay.buffers.items():
            self.index.update_buffer(path, text)
        return self.index.snapshot(overlay.pending)

    # -- the map ------------------------------------------------------------------------

    def map(self, focus: Iterable[str] = (), max_tokens: int = 1024, *, mentioned: Iterable[str] = (),
            overlay: Overlay | None = None, count: Callable[[str], int] | None = None) -> MapResult:
        """The ranked map within `max_tokens`, personalised on `focus` paths and `mentioned` names."""
        started = time.perf_counter()
        focus = list(focus)
        tags = self._tags(overlay, focus)
        open_paths = list((overlay or Overlay()).buffers)
        fresh = time.perf_counter()
        with self._rank_lock:
            ranking = self._ranker.rank(tags, focus or open_paths, mentioned, limit=max(1, max_tokens))
        ranked = time.perf_counter()
        result = render(tags, ranking, max_tokens, count or chars_per_token)
        result.ms = round((time.perf_counter() - started) * 1000, 1)
        log.debug("code map: a map in %.0f ms (freshness and snapshot %.0f, ranking %.0f, rendering %.0f)",
                  result.ms, (fresh - started) * 1000, (ranked - fresh) * 1000, (time.perf_counter() - ranked) * 1000)
        if not self.index.ready():
            result.notes.append("the workspace is still being indexed: this map has what was ready")
        return result

    # -- symbols ------------------------------------------------------------------------

    def find_symbol(self, name: str, kind: str | None = None, overlay: Overlay | None = None) -> list[str]:
        """Every definition of `name` as `path:line: kind signature` (1-based lines)."""
        if kind is not None and kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        out = []
        for path, tags in sorted(self._tags(overlay).items()):
            if not tags.defines(name):
                continue
            for d in tags.defs:
                if d.name == name and (kind is None or d.kind == kind):
                    out.append(f"{path}:{d.line + 1}: {d.kind} {d.signature}")
        return out

    def find_references(self, name: str, path: str | None = None, overlay: Overlay | None = None) -> list[str]:
        """Lines that reference `name` as `path:line: text`, definitions excluded (under `path`)."""
        overlay = overlay or Overlay()
        texts = {**overlay.buffers, **{p: t for p, t in overlay.pending.items() if t is not None}}
        out: list[str] = []
        for rel, tags in sorted(self._tags(overlay).items()):
            if name not in tags.refs or not _under(rel, path) or tags.lang is None:
                continue
            text = texts.get(rel)
            text = text if text is not None else self.index.text_of(rel)
            if text is None:
                continue
            lines = text.splitlines()
            data = text.encode("utf-8", errors="replace")
            for line in treesitter.reference_lines(self.index.grammars, tags.lang, data, name):
                if line < len(lines):
                    out.append(f"{rel}:{line + 1}: {lines[line].rstrip()[:300]}")
            if len(out) > MAX_LISTED:
                break
        return out

    def outline(self, path: str, text: str) -> list[tuple[int, Def]]:
        """The file's definitions, nested: (depth, definition) in order (of its current text)."""
        lang = language_of(path)
        if lang is None:
            return []
        tags = treesitter.parse(self.index.grammars, lang, text.encode("utf-8", errors="replace"))
        depth: dict[int, int] = {}
        out = []
        for index, d in enumerate(tags.defs):
            depth[index] = depth[d.parent] + 1 if d.parent >= 0 else 0
            out.append((depth[index], d))
        return out

    def close(self) -> None:
        """Close the disk cache."""
        self.index.close()


def _under(rel: str, folder: str | None) -> bool:
    if not folder or folder in (".", ""):
        return True
    folder = folder.rstrip("/")
    return rel == folder or rel.startswith(folder + "/")


def prompt_focus(prompt: str, known: Iterable[str]) -> tuple[list[str], list[str]]:
    """Files (by path or unique basename) and identifiers a prompt names, for personalising."""
    words = [w.strip("`'\",:;()[]").rstrip(".") for w in prompt.split()]
    known = list(known)
    by_name: dict[str, list[str]] = {}
    for path in known:
        by_name.setdefault(PurePosixPath(path).name, []).append(path)
    known_set = set(known)
    files = []
    for word in words:
        if word in known_set:
            files.append(word)
        elif "." in word and len(by_name.get(word, [])) in (1, 2, 3):
            files += by_name[word]
    return files, sorted(set(_WORD.findall(prompt)))
