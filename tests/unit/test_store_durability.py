"""gdm.store survives what a language server goes through: restarts, a SIGKILL right after a
write, worker threads, a second process on the file, and bad or missing database URLs."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from gdm.store.repo import Store, StoreError, default_database_url


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


def test_sqlite_runs_in_wal_mode_with_normal_sync(tmp_path: Path) -> None:
    db = tmp_path / "gdm.db"
    with Store(_url(db)) as st:
        st.start_session("s1", "/ws", None)
        raw = st._engine.raw_connection()  # the store's own connection, with its pragmas
        try:
            cur = raw.cursor()
            assert cur.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert cur.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
            assert cur.execute("PRAGMA busy_timeout").fetchone()[0] > 0
        finally:
            raw.close()
    # WAL is a property of the file: any other connection sees it too.
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_second_store_on_same_file_sees_everything(db_url: str) -> None:
    url = db_url
    first = Store(url)
    first.start_session("s1", "/ws", "m")
    first.start_task("t1", "s1", "p")
    first.save_patch("p1", "t1", "s1", "a.py", "pending", 0.1, "LOW", {"patchId": "p1"})
    first.add_cost("s1", "t1", "m", 10, 20, 0.5, day="2025-03-04")
    first.close()

    with Store(url) as second:  # a restarted server
        assert [s["id"] for s in second.sessions()] == ["s1"]
        assert second.get_task("t1") is not None
        assert second.patches(status=["pending"]) == [{"patchId": "p1", "status": "pending"}]
        assert second.totals(session_id="s1", task_id="t1", day="2025-03-04")["taskUsd"] == 0.5


def test_two_open_stores_see_each_others_writes(db_url: str) -> None:
    url = db_url
    with Store(url) as a, Store(url) as b:
        a.add_cost("s1", "t1", "m", 1, 1, 0.25, day="2025-01-01")
        assert b.totals(session_id="s1", task_id="t1", day="2025-01-01")["sessionUsd"] == 0.25
        b.add_cost("s1", "t1", "m", 1, 1, 0.25, day="2025-01-01")
        assert a.totals(session_id="s1", task_id="t1", day="2025-01-01")["sessionUsd"] == 0.5


def test_writes_from_worker_threads(tmp_path: Path) -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(20):
                st.add_cost("s1", f"t{n}", "m", 1, 2, 0.5, day="2025-01-01")
                st.add_tool_call(f"t{n}", i, f"c{i}", "read_file", "{}", "ok", False)
        except BaseException as exc:  # collected and re-raised in the test thread
            errors.append(exc)

    with Store(_url(tmp_path / "gdm.db")) as st:
        st.start_session("s1", "/ws", None)  # opened on this thread, used from the others
        threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        totals = st.totals(session_id="s1", task_id="t3", day="2025-01-01")
        assert totals["sessionUsd"] == 60.0 and totals["taskUsd"] == 10.0
        assert totals["tokensOut"] == 240
        assert len(st.tool_calls("t5")) == 20


_WRITER = textwrap.dedent(
    """
    import sys, time
    from gdm.store.repo import Store
    st = Store(sys.argv[1])
    st.start_session("s1", "/ws", "m")
    st.save_patch("p1", "t1", "s1", "a.py", "pending", 0.3, "MEDIUM", {"patchId": "p1", "diff": "-a\\n+b"})
    st.add_cost("s1", "t1", "m", 11, 22, 0.0625, day="2025-05-06")
    print("written", flush=True)
    time.sleep(60)
    """
)


def test_sigkill_right_after_writes_loses_nothing(tmp_path: Path) -> None:
    url = _url(tmp_path / "gdm.db")
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, url], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "written"
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()

    with Store(url) as st:
        assert st.get_patch("p1") == {"patchId": "p1", "diff": "-a\n+b", "status": "pending"}
        totals = st.totals(session_id="s1", task_id="t1", day="2025-05-06")
        assert (totals["taskUsd"], totals["tokensIn"], totals["tokensOut"]) == (0.0625, 11, 22)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("not a url", "Could not parse"),
        ("nosuchdb://x/y", "nosuchdb"),
        ("sqlite:////nonexistent-gdm-dir/sub/gdm.db", "unable to open database file"),
    ],
)
def test_bad_url_is_a_clear_store_error(url: str, reason: str) -> None:
    with pytest.raises(StoreError) as info:
        Store(url)
    message = str(info.value)
    assert message.startswith("cannot open the database")
    assert reason in message


def test_store_error_hides_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    # A driver that is not installed fails at once, without any network.
    with pytest.raises(StoreError) as info:
        Store("nosuchdb+nodriver://user:hunter2@db.example/gdm")
    assert "hunter2" not in str(info.value)
    assert "user:***@db.example" in str(info.value)


def test_closed_store_refuses_calls(tmp_path: Path) -> None:
    st = Store(_url(tmp_path / "gdm.db"))
    st.close()
    st.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        st.sessions()


def test_default_url_uses_xdg_data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    url = default_database_url()
    assert url == f"sqlite:///{tmp_path / 'data' / 'gdm' / 'gdm.db'}"
    assert (tmp_path / "data" / "gdm").is_dir()
    with Store() as st:
        assert st.url == url
        st.start_session("s1", "/ws", None)
    assert (tmp_path / "data" / "gdm" / "gdm.db").is_file()


def test_default_url_falls_back_to_local_share(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", "")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_database_url() == f"sqlite:///{tmp_path / '.local' / 'share' / 'gdm' / 'gdm.db'}"
    assert (tmp_path / ".local" / "share" / "gdm").is_dir()
