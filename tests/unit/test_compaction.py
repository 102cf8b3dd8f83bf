"""Compaction (agent/compaction.py): the policy on its own, then a whole task through the loop and
litellm against the scripted model, compacted on the way and still finishing with its patch, and
its replay."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gdm.agent import compaction as c
from gdm.agent import events as ev
from gdm.agent.session import Session, TaskSpec
from gdm.cli import replay_recording
from gdm.config import Settings, resolve
from gdm.context.workspace import NoBuffers
from gdm.models import replay, tiers
from gdm.scripted import ScriptedModel
from gdm.store import open_store
from tests.conftest import FIXTURES, SCRIPTED_PRICES

HEAD = [{"role": "system", "content": "sys"}, {"role": "user", "content": "the task"}]


def turn(i: int, result: str, text: str | None = None) -> list[dict]:
    call = {"id": f"c{i}", "type": "function", "function": {"name": "read_file", "arguments": f'{{"path": "f{i}"}}'}}
    return [{"role": "assistant", "content": text, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": f"c{i}", "content": result}]


def conversation(*results: str) -> list[dict]:
    return HEAD + [m for i, r in enumerate(results) for m in turn(i, r)]


def test_under_budget_nothing_happens() -> None:
    messages = conversation("x" * 400, "y" * 400)
    assert c.plan(messages, budget=c.estimate_tokens(messages), keep_recent=1) is None
    assert c.plan(messages, budget=10, keep_recent=2) is None  # every turn is a recent one


def test_old_results_stubbed_recent_turns_and_head_intact() -> None:
    messages = conversation("a" * 4000, "b" * 4000, "c" * 400)
    p = c.plan(messages, budget=1000, keep_recent=1)
    assert p is not None and p.old == (3, 5) and p.head == 2 and p.recent_from == 6
    out = c.apply(messages, p, "what happened")
    assert out[:2] == HEAD and out[0] is messages[0] and out[1] is messages[1]
    assert tiers.summary_of(out[2]) == "what happened"
    assert [m["content"] for m in out if m["role"] == "tool"] == [c.STUB, c.STUB, "c" * 400]
    assert out[-2:] == messages[-2:] and out[-1] is messages[-1]  # the recent turn: the same objects
    # Every tool call keeps its result right after it; assistant messages all kept.
    for i, m in enumerate(out):
        if m.get("tool_calls"):
            assert out[i + 1]["role"] == "tool" and out[i + 1]["tool_call_id"] == m["tool_calls"][0]["id"]
    assert sum(1 for m in out if m["role"] == "assistant") == 3
    assert c.estimate_tokens(out) < c.estimate_tokens(messages) - 1800
    assert "a" * 100 in c.transcript(messages, p) and "c" * 100 not in c.transcript(messages, p)


def test_a_second_compaction_replaces_the_first_summary() -> None:
    messages = conversation("a" * 4000, "b" * 400)
    first = c.apply(messages, c.plan(messages, budget=500, keep_recent=1), "first summary")
    grown = first + turn(2, "d" * 4000) + turn(3, "e" * 40)
    p = c.plan(grown, budget=500, keep_recent=1)
    assert p is not None and p.summary_at == 2
    assert "first summary" in c.transcript(grown, p) and "d" * 100 in c.transcript(grown, p)
    out = c.apply(grown, p, "second summary")
    assert [tiers.summary_of(m) for m in out if tiers.summary_of(m) is not None] == ["second summary"]
    assert out[:2] == HEAD and out[-2:] == grown[-2:]


def test_too_little_to_save_is_not_worth_a_summary() -> None:
    # Over budget, but the old results are tiny next to it: the recent turn is what is large.
    messages = conversation("a" * 40, "b" * 8000)
    assert c.plan(messages, budget=1000, keep_recent=1) is None


def test_budget_from_the_window() -> None:
    assert c.budget_tokens(200_000) == 100_000
    assert c.budget_tokens(None) == c.DEFAULT_CONTEXT_TOKENS // 2


async def test_compactor_leaves_the_conversation_alone_without_a_summary() -> None:
    async def no_summary(_task_id: str, _request: list[dict]):
        return None
    messages = conversation("a" * 4000, "b" * 400)
    before = list(messages)
    events = [e async for e in c.Compactor(500, no_summary, keep_recent=1).compact("t", messages)]
    assert events == [] and messages == before


# -- a whole task -----------------------------------------------------------------------------------


@pytest.fixture
def compaction_model():
    with ScriptedModel(FIXTURES / "scripts" / "compaction.json") as model:
        yield model


def big_workspace(workspace: Path) -> None:
    rows = "".join(f"ROW_{i:04d} = {i * 7}  # generated table row\n" for i in range(220))
    (workspace / "big.py").write_text(f'"""BIG-FILE-MARKER: generated."""\n{rows}')


def make_session(workspace: Path, model: ScriptedModel, tmp_path: Path) -> Session:
    s = resolve([{"model": "openai/scripted", "apiBase": model.base_url, "prices": SCRIPTED_PRICES,
                  "databaseUrl": f"sqlite:///{tmp_path / 'gdm.db'}"}]).settings
    session = Session(root=workspace, settings=s, store=open_store(s.database_url), buffers=NoBuffers())
    session.compact_at_tokens, session.compact_keep_recent = 2000, 1
    return session


def task_requests(model: ScriptedModel) -> list[list[dict]]:
    return [r["messages"] for r in model.requests if not tiers.is_summary_request(r["messages"])]


async def test_a_long_task_is_compacted_and_still_finishes_with_its_patch(workspace, tmp_path, compaction_model):
    big_workspace(workspace)
    session = make_session(workspace, compaction_model, tmp_path)
    events = [e async for e in session.run_task("t-0000abcd", TaskSpec("Compaction: document divide", "calc.py"))]
    assert compaction_model.failures == [] and events[-1].status == "done", events
    assert events[-1].patch_ids == ["t-0000abcd-p-1"]
    assert "Return a divided by b." in session.patches.get("t-0000abcd-p-1").new_text

    summaries = [r["messages"] for r in compaction_model.requests if tiers.is_summary_request(r["messages"])]
    assert len(summaries) == 1 and "BIG-FILE-MARKER" in json.dumps(summaries[0])
    asked = task_requests(compaction_model)
    assert len(asked) == 4
    before, after = asked[1], asked[2]  # the big result was sent once, then compacted
    size = lambda messages: len(json.dumps(messages))  # noqa: E731
    assert size(after) < size(before)
    assert "BIG-FILE-MARKER" in json.dumps(before) and "BIG-FILE-MARKER" not in json.dumps(after)
    assert tiers.summary_of(after[2]) == "big.py was read: generated tables, nothing to change there. " \
                                         "Next: document divide() in calc.py."
    assert after[:2] == before[:2]  # system prompt and task prompt intact
    assert after[-1]["role"] == "tool" and "def divide" in after[-1]["content"]  # the recent turn, whole
    assert any(m.get("content") == c.STUB for m in after)
    assert [m["role"] for m in after].count("assistant") == 2  # both turns' tool calls kept, with results

    # The user saw it; its cost is the task's; it is recorded; turns are only the task's own calls.
    assert any(isinstance(e, ev.Thinking) and e.text.startswith("Compacted 1 earlier") for e in events)
    costs = [e for e in events if isinstance(e, ev.CostRecorded)]
    assert len(costs) == 5
    store = session.store
    assert session.totals("t-0000abcd")["taskUsd"] == pytest.approx(sum(e.usd for e in costs))
    assert store.totals(session_id=session.id, task_id="t-0000abcd")["taskUsd"] == pytest.approx(sum(e.usd for e in costs))
    audit = [r for r in store.audit_records(session.id) if r["kind"] == "task.compaction"]
    assert len(audit) == 1 and audit[0]["detail"]["budgetTokens"] == 2000
    turns = store.turns("t-0000abcd")
    # The stored deltas rebuild what was sent (litellm leaves out a null content on the wire).
    wire = lambda messages: [{k: v for k, v in m.items() if v is not None} for m in messages]  # noqa: E731
    assert len(turns) == 4 and [wire(t["request"]["messages"]) for t in turns] == asked

    # Replayed offline: compacts at the same point, answered from the recording, same calls and patch.
    recording = replay.Recording.from_store(store, session.id)
    assert recording.tasks[0].compactions[0]["keepRecent"] == 1
    fresh = tmp_path / "again"
    fresh.mkdir()
    shutil.copytree(FIXTURES / "workspaces" / "calc", fresh / "calc")
    big_workspace(fresh / "calc")
    assert await replay_recording(recording, fresh / "calc") == [[]]
    client = replay.ReplayClient(recording.tasks[0])
    again = Session(root=fresh / "calc", settings=Settings(), store=open_store(f"sqlite:///{tmp_path / 'r.db'}"),
                    buffers=NoBuffers(), stream=False)
    spec = TaskSpec("Compaction: document divide", "calc.py")
    done = [e async for e in again.run_task("t-0000beef", spec, llm_factory=lambda _c, _p: client)][-1]
    assert done.status == "done" and client.summaries == 1 and client.divergences == []
    back = replay.Recording.from_json(json.loads(json.dumps(recording.to_json())))
    assert back.tasks[0].compactions == recording.tasks[0].compactions
