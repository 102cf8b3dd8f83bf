"""Round trips through gdm.store on a real SQLite file and a real PostgreSQL database (the `db_url`
fixture, tests/store_fixtures.py): sessions, tasks, turns, tool calls,
patches (upsert), costs (totals per task, session and day), audit records."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from gdm.store.repo import Store, StoreError


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    st = Store(db_url)
    yield st
    st.close()


def test_session_start_end_and_resume(store: Store) -> None:
    store.start_session("s1", "/ws/a", "openai/gpt-4.1")
    store.start_session("s2", "/ws/b", None)
    store.end_session("s1")
    by_id = {s["id"]: s for s in store.sessions()}
    assert by_id["s1"]["status"] == "ended"
    assert by_id["s1"]["workspace"] == "/ws/a"
    assert by_id["s1"]["model"] == "openai/gpt-4.1"
    assert by_id["s2"]["status"] == "active" and by_id["s2"]["model"] is None
    assert [s["id"] for s in store.sessions()] == ["s2", "s1"]  # newest first

    started = by_id["s1"]["started_at"]
    store.start_session("s1", "/ws/a", "anthropic/claude")  # resume
    again = {s["id"]: s for s in store.sessions()}["s1"]
    assert again["status"] == "active"
    assert again["model"] == "anthropic/claude"
    assert again["started_at"] == started


def test_task_round_trip_and_finish(store: Store) -> None:
    rng = {"start": {"line": 3, "character": 0}, "end": {"line": 5, "character": 2}}
    store.start_task("t1", "s1", "fix the bug", "file:///ws/a.py", rng)
    store.start_task("t2", "s1", "explain", None, '{"start": 1}')
    task = store.get_task("t1")
    assert task is not None
    assert task["status"] == "running" and task["finished_at"] is None
    assert task["prompt"] == "fix the bug" and task["uri"] == "file:///ws/a.py"
    assert task["range"] == rng
    assert store.get_task("t2")["range"] == {"start": 1}  # type: ignore[index]
    assert store.get_task("nope") is None

    store.finish_task("t1", "error", "model unreachable")
    task = store.get_task("t1")
    assert task is not None
    assert task["status"] == "error" and task["error"] == "model unreachable"
    assert task["finished_at"] is not None and task["finished_at"] >= task["created_at"]


def test_finish_task_rejects_unknown_status_and_id(store: Store) -> None:
    store.start_task("t1", "s1", "p")
    with pytest.raises(ValueError, match="task status"):
        store.finish_task("t1", "finished")
    with pytest.raises(StoreError, match="no task"):
        store.finish_task("missing", "done")
    with pytest.raises(StoreError, match="no session"):
        store.end_session("missing")


def test_turns_and_tool_calls_in_order(store: Store) -> None:
    request = {"messages": [{"role": "user", "content": "héllo"}], "tools": [{"name": "read_file"}]}
    store.add_turn("t1", 1, "m", {"messages": []}, {"choices": [2]}, 5, 6, None)
    store.add_turn("t1", 0, "m", request, {"choices": [1]}, 10, 20, 0.0012)
    store.add_turn("t2", 0, "m", {}, {}, 1, 1, 0.0)
    turns = store.turns("t1")
    assert [t["index"] for t in turns] == [0, 1]
    assert turns[0]["request"] == request
    assert turns[0]["response"] == {"choices": [1]}
    assert (turns[0]["tokens_in"], turns[0]["tokens_out"], turns[0]["cost_usd"]) == (10, 20, 0.0012)
    assert turns[1]["cost_usd"] is None

    store.add_tool_call("t1", 0, "c1", "read_file", '{"path": "a.py"}', "text", False)
    store.add_tool_call("t1", 0, "c2", "edit_file", "{not json", "bad arguments", True)
    store.add_tool_call("t2", 0, "c3", "search", "{}", "", False)
    calls = store.tool_calls("t1")
    assert [c["call_id"] for c in calls] == ["c1", "c2"]
    assert calls[1]["arguments"] == "{not json" and calls[1]["is_error"] is True
    assert calls[0]["name"] == "read_file" and calls[0]["result"] == "text"
    assert store.tool_calls("none") == []


def test_patch_upsert_and_filters(store: Store) -> None:
    data = {"patchId": "p1", "hunks": [{"old": "a", "new": "b"}], "uri": "file:///ws/a.py"}
    store.save_patch("p1", "t1", "s1", "a.py", "pending", 0.12, "LOW", data)
    store.save_patch("p2", "t1", "s1", "b.py", "pending", 0.7, "HIGH", {"patchId": "p2"})
    store.save_patch("p3", "t9", "s2", "c.py", "pending", None, None, {"patchId": "p3"})
    assert store.get_patch("p1") == {**data, "status": "pending"}
    assert store.get_patch("zz") is None

    store.save_patch("p1", "t1", "s1", "a.py", "accepted", 0.12, "LOW", {**data, "applied": True})
    assert store.get_patch("p1") == {**data, "applied": True, "status": "accepted"}
    # The saved data never decides the status: the status column does.
    store.save_patch("p2", "t1", "s1", "b.py", "partial", 0.7, "HIGH", {"patchId": "p2", "status": "x"})
    assert store.get_patch("p2")["status"] == "partial"  # type: ignore[index]

    assert [p["patchId"] for p in store.patches()] == ["p1", "p2", "p3"]
    assert [p["patchId"] for p in store.patches(status=["pending"])] == ["p3"]
    assert [p["patchId"] for p in store.patches(status=["pending", "partial"])] == ["p2", "p3"]
    assert [p["patchId"] for p in store.patches(session_id="s1")] == ["p1", "p2"]
    assert store.patches(status=["pending"], session_id="s1") == []
    with pytest.raises(ValueError, match="patch status"):
        store.save_patch("p4", "t1", "s1", "d.py", "maybe", None, None, {})


def test_totals_per_task_session_and_day(store: Store) -> None:
    store.add_cost("s1", "t1", "m1", 100, 10, 0.50, day="2025-01-01")
    store.add_cost("s1", "t1", "m1", 200, 20, 0.25, day="2025-01-02")
    store.add_cost("s1", "t2", "m2", 300, 30, None, day="2025-01-02")
    store.add_cost("s1", None, "m2", 1, 1, 0.125, day="2025-01-02")
    store.add_cost("s2", "t3", "m1", 1000, 100, 2.0, day="2025-01-02")

    assert store.totals(session_id="s1", task_id="t1", day="2025-01-02") == {
        "taskUsd": 0.75,
        "sessionUsd": 0.875,
        "dayUsd": 2.375,  # the day counts every session
        "tokensIn": 601,
        "tokensOut": 61,
        "unpricedCalls": 1,
    }
    day1 = store.totals(session_id="s1", task_id="t2", day="2025-01-01")
    assert (day1["taskUsd"], day1["dayUsd"]) == (0.0, 0.5)
    none = store.totals(session_id="s9", task_id=None, day="2030-01-01")
    assert none == {
        "taskUsd": 0.0,
        "sessionUsd": 0.0,
        "dayUsd": 0.0,
        "tokensIn": 0,
        "tokensOut": 0,
        "unpricedCalls": 0,
    }


def test_cost_day_defaults_to_today_utc(store: Store) -> None:
    store.add_cost("s1", "t1", "m", 1, 2, 0.5)
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert store.totals(session_id="s1", task_id="t1")["dayUsd"] == 0.5
    assert store.by_model(day=today)[0]["usd"] == 0.5


def test_by_model(store: Store) -> None:
    store.add_cost("s1", "t1", "b-model", 100, 10, 0.5, day="2025-01-01")
    store.add_cost("s1", "t1", "b-model", 100, 10, None, day="2025-01-02")
    store.add_cost("s1", "t1", "a-model", 5, 6, 0.25, day="2025-01-02")
    store.add_cost("s2", "t2", "a-model", 7, 8, 1.0, day="2025-01-02")

    assert store.by_model(session_id="s1") == [
        {"model": "a-model", "calls": 1, "usd": 0.25, "tokensIn": 5, "tokensOut": 6, "unpricedCalls": 0},
        {"model": "b-model", "calls": 2, "usd": 0.5, "tokensIn": 200, "tokensOut": 20, "unpricedCalls": 1},
    ]
    everything = {r["model"]: r for r in store.by_model()}
    assert everything["a-model"]["usd"] == 1.25 and everything["a-model"]["calls"] == 2
    on_day = store.by_model(day="2025-01-02")
    assert [(r["model"], r["calls"]) for r in on_day] == [("a-model", 2), ("b-model", 1)]
    assert store.by_model(session_id="s2", day="2025-01-01") == []


def test_audit_records(store: Store) -> None:
    store.add_audit("s1", "t1", "shell.allow", {"command": "pytest", "scope": "once"})
    store.add_audit("s2", None, "patch.auto", {"patchId": "p1"})
    rows = store.audit_records(session_id="s1")
    assert len(rows) == 1
    assert rows[0]["kind"] == "shell.allow" and rows[0]["task_id"] == "t1"
    assert rows[0]["detail"] == {"command": "pytest", "scope": "once"}
    assert [r["kind"] for r in store.audit_records()] == ["shell.allow", "patch.auto"]


def test_timestamps_are_iso_utc(store: Store) -> None:
    store.start_session("s1", "/ws", None)
    started = datetime.fromisoformat(store.sessions()[0]["started_at"])
    assert started.utcoffset() == timedelta(0)


def test_in_memory_database_is_shared_between_calls_and_threads() -> None:
    with Store("sqlite://") as st:
        st.start_session("s1", "/ws", None)
        worker = threading.Thread(target=st.start_session, args=("s2", "/ws", None))
        worker.start()
        worker.join()
        assert sorted(s["id"] for s in st.sessions()) == ["s1", "s2"]
