"""Schema migrations (store/migrations/): a fresh database at the newest revision, a database of the
gdm before migrations upgraded with every row kept, a newer database refused untouched, several
servers opening one empty database at once — on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from gdm.store.migrations import BASELINE, HEAD, head
from gdm.store.repo import Store, StoreError
from gdm.store.tables import ALL_TABLES

LEGACY = Path(__file__).parent / "store_legacy" / "make_legacy_db.py"


def _schema(url: str) -> dict[str, list[str]]:
    engine = create_engine(url)
    try:
        insp = inspect(engine)
        return {t: sorted(c["name"] for c in insp.get_columns(t)) for t in sorted(insp.get_table_names())}
    finally:
        engine.dispose()


def _version(url: str) -> str | None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


def test_a_fresh_database_is_created_at_the_newest_revision_with_every_column(db_url: str) -> None:
    with Store(db_url) as store:
        assert store.migration == "created"
    assert _version(db_url) == head()
    schema = _schema(db_url)
    for table in ALL_TABLES:
        cols = sorted(c.name for c in table.__table__.columns)  # type: ignore[attr-defined]
        # A column in tables.py that no revision adds is a missing migration file.
        assert schema[table.__tablename__] == cols, table.__tablename__
    with Store(db_url) as again:
        assert again.migration == "current"


def test_a_database_of_the_gdm_before_migrations_is_upgraded_keeping_every_row(db_url: str) -> None:
    made = subprocess.run([sys.executable, str(LEGACY), db_url], capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    wrote = json.loads(made.stdout)
    assert "alembic_version" not in _schema(db_url)
    with Store(db_url) as store:
        assert store.migration == "stamped and upgraded"
        assert {s["id"] for s in store.sessions()} == {"s-old1", "s-old2"}
        assert [p["id"] for p in store.patches(status=["pending"])] == ["t-old1-p1"]
        assert len(store.patches()) == wrote["patches"]
        assert store.totals(session_id="s-old1", task_id="t-old1", day="2030-01-01")["taskUsd"] == 0.25
        assert store.by_model()[0]["calls"] == wrote["costs"]
        assert store.by_model()[0]["unpricedCalls"] == 1
        assert store.turns("t-old1")[0]["request"]["messages"][0]["content"] == "fix it"
        assert len(store.tool_calls("t-old1")) == 1
        assert [a["kind"] for a in store.audit_records("s-old1")] == ["task.start", "shell.approved"]
        # Rows from before users count as anyone's day; new rows carry their user.
        assert store.day_usd("2030-01-01", user="ann") == 0.25
        store.start_session("s-new", "/ws/one", "m", user="ann")
        store.add_cost("s-new", None, "m", 1, 1, 1.0, day="2030-01-01")
        assert store.day_usd("2030-01-01", user="ann") == 1.25
        assert store.day_usd("2030-01-01", user="bob") == 0.25
    assert _version(db_url) == head()
    with Store(db_url) as again:
        assert again.migration == "current"
        assert len(again.sessions()) == 3


def test_head_names_the_newest_revision_file() -> None:
    # HEAD is what a current store is compared with before Alembic is imported: a new revision
    # file that forgets to move HEAD would make every store look out of date (or, worse, current).
    assert HEAD == head()


CURRENT_WITHOUT_ALEMBIC = """
import sys
from gdm.store.repo import Store
with Store(sys.argv[1]) as store:
    print(store.migration, "alembic" in sys.modules)
"""


def test_opening_a_current_store_does_not_import_alembic(db_url: str) -> None:
    Store(db_url).close()
    out = subprocess.run([sys.executable, "-c", CURRENT_WITHOUT_ALEMBIC, db_url],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["current", "False"]


def test_a_database_newer_than_this_gdm_is_refused_and_left_untouched(db_url: str) -> None:
    Store(db_url).close()
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
        conn.execute(text("DROP INDEX ix_costs_user"))  # what a newer gdm might have changed
    engine.dispose()
    before = _schema(db_url)
    with pytest.raises(StoreError, match="newer gdm") as caught:
        Store(db_url)
    assert caught.value.transient is False
    assert "was not changed" in str(caught.value)
    assert _schema(db_url) == before
    assert _version(db_url) == "9999_from_the_future"


def test_a_stamped_baseline_database_is_upgraded(db_url: str) -> None:
    """A database at the baseline revision (as `0001` left it) gains the later revisions' columns."""
    made = subprocess.run([sys.executable, str(LEGACY), db_url], capture_output=True, text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"))
        conn.execute(text(f"INSERT INTO alembic_version VALUES ('{BASELINE}')"))
    engine.dispose()
    with Store(db_url) as store:
        assert store.migration == f"upgraded from {BASELINE}"
        assert len(store.sessions()) == 2
    assert "user" in _schema(db_url)["costs"]


OPEN_AT_ONCE = """
import sys, time
from gdm.store.repo import Store
url, start = sys.argv[1], float(sys.argv[2])
while time.time() < start:
    time.sleep(0.001)
with Store(url) as store:
    store.start_session("s-" + sys.argv[3], "/ws", "m", user="u" + sys.argv[3])
    print(store.migration)
"""


def test_several_servers_opening_one_empty_database_at_once_all_open_it(db_url: str) -> None:
    import time  # noqa: PLC0415

    n = 4
    start = time.time() + 4.0  # every process is past its imports by then, even on a loaded machine
    procs = [subprocess.Popen([sys.executable, "-c", OPEN_AT_ONCE, db_url, str(start), str(i)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(n)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _out, err in outs]
    done = sorted(out.strip() for out, _err in outs)
    assert done.count("created") == 1, done
    assert done.count("current") == n - 1, done
    with Store(db_url) as store:
        assert len(store.sessions()) == n


def test_a_url_that_cannot_work_is_a_permanent_error_and_a_server_that_is_down_a_transient_one(
        tmp_path: Path) -> None:
    with pytest.raises(StoreError) as malformed:
        Store("not a url")
    assert malformed.value.transient is False
    with pytest.raises(StoreError) as driver:
        Store("nosuchdb://x/y")
    assert driver.value.transient is False
    with pytest.raises(StoreError) as missing_dir:
        Store(f"sqlite:///{tmp_path}/no/such/dir/gdm.db")
    assert missing_dir.value.transient is False
    pytest.importorskip("psycopg")
    with pytest.raises(StoreError) as down:  # no server on this socket
        Store(f"postgresql+psycopg://gdm@/gdm?host={tmp_path}&port=5999&connect_timeout=2")
    assert down.value.transient is True
