"""Store databases for the tests: a SQLite file, and a fresh PostgreSQL database per test.

PostgreSQL runs when GDM_TEST_POSTGRES_URL names a server the tests may create databases on
(scripts/ci/postgres.sh starts one and sets it; scripts/test.sh does that in CI). Unset, the
PostgreSQL cases skip; set, a server that cannot be reached fails them: never a silent skip.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

BACKENDS = ("sqlite", "postgresql")


def postgres_server_url() -> str | None:
    """The server the PostgreSQL tests use, or None (then they skip)."""
    return os.environ.get("GDM_TEST_POSTGRES_URL") or None


@contextlib.contextmanager
def fresh_postgres_database(server_url: str) -> Iterator[str]:
    """A new empty database on the server of `server_url`, dropped afterwards; yields its URL."""
    import psycopg  # noqa: PLC0415 - only the PostgreSQL cases need it
    from sqlalchemy.engine import make_url  # noqa: PLC0415

    url = make_url(server_url)
    name = f"gdm_t_{uuid.uuid4().hex[:12]}"
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A fresh empty database of `backend` ("sqlite" or "postgresql"); skips PostgreSQL without a server."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'gdm.db'}"
        return
    server = postgres_server_url()
    if server is None:
        pytest.skip("GDM_TEST_POSTGRES_URL is not set (scripts/ci/postgres.sh sets it)")
    with fresh_postgres_database(server) as url:
        yield url


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh empty store database, once on SQLite and once on PostgreSQL."""
    with database_url(request.param, tmp_path) as url:
        yield url
