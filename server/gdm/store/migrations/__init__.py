"""Versioned schema migrations of the store (Alembic), run when a store opens.

Layout: one file per revision in ``versions/`` (``NNNN_what.py`` with ``revision``,
``down_revision``, ``upgrade()``); adding a table or a column later is one new file whose
``down_revision`` is the newest one today, and `HEAD` below names it
(``tests/unit/test_store_migrations.py`` checks both that `HEAD` is Alembic's head and that the
migrated schema has every column of ``store/tables.py``). Alembic runs programmatically: no
alembic.ini, no env.py at run time.

`migrate(engine)`:
- a database already at `HEAD` (every open but the first) is only read: one query of
  ``alembic_version``, no lock, and Alembic is not even imported (it costs ~60 ms and ~8 MB of a
  server's start-up: ``benchmarks/startup.py``);
- otherwise ``runner.migrate`` does the work: a fresh database is created at the newest revision;
  a database of the gdm before migrations (today's tables, no ``alembic_version``) is stamped with
  the baseline revision ``0001`` and upgraded, its rows kept; a database at a revision this gdm
  does not know (made by a newer gdm) is refused (`SchemaTooNew`) before anything is written;
  several servers starting at once on one database migrate one after another (a PostgreSQL
  advisory lock, or an exclusive ``flock`` on a lock file beside the SQLite file).
"""

from __future__ import annotations

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

BASELINE = "0001"
"""The revision of the schema gdm had before migrations (store/tables.py as of then)."""

HEAD = "0005"
"""The newest revision in ``versions/``; a unit test keeps it equal to Alembic's own head."""

VERSION_TABLE = "alembic_version"


class SchemaTooNew(Exception):
    """The database was migrated by a newer gdm than this one: it is left untouched."""


def current_revision(engine: Engine) -> str | None:
    """The revision the database is stamped with, or None (fresh, made before migrations, or
    several heads: `runner.migrate` sorts those out)."""
    with engine.connect() as conn:
        try:
            if not inspect(conn).has_table(VERSION_TABLE):
                return None
            rows = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
        finally:
            conn.rollback()
    return str(rows[0]) if len(rows) == 1 else None  # several rows (branches): the runner decides


def migrate(engine: Engine, where: str) -> str:
    """Bring the database to the newest revision (see the module docstring); returns what was done:
    "current", "created", "upgraded from X" or "stamped and upgraded". `where` names the database in
    messages (its URL with the password hidden)."""
    if current_revision(engine) == HEAD:
        return "current"
    from gdm.store.migrations import runner  # Alembic only when there is work

    return runner.migrate(engine, where)


def head() -> str:
    """Alembic's newest revision, read from ``versions/`` (imports Alembic; tests and tools)."""
    from gdm.store.migrations import runner  # see migrate

    return runner.head()
