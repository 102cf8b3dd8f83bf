"""A database that stops taking writes (read-only, full) stops the task cleanly with a clear
message instead of dropping writes silently; a read-only database is refused at open.

The failures are SQLite's own: `PRAGMA query_only` (SQLITE_READONLY, "attempt to write a readonly
database") and `PRAGMA max_page_count` at the file's current size (SQLITE_FULL, "database or disk
is full", what a full disk gives) set on every connection of the store once the session is open —
the tests run as root in CI, where file permissions would not stop a write."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import event

from gdm.agent import events as ev
from gdm.agent.session import Session, TaskSpec
from gdm.config import resolve
from gdm.context.workspace import NoBuffers
from gdm.store.repo import Store, StoreError


def _session(workspace: Path, settings: dict) -> Session:
    s = resolve([settings]).settings
    return Session(root=workspace, settings=s, store=Store(s.database_url), buffers=NoBuffers())


def _stop_writes(store: Store, pragma: str) -> None:
    engine = store._engine  # noqa: SLF001 - the test plays the disk, under the store

    def on_connect(dbapi_conn, _record) -> None:
        cursor = dbapi_conn.cursor()
        if "max_page_count" in pragma:
            pages = cursor.execute("PRAGMA page_count").fetchone()[0]
            cursor.execute(f"PRAGMA max_page_count = {pages}")
        else:
            cursor.execute(pragma)
        cursor.close()
    event.listen(engine, "connect", on_connect)
    engine.dispose()  # every later connection is a new one, with the pragma


@pytest.mark.parametrize(("pragma", "reason"), [
    ("PRAGMA query_only = 1", "readonly database"),
    ("PRAGMA max_page_count", "database or disk is full"),
])
async def test_a_store_that_stops_taking_writes_stops_the_task_cleanly(
        workspace, settings, scripted, tmp_path, pragma, reason) -> None:
    session = _session(workspace, settings)
    _stop_writes(session.store, pragma)
    served = len(scripted.requests)
    events = [e async for e in session.run_task("t-1", TaskSpec("Make divide() fail clearly on zero", "calc.py"))]
    errors = [e for e in events if isinstance(e, ev.Error)]
    assert [e.error_kind for e in errors] == ["store"]
    assert "could not write to its store, so the task stopped" in errors[0].message
    assert reason in errors[0].message
    assert isinstance(events[-1], ev.Done) and events[-1].status == "error"
    # No model call after the write that failed (a full disk may still take the first small rows).
    assert len(scripted.requests) - served <= 1
    session.store.close()
    db = Path(settings["databaseUrl"].removeprefix("sqlite:///"))
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


async def test_a_write_failing_mid_task_stops_it_before_the_next_call(workspace, settings, scripted) -> None:
    """The first writes succeed, the turn's write fails: no later model call, the error says why."""
    session = _session(workspace, settings)
    store = session.store
    real = store.record_turn
    calls = []

    def record_turn(*args, **kwargs):
        calls.append(args)
        if len(calls) == 2:
            _stop_writes(store, "PRAGMA query_only = 1")
        return real(*args, **kwargs)
    store.record_turn = record_turn  # type: ignore[method-assign]
    events = [e async for e in session.run_task("t-1", TaskSpec("Make divide() fail clearly on zero", "calc.py"))]
    assert [e.error_kind for e in events if isinstance(e, ev.Error)] == ["store"]
    assert events[-1].status == "error"
    assert len(scripted.requests) == 2  # the call whose turn could not be written was the last one
    assert session.ledger.task_usd("t-1") == pytest.approx(
        sum(c[-2] or 0 for c in calls[:1]))  # only the stored turn is counted


def test_a_read_only_database_is_refused_at_open_with_a_clear_message(tmp_path: Path, settings, workspace) -> None:
    db = tmp_path / "gdm.db"
    Store(f"sqlite:///{db}").close()
    ro = Store(f"sqlite:///file:{db}?mode=ro&uri=true")
    assert ro.migration == "current"  # opening a current database writes nothing
    with pytest.raises(StoreError, match="readonly database") as caught:
        Session(root=workspace, settings=resolve([settings]).settings, store=ro, buffers=NoBuffers())
    assert caught.value.transient is False
