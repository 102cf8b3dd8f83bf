"""The store's database engine: the default SQLite file, the engine for a URL (SQLite with its
pragmas, shared in-memory databases), and a URL safe to show."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool
from sqlmodel import create_engine

from gdm.store.errors import StoreError

SQLITE_BUSY_TIMEOUT_MS = 5000
"""How long a writer waits for another process's lock before failing (ms)."""


def default_database_url() -> str:
    """Return the SQLite URL in the user data dir, creating the directory.

    ``$XDG_DATA_HOME/gdm/gdm.db``, or ``~/.local/share/gdm/gdm.db`` when the variable is
    unset or empty (the XDG base-directory rule).
    """
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    folder = Path(base).expanduser() / "gdm"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the data directory {folder}: {exc}") from exc
    return f"sqlite:///{folder / 'gdm.db'}"


def shown_url(url: str) -> str:
    """Return the URL safe to show: its password hidden when it parses at all."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(url)


def _set_sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    """Per-connection SQLite settings: WAL for concurrent readers, durable-enough commits."""
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def make_engine(url: str) -> Engine:
    """Build the engine for ``url``; SQLite gets thread sharing and its pragmas."""
    parsed: URL = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(parsed, pool_pre_ping=True)
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    if parsed.database in (None, "", ":memory:"):
        # An in-memory database lives in one connection: share it, or each call sees nothing.
        kwargs["poolclass"] = StaticPool
    engine = create_engine(parsed, **kwargs)
    event.listen(engine, "connect", _set_sqlite_pragmas)
    return engine
