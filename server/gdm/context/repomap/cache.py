"""The code map's disk cache: tags per file, keyed by path + mtime + size, in the user cache dir.

`$XDG_CACHE_HOME/gdm/repomap/<hash of the workspace root>.sqlite` (`~/.cache` when unset), never
inside the workspace. Records are marshal-ed plain tuples; the grammar versions are part of the
key, so an upgrade re-parses. A cache that cannot be opened or read is logged and worked around
(the map is then built from the files alone), never fatal.
"""

from __future__ import annotations

import hashlib
import logging
import marshal
import os
import sqlite3
import threading
from pathlib import Path

from gdm.context.repomap.tags import FileTags

log = logging.getLogger(__name__)

FORMAT = "4"  # 2: references as columns, definition keys; 3: definitions as bytes; 4: references by name


def cache_dir() -> Path:
    """The user cache dir of gdm's code map (XDG base-directory rule)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gdm" / "repomap"


class TagCache:
    """Tags of one workspace's files; thread-safe (one connection, one lock)."""

    def __init__(self, root: Path, versions: str, folder: Path | None = None) -> None:
        folder = folder or cache_dir()
        digest = hashlib.sha256(str(root).encode("utf-8")).hexdigest()[:20]
        self.path = folder / f"{digest}.sqlite"
        self._key = f"{FORMAT}|{versions}"
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        try:
            folder.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            db.execute("CREATE TABLE IF NOT EXISTS tags (path TEXT PRIMARY KEY, mtime_ns INTEGER, size INTEGER, "
                       "record BLOB)")
            row = db.execute("SELECT value FROM meta WHERE key = 'versions'").fetchone()
            if row is None or row[0] != self._key:
                db.execute("DELETE FROM tags")
                db.execute("INSERT OR REPLACE INTO meta VALUES ('versions', ?)", (self._key,))
            self._db = db
        except sqlite3.Error as exc:
            log.warning("code map: no disk cache at %s (%s); parsing from scratch", self.path, exc)

    def load(self) -> dict[str, tuple[int, int, FileTags]]:
        """Every cached file: path -> (mtime_ns, size, tags)."""
        if self._db is None:
            return {}
        out: dict[str, tuple[int, int, FileTags]] = {}
        with self._lock:
            try:  # row by row: all the records at once would hold the whole cache (0.3 GB) beside the tags
                for path, mtime, size, record in self._db.execute("SELECT path, mtime_ns, size, record FROM tags"):
                    try:
                        out[path] = (mtime, size, FileTags.from_record(marshal.loads(record)))
                    except (ValueError, EOFError, TypeError) as exc:
                        log.info("code map: cache entry of %s unreadable (%s)", path, exc)
            except sqlite3.Error as exc:
                log.warning("code map: cache unreadable (%s)", exc)
                return {}
        return out

    def store(self, entries: list[tuple[str, int, int, FileTags]]) -> None:
        """Write parsed files (one transaction)."""
        if self._db is None or not entries:
            return
        rows = ((p, m, s, marshal.dumps(t.to_record())) for p, m, s, t in entries)  # one at a time, not 0.3 GB
        with self._lock:
            try:
                self._db.execute("BEGIN")
                self._db.executemany("INSERT OR REPLACE INTO tags VALUES (?, ?, ?, ?)", rows)
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                log.warning("code map: cache not written (%s)", exc)
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")

    def forget(self, paths: list[str]) -> None:
        """Drop files that are gone."""
        if self._db is None or not paths:
            return
        with self._lock:
            try:
                self._db.executemany("DELETE FROM tags WHERE path = ?", [(p,) for p in paths])
            except sqlite3.Error as exc:
                log.warning("code map: cache not updated (%s)", exc)

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
