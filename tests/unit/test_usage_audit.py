"""`gdm usage` and `gdm audit` on a store two users wrote to, on SQLite and PostgreSQL: grouped by
day, model, user and task, filtered by day and kind, as table, JSON and CSV; bad input is a clear
exit 2."""

from __future__ import annotations

import csv
import io
import json

import pytest

from gdm import cli
from gdm.store.repo import Store


def _fill(url: str) -> None:
    with Store(url) as st:
        st.start_session("s-ann", "/ws", "m", user="ann")
        st.start_session("s-bob", "/ws", "m", user="bob")
        st.start_task("t-a1", "s-ann", "fix  the\nbug")
        st.start_task("t-b1", "s-bob", "add tests")
        st.add_cost("s-ann", "t-a1", "openai/big", 1000, 100, 0.5, day="2030-01-01")
        st.add_cost("s-ann", "t-a1", "openai/small", 100, 10, 0.01, day="2030-01-02")
        st.add_cost("s-bob", "t-b1", "openai/big", 2000, 200, 1.0, day="2030-01-02")
        st.add_cost("s-bob", "t-b1", "openai/local", 50, 5, None, day="2030-01-03")
        st.finish_task("t-a1", "done")
        st.add_audit("s-ann", "t-a1", "task.start", {"prompt": "fix the bug"})
        st.add_audit("s-ann", "t-a1", "shell", {"command": "pytest -q", "decision": "approved"})
        st.add_audit("s-ann", "t-a1", "accept", {"patchId": "t-a1-p1", "path": "a.py"})
        st.add_audit("s-bob", "t-b1", "reject", {"patchId": "t-b1-p1", "path": "b.py"})
        st.add_audit("s-bob", "t-b1", "mcp.call", {"server": "git", "tool": "git_status"})
        # t-b1 is left running by a server that is gone (pid 0 is no process of ours).
        st.interrupt_orphaned_tasks(lambda host, pid: False)


def _gdm(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        cli.main(list(argv))
    out, err = capsys.readouterr()
    return int(done.value.code or 0), out, err


def test_usage_by_day_model_user_and_task(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    _fill(db_url)
    code, out, _ = _gdm(capsys, "usage", "--database-url", db_url, "--format", "json")
    assert code == 0
    assert [(r["day"], r["calls"], r["usd"]) for r in json.loads(out)] == [
        ("2030-01-01", 1, 0.5), ("2030-01-02", 2, 1.01), ("2030-01-03", 1, 0.0)]
    _, out, _ = _gdm(capsys, "usage", "--database-url", db_url, "--by", "model", "--format", "json")
    by_model = {r["model"]: r for r in json.loads(out)}
    assert by_model["openai/big"]["usd"] == 1.5 and by_model["openai/big"]["tokensIn"] == 3000
    assert by_model["openai/local"]["unpricedCalls"] == 1
    _, out, _ = _gdm(capsys, "usage", "--database-url", db_url, "--by", "user", "--format", "json",
                     "--since", "2030-01-02")
    assert [(r["user"], r["calls"], r["usd"]) for r in json.loads(out)] == [("ann", 1, 0.01), ("bob", 2, 1.0)]
    _, out, _ = _gdm(capsys, "usage", "--database-url", db_url, "--by", "task", "--format", "json")
    tasks = {r["task"]: r for r in json.loads(out)}
    assert tasks["t-a1"]["status"] == "done" and tasks["t-a1"]["user"] == "ann"
    assert tasks["t-a1"]["prompt"] == "fix the bug" and tasks["t-a1"]["usd"] == 0.51
    assert tasks["t-b1"]["status"] == "interrupted"  # its server was killed


def test_usage_as_table_and_csv(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    _fill(db_url)
    code, out, _ = _gdm(capsys, "usage", "--database-url", db_url, "--by", "user")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["user", "calls", "tokensIn", "tokensOut", "usd", "unpricedCalls"]
    assert lines[1].split()[:2] == ["ann", "2"] and lines[-1].split()[:2] == ["total", "4"]
    assert "1.510000" in lines[-1]
    _, out, _ = _gdm(capsys, "usage", "--database-url", db_url, "--by", "task", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert {r["task"]: r["status"] for r in rows} == {"t-a1": "done", "t-b1": "interrupted"}


def test_audit_by_kind_and_day(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    _fill(db_url)
    code, out, _ = _gdm(capsys, "audit", "--database-url", db_url, "--format", "json")
    assert code == 0
    records = json.loads(out)
    assert [r["kind"] for r in records] == ["shell", "accept", "reject", "mcp.call"]  # no task.* bookkeeping
    assert records[0]["user"] == "ann" and records[0]["detail"]["command"] == "pytest -q"
    _, out, _ = _gdm(capsys, "audit", "--database-url", db_url, "--kind", "mcp", "--format", "json")
    assert [(r["kind"], r["user"]) for r in json.loads(out)] == [("mcp.call", "bob")]
    _, out, _ = _gdm(capsys, "audit", "--database-url", db_url, "--kind", "reject")
    assert "t-b1-p1" in out and "pytest" not in out
    _, out, _ = _gdm(capsys, "audit", "--database-url", db_url, "--since", "2999-01-01")
    assert out == "(nothing recorded)\n"


def test_bad_input_is_a_clear_exit_2(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _gdm(capsys, "usage", "--since", "yesterday", "--database-url", "sqlite://")
    assert code == 2 and "not a date" in err
    code, _, err = _gdm(capsys, "audit", "--kind", "everything")
    assert code == 2 and "invalid choice" in err
    code, _, err = _gdm(capsys, "usage", "--database-url", f"sqlite:///{tmp_path}/no/such/dir/x.db")
    assert code == 2 and "gdm usage: cannot open the database" in err
