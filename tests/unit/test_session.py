"""The engine headless: the loop through litellm's real HTTP path to the scripted model, the store,
budgets, and bad model output — no LSP."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gdm.agent import events as ev
from gdm.agent.session import Session, TaskSpec
from gdm.config import resolve
from gdm.context.workspace import NoBuffers
from gdm.store import open_store


def make_session(workspace: Path, settings: dict, **overrides) -> Session:
    s = resolve([{**settings, **overrides}]).settings
    return Session(root=workspace, settings=s, store=open_store(s.database_url), buffers=NoBuffers())


async def collect(session: Session, prompt: str, path: str | None = "calc.py", task_id: str = "t-1"):
    return [e async for e in session.run_task(task_id, TaskSpec(prompt, path, 8, 10))]


async def test_task_runs_tools_and_proposes_a_patch(workspace, settings, scripted):
    session = make_session(workspace, settings)
    events = await collect(session, "Make divide() fail clearly on zero")
    assert scripted.failures == []
    kinds = [type(e).__name__ for e in events]
    assert kinds.count("ToolCall") == 3 and kinds[-1] == "Done"
    assert events[-1].status == "done" and events[-1].patch_ids == ["t-1-p-1"]
    deltas = "".join(e.text for e in events if isinstance(e, ev.Response) and e.delta)
    finals = [e.text for e in events if isinstance(e, ev.Response) and not e.delta]
    assert deltas == "".join(finals)  # streamed pieces add up to the replies
    patch = session.patches.get("t-1-p-1")
    assert "raise ValueError" in patch.new_text
    # The model saw the prompt, the file, the selection and the code around it.
    first = scripted.requests[0]["messages"][1]["content"]
    assert "Make divide() fail clearly on zero" in first and "Selection (lines 9-11)" in first
    assert "def divide" in first
    # Stored as it happened.
    store = session.store
    assert store.get_task("t-1")["status"] == "done"
    assert len(store.turns("t-1")) == 4 and len(store.tool_calls("t-1")) == 3
    assert store.get_patch("t-1-p-1")["status"] == "pending"
    totals = session.totals("t-1")
    assert totals["taskUsd"] == pytest.approx((3995 * 2.0 + 200 * 8.0) / 1e6)


async def test_invalid_tool_json_is_fed_back_and_the_model_recovers(workspace, settings, scripted):
    session = make_session(workspace, settings)
    events = await collect(session, "Break the tool call")
    results = [e for e in events if isinstance(e, ev.ToolResult)]
    assert results[0].ok is False and "Invalid JSON" in results[0].result
    assert events[-1].status == "done" and scripted.failures == []


async def test_tool_errors_reach_the_model(workspace, settings, scripted):
    session = make_session(workspace, settings)
    events = await collect(session, "Try the fences")
    assert [e.ok for e in events if isinstance(e, ev.ToolResult)] == [False] * 4
    assert events[-1].status == "done" and scripted.failures == []


async def test_garbage_from_the_model_is_a_clear_error(workspace, settings):
    session = make_session(workspace, settings)
    events = await collect(session, "Answer with garbage")
    errors = [e for e in events if isinstance(e, ev.Error)]
    assert errors and errors[0].error_kind in ("bad_response", "server", "bad_request")
    assert events[-1].status == "error"
    assert session.store.get_task("t-1")["status"] == "error"


async def test_missing_model_says_how_to_set_it(workspace, settings):
    session = make_session(workspace, {k: v for k, v in settings.items() if k != "model"})
    events = await collect(session, "Make divide() fail clearly on zero")
    assert isinstance(events[-2], ev.Error) and "gdm.model" in events[-2].message
    assert events[-1].status == "error"


async def test_max_turns_stops_and_keeps_patches(workspace, settings):
    session = make_session(workspace, settings, maxTurns=2)
    events = await collect(session, "Keep going forever")
    assert any(isinstance(e, ev.Error) and "maxTurns" in e.message for e in events)
    assert len([e for e in events if isinstance(e, ev.CostRecorded)]) == 2


async def test_budget_stops_before_the_call_that_would_pass_it(workspace, settings, scripted):
    # 4096 output tokens at $8/MTok alone is ~$0.033: a $0.01 budget stops before the first call.
    session = make_session(workspace, settings, taskBudgetUsd=0.01)
    events = await collect(session, "Make divide() fail clearly on zero")
    assert isinstance(events[0], ev.Error) and events[0].error_kind == "budget"
    assert "taskBudgetUsd" in events[0].message
    assert events[-1].status == "budget"
    assert scripted.requests == []


async def test_day_budget_counts_another_window_on_the_same_database(workspace, settings, scripted):
    # Two editor windows, one database: B opened before A spent anything; B's running day total
    # is read again when its task starts, so A's spending stops B before its first call.
    window_a = make_session(workspace, settings)
    window_b = make_session(workspace, settings, dayBudgetUsd=0.04)  # one call's worst case fits, A's spend + one does not
    assert window_b.totals()["dayUsd"] == 0.0
    await collect(window_a, "Make divide() fail clearly on zero")
    spent = window_a.totals("t-1")["dayUsd"]
    assert spent == pytest.approx((3995 * 2.0 + 200 * 8.0) / 1e6)
    asked = len(scripted.requests)
    events = await collect(window_b, "Make divide() fail clearly on zero", task_id="t-2")
    assert events[-1].status == "budget" and "dayBudgetUsd" in events[0].message
    assert f"${spent:.4f} spent today" in events[0].message
    assert len(scripted.requests) == asked  # the call that would pass the budget was never made


async def test_cancel_keeps_patches_so_far(workspace, settings):
    session = make_session(workspace, settings)
    seen: list = []

    async def run():
        async for event in session.run_task("t-9", TaskSpec("Take your time", "calc.py")):
            seen.append(event)

    task = asyncio.ensure_future(run())
    for _ in range(200):
        if any(isinstance(e, ev.PatchProposed) for e in seen):
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)  # the second, slow model call is in flight
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert session.store.get_task("t-9")["status"] == "cancelled"
    assert [p.status.value for p in session.patches.for_task("t-9")] == ["pending"]


async def test_restart_reloads_pending_patches(workspace, settings):
    first = make_session(workspace, settings)
    await collect(first, "Make divide() fail clearly on zero")
    first.store.close()
    second = make_session(workspace, settings)
    assert [p.id for p in second.patches.open()] == ["t-1-p-1"]
    assert second.patches.get("t-1-p-1").risk is not None
