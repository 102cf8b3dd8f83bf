"""The code index of one workspace: tags of every mapped file, kept fresh, read by map and tools.

Disk files are parsed once and cached (`cache.TagCache`); at each use the workspace is walked
again and only files whose mtime or size changed are re-parsed. Open buffers come in through
`update_buffer` (incremental re-parse from the buffer's previous tree) and win over disk. Every
method here blocks: callers run them in worker threads (`asyncio.to_thread`), never on the event
loop. A large first index is parsed in worker processes (the server keeps its GIL), with progress
reported through a callback; while it runs, `snapshot` gives what is ready plus the files asked for.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from gdm.context.repomap import files as discovery
from gdm.context.repomap import treesitter
from gdm.context.repomap.cache import TagCache
from gdm.context.repomap.tags import FileTags, language_of

log = logging.getLogger(__name__)

POOL_AT = 300  # stale files from which parsing goes to worker processes
BATCH = 64
MAX_FILES = 200_000

Progress = Callable[[int, int], None]


@dataclass
class Entry:
    """A disk file's state when it was parsed, and its tags."""

    mtime_ns: int
    size: int
    tags: FileTags


@functools.lru_cache(maxsize=1)
def _worker_grammars() -> treesitter.Grammars:
    # One per worker process, loaded on its first batch (a process-local cache, not shared state).
    return treesitter.Grammars()


def parse_bytes(grammars: treesitter.Grammars, path: str, data: bytes) -> FileTags:
    """Tags of one file's bytes, or empty tags with the reason it stays out (logged)."""
    lang = language_of(path)
    problem = discovery.content_problem(data)
    if problem is not None:
        log.info("code map: skipping %s: %s", path, problem)
        return FileTags(lang, [], {}, f"skipped: {problem}")
    if lang is None:
        return FileTags(None, [], {}, None)
    try:
        return treesitter.parse(grammars, lang, data)
    except (ValueError, RuntimeError, MemoryError) as exc:  # a grammar that fails on this input
        log.warning("code map: cannot parse %s: %s", path, exc)
        return FileTags(lang, [], {}, f"unparseable: {exc}")


def parse_batch(root: str, paths: list[str]) -> list[tuple[str, int, int, tuple]]:
    """Parse files from disk (in a worker process): (path, mtime_ns, size, tags record) each."""
    grammars = _worker_grammars()
    out = []
    for path in paths:
        entry = _read_and_parse(grammars, Path(root), path)
        if entry is not None:
            out.append((path, entry.mtime_ns, entry.size, entry.tags.to_record()))
    return out


def _read_and_parse(grammars: treesitter.Grammars, root: Path, path: str) -> Entry | None:
    full = root / path
    try:
        st = full.stat()
        if st.st_size > discovery.MAX_BYTES:
            return Entry(st.st_mtime_ns, st.st_size, FileTags(language_of(path), [], {}, "skipped: too large"))
        data = full.read_bytes()
    except OSError as exc:
        log.info("code map: cannot read %s: %s", path, exc)
        return None
    return Entry(st.st_mtime_ns, st.st_size, parse_bytes(grammars, path, data))


class CodeIndex:
    """Tags of one workspace's files; thread-safe."""

    def __init__(self, root: Path, *, cache_folder: Path | None = None, workers: int | None = None,
                 use_cache: bool = True) -> None:
        self.root = Path(os.path.realpath(root))
        self.grammars = treesitter.Grammars()
        self.trees = treesitter.TreeCache()
        self.workers = workers if workers is not None else min(4, os.cpu_count() or 1)
        self._cache_folder, self._use_cache = cache_folder, use_cache
        self._cache: TagCache | None = None
        self._disk: dict[str, Entry] = {}
        self._buffers: dict[str, tuple[str, FileTags]] = {}  # open buffer path -> (text, tags)
        self._generation = 0  # counts the changes to _disk and _buffers (under _lock)
        self._view: tuple[int, Mapping[str, FileTags]] | None = None
        self._lock = threading.Lock()
        self._refresh_lock = threading.Lock()
        self._ready = threading.Event()
        self.last_refresh: dict[str, float] = {}

    # -- keeping it fresh ---------------------------------------------------------------

    def ready(self) -> bool:
        """Whether a full index exists (built once)."""
        return self._ready.is_set()

    def wait_ready(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the first full index."""
        return self._ready.wait(timeout)

    def refresh(self, progress: Progress | None = None) -> dict[str, float]:
        """Walk the workspace, re-parse new and changed files, drop gone ones; returns figures.

        Only one refresh runs at a time; a second caller waits for it (it then sees its result).
        """
        with self._refresh_lock:
            started = time.perf_counter()
            if self._cache is None and self._use_cache:
                self._cache = TagCache(self.root, self.grammars.versions(), self._cache_folder)
                loaded = self._cache.load()
                with self._lock:
                    for path, (mtime, size, tags) in loaded.items():
                        self._disk.setdefault(path, Entry(mtime, size, tags))
                        self._generation += 1
            found = {f.path: f for f in discovery.walk(self.root, limit=MAX_FILES)}
            with self._lock:
                gone = [p for p in self._disk if p not in found]
                for path in gone:
                    del self._disk[path]
                    self._generation += 1
                stale = [f.path for f in found.values()
                         if (e := self._disk.get(f.path)) is None or (e.mtime_ns, e.size) != (f.mtime_ns, f.size)]
            walked = time.perf_counter()
            parsed = self._parse(stale, progress, found)
            if self._cache is not None:
                self._cache.forget(gone)
                self._cache.store([(p, e.mtime_ns, e.size, e.tags) for p, e in parsed])
            self._ready.set()
            figures = {"files": len(found), "parsed": len(parsed), "walk_ms": (walked - started) * 1000,
                       "total_ms": (time.perf_counter() - started) * 1000}
            self.last_refresh = figures
            return figures

    def refresh_known(self) -> int:
        """Re-stat the files already indexed; re-parse those whose mtime or size changed, drop
        the gone ones (no folder walk: new files wait for the next `refresh`). Returns how many
        changed. Skipped if a refresh is running (its result is as fresh)."""
        if not self._refresh_lock.acquire(blocking=False):
            return 0
        try:
            with self._lock:  # files listed by path only change nothing until the next walk
                known = {p: (e.mtime_ns, e.size) for p, e in self._disk.items() if e.tags.lang is not None}
            stale, gone = [], []
            prefix = f"{self.root}/"
            for path, state in known.items():
                try:
                    st = os.stat(prefix + path)
                except OSError:
                    gone.append(path)
                    continue
                if (st.st_mtime_ns, st.st_size) != state:
                    stale.append(path)
            with self._lock:
                for path in gone:
                    self._disk.pop(path, None)
                    self._generation += 1
            parsed = self._parse(stale, None)
            if self._cache is not None:
                self._cache.forget(gone)
                self._cache.store([(p, e.mtime_ns, e.size, e.tags) for p, e in parsed])
            return len(stale) + len(gone)
        finally:
            self._refresh_lock.release()

    def _parse(self, stale: list[str], progress: Progress | None,
               stats: dict[str, discovery.FileStat] | None = None) -> list[tuple[str, Entry]]:
        done: list[tuple[str, Entry]] = []
        grammar_files = [p for p in stale if language_of(p) is not None]
        plain = [p for p in stale if language_of(p) is None]
        nothing = FileTags(None, [], {}, None)  # shared: tags are never changed in place
        for path in plain:  # listed by path only: nothing to parse, only its stat
            st = (stats or {}).get(path)
            entry = Entry(st.mtime_ns, st.size, nothing) if st else self._stat_only(path)
            if entry is not None:
                done.append((path, entry))
        total = len(grammar_files)
        if self.workers > 1 and total >= POOL_AT:
            done += self._parse_in_pool(grammar_files, progress)
        else:
            for number, path in enumerate(grammar_files, 1):
                entry = _read_and_parse(self.grammars, self.root, path)
                if entry is not None:
                    done.append((path, entry))
                    with self._lock:
                        self._disk[path] = entry
                        self._generation += 1
                if progress is not None and number % BATCH == 0:
                    progress(number, total)
        with self._lock:
            for path, entry in done:
                self._disk[path] = entry
                self._generation += 1
        if progress is not None:
            progress(total, total)
        return done

    def _stat_only(self, path: str) -> Entry | None:
        try:
            st = (self.root / path).stat()
        except OSError:
            return None
        return Entry(st.st_mtime_ns, st.st_size, FileTags(None, [], {}, None))

    def _parse_in_pool(self, paths: list[str], progress: Progress | None) -> list[tuple[str, Entry]]:
        batches = [paths[i:i + BATCH] for i in range(0, len(paths), BATCH)]
        done: list[tuple[str, Entry]] = []
        # Imported here: ~0.1 s that `import gdm.server` (before `initialize`) need not pay.
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        context = multiprocessing.get_context("spawn")  # never fork a threaded server
        with ProcessPoolExecutor(max_workers=self.workers, mp_context=context) as pool:
            for batch in pool.map(parse_batch, [str(self.root)] * len(batches), batches):
                entries = [(p, Entry(m, s, FileTags.from_record(r))) for p, m, s, r in batch]
                with self._lock:
                    for path, entry in entries:
                        self._disk[path] = entry
                        self._generation += 1
                done += entries
                if progress is not None:
                    progress(len(done), len(paths))
        return done

    def ensure(self, paths: Iterable[str]) -> None:
        """Parse these disk files now if they are missing or stale (the focus of a task)."""
        for path in paths:
            full = self.root / path
            try:
                st = full.stat()
            except OSError:
                continue
            with self._lock:
                entry = self._disk.get(path)
            if entry is not None and (entry.mtime_ns, entry.size) == (st.st_mtime_ns, st.st_size):
                continue
            if discovery.excluded_name(path) or not full.is_file():
                continue
            fresh = _read_and_parse(self.grammars, self.root, path)
            if fresh is not None:
                with self._lock:
                    self._disk[path] = fresh
                    self._generation += 1

    def update_buffer(self, path: str, text: str) -> FileTags:
        """An open buffer's text: re-parsed incrementally from its previous tree (no-op if unchanged)."""
        with self._lock:
            known = self._buffers.get(path)
        if known is not None and known[0] == text:
            return known[1]
        lang = language_of(path)
        problem = discovery.content_problem(text.encode("utf-8", errors="replace"))
        if problem is not None or lang is None:
            tags = FileTags(lang, [], {}, f"skipped: {problem}" if problem else None)
        else:
            tags = self.trees.tags(self.grammars, path, lang, text)
        with self._lock:
            self._buffers[path] = (text, tags)
            self._generation += 1
        return tags

    def close_buffer(self, path: str) -> None:
        """A closed buffer: the disk file counts again."""
        self.trees.forget(path)
        with self._lock:
            self._buffers.pop(path, None)
            self._generation += 1

    # -- reading -------------------------------------------------------------------------

    def snapshot(self, overlay: dict[str, str | None] | None = None) -> dict[str, FileTags]:
        """Tags of every mapped file: disk, open buffers over it, then `overlay` (path -> text, None
        for a file that is gone for the reader, e.g. a task's pending deletion)."""
        with self._lock:
            out = {p: e.tags for p, e in self._disk.items()}
            out.update({p: tags for p, (_text, tags) in self._buffers.items() if not discovery.excluded_name(p)})
        skipped = [p for p, tags in out.items() if tags.note is not None and tags.note.startswith("skipped")]
        for path in skipped:  # binary, generated, minified…: out of the map altogether
            del out[path]
        for path, text in (overlay or {}).items():
            if text is None:
                out.pop(path, None)
            elif not discovery.excluded_name(path):
                tags = parse_bytes(self.grammars, path, text.encode("utf-8", errors="replace"))
                if tags.note is None or not tags.note.startswith("skipped"):
                    out[path] = tags
        return out

    def tags_now(self) -> Mapping[str, FileTags]:
        """`snapshot()` read-only, the same object while nothing changed: a reader called per
        keystroke (an inline completion's context) pays the 7k-file copy only after a change."""
        with self._lock:
            generation = self._generation
            view = self._view
        if view is not None and view[0] == generation:
            return view[1]
        fresh = MappingProxyType(self.snapshot())
        with self._lock:
            if self._generation == generation:
                self._view = (generation, fresh)
        return fresh

    def text_of(self, path: str) -> str | None:
        """An open buffer's text as last fed, else the disk file's (for reference lines)."""
        with self._lock:
            known = self._buffers.get(path)
        if known is not None:
            return known[0]
        try:
            return (self.root / path).read_bytes().decode("utf-8", errors="replace")
        except OSError:
            return None

    def close(self) -> None:
        """Close the disk cache."""
        if self._cache is not None:
            self._cache.close()
