"""The Alembic side of the store's migrations (see the package docstring): imported only when a
database is not already at `HEAD`, so that opening a current store costs no alembic import."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from alembic.runtime.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

try:
    import fcntl
except ImportError:  # Windows: no flock; SQLite's busy timeout is all there is
    fcntl = None  # type: ignore[assignment]

from gdm.store.migrations import BASELINE, SchemaTooNew

log = logging.getLogger(__name__)

PG_LOCK_KEY = 0x67646D  # "gdm": the advisory lock every gdm server takes to migrate
LEGACY_MARKER_TABLE = "sessions"  # present in every gdm database, versioned or not


def _script() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent))
    return ScriptDirectory.from_config(config)


def head() -> str:
    """The newest revision this gdm knows."""
    return str(_script().get_current_head())


def _current(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def _known(script: ScriptDirectory, revision: str | None) -> bool:
    if revision is None:
        return True
    try:
        return script.get_revision(revision) is not None
    except CommandError:
        return False


def _refuse_if_newer(script: ScriptDirectory, current: str | None, where: str) -> None:
    if not _known(script, current):
        raise SchemaTooNew(
            f"the database {where} is at schema revision {current!r}, made by a newer gdm than this one "
            f"(which knows revisions up to {script.get_current_head()!r}); it was not changed: upgrade gdm, "
            f"or point gdm.databaseUrl at another database")


def migrate(engine: Engine, where: str) -> str:
    """Bring the database to the newest revision (see the package docstring); returns what was done:
    "current", "created", "upgraded from X" or "stamped and upgraded". `where` names the database in
    messages (its URL with the password hidden)."""
    script = _script()
    newest = script.get_current_head()
    with engine.connect() as conn:
        current = _current(conn)
        conn.rollback()
    _refuse_if_newer(script, current, where)
    if current == newest:
        return "current"
    with _lock(engine) as conn:
        current = _current(conn)  # another server may have migrated while we waited
        _refuse_if_newer(script, current, where)
        if current == newest:
            conn.commit()
            return "current"
        done = f"upgraded from {current}"
        if current is None:
            legacy = LEGACY_MARKER_TABLE in inspect(conn).get_table_names()
            done = "stamped and upgraded" if legacy else "created"
            if legacy:
                log.info("store %s: a database of the gdm before migrations; stamping %s", where, BASELINE)
                _run(conn, script, BASELINE, stamp=True)
        conn.commit()
        _run(conn, script, str(newest), stamp=False)
        log.info("store %s: %s to %s", where, done, newest)
        return done


def _run(conn: Connection, script: ScriptDirectory, target: str, *, stamp: bool) -> None:
    """Upgrade (or only stamp) `conn`'s database to `target`, in one transaction."""
    config = script.config if hasattr(script, "config") else Config()

    def upgrade(rev: Any, _context: Any) -> Any:
        if stamp:
            return script._stamp_revs(target, rev)  # noqa: SLF001 - what alembic's command.stamp does
        return script._upgrade_revs(target, rev)  # noqa: SLF001 - what alembic's command.upgrade does

    with EnvironmentContext(config, script, fn=upgrade, destination_rev=target) as env:
        env.configure(connection=conn, target_metadata=None, transactional_ddl=True)
        with env.begin_transaction():
            env.run_migrations()
    if conn.in_transaction():
        conn.commit()


@contextlib.contextmanager
def _lock(engine: Engine) -> Iterator[Connection]:
    """A connection holding the migration lock of this database (see the module docstring)."""
    name = engine.dialect.name
    if name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": PG_LOCK_KEY})
            conn.commit()
            try:
                yield conn
            finally:
                if conn.in_transaction():
                    conn.rollback()
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": PG_LOCK_KEY})
                conn.commit()
        return
    path = engine.url.database if name == "sqlite" else None
    with _file_lock(path), engine.connect() as conn:
        yield conn


@contextlib.contextmanager
def _file_lock(path: str | None) -> Iterator[None]:
    """An exclusive flock on ``<database>.migrate-lock`` beside the SQLite file; nothing for an
    in-memory database, where flock does not exist, or where the lock file cannot be made (a
    read-only folder: the migration then fails with SQLite's own clear error).

    Never on the database file itself: closing any descriptor of that file drops every POSIX lock
    SQLite holds on it in this process, and another process may then take the database for its
    own and checkpoint the write-ahead log away under us (tried: 3 of 4 sessions lost)."""
    if fcntl is None or path in (None, "", ":memory:") or str(path).startswith("file:"):
        yield
        return
    try:
        fd = os.open(f"{path}.migrate-lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the flock
