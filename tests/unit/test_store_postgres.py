"""The store on PostgreSQL (`databaseUrl: postgresql+psycopg://…`): the per-turn path (Core inserts,
turn deltas, running totals) round-trips as on SQLite. Skipped unless GDM_TEST_POSTGRES_URL names
a database the test may fill (e.g. postgresql+psycopg://gdm@/gdm_test?host=/tmp/pgsock&port=55432)
and psycopg is installed."""

from __future__ import annotations

import os
import uuid

import pytest

from gdm.store.ledger import Ledger
from gdm.store.repo import Store
from gdm.store.turns import DeltaEncoder

URL = os.environ.get("GDM_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(not URL, reason="GDM_TEST_POSTGRES_URL is not set")


def test_turns_costs_and_totals_on_postgresql() -> None:
    pytest.importorskip("psycopg")
    session, task = f"s-{uuid.uuid4().hex[:8]}", f"t-{uuid.uuid4().hex[:8]}"
    day = "2031-01-02"
    with Store(URL) as store:
        store.start_session(session, "/ws", "m")
        store.start_task(task, session, "prompt")
        ledger = Ledger(store, session, today=lambda: day)
        before = ledger.day_usd()
        messages = [{"role": "system", "content": "s"}, {"role": "user", "content": "u"}]
        encoder, sent = DeltaEncoder(), []
        for i in range(3):
            sent.append(list(messages))
            request = encoder.encode(messages, [{"name": "read_file"}])
            ledger.charge(lambda i=i, request=request: store.record_turn(
                session, task, i, "m", request, {"choices": [i]}, 10, 2, 0.25, day), task, 10, 2, 0.25)
            store.add_tool_call(task, i, f"c{i}", "read_file", "{}", "text", False)
            messages += [{"role": "assistant", "content": None, "tool_calls": [{"id": f"c{i}"}]},
                         {"role": "tool", "tool_call_id": f"c{i}", "content": "text"}]
        store.add_audit(session, task, "task.start", {"prompt": "prompt"})
        store.finish_task(task, "done")
        assert [t["request"]["messages"] for t in store.turns(task)] == sent
        assert len(store.tool_calls(task)) == 3
        totals = store.totals(session_id=session, task_id=task, day=day)
        assert totals["taskUsd"] == ledger.task_usd(task) == 0.75
        assert ledger.refresh_day() == pytest.approx(before + 0.75) == store.day_usd(day)
        assert [r["kind"] for r in store.audit_records(session)] == ["task.start"]
