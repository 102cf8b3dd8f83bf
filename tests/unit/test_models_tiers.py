"""The cheap tier: task titles from `cheapModel`, their cost stored, never failing the task."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gdm.agent import events as ev
from gdm.agent.session import Session, TaskSpec
from gdm.config import resolve
from gdm.context.workspace import NoBuffers
from gdm.models.llm import ModelConfig
from gdm.models.tiers import TITLE_LEAD, cheap_config, clean_title, title_messages
from gdm.scripted import ScriptedModel
from gdm.store import open_store

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
PRICES = {"openai/scripted": {"inputPerMTok": 2.0, "outputPerMTok": 8.0},
          "openai/scripted-cheap": {"inputPerMTok": 0.1, "outputPerMTok": 0.4}}


@pytest.mark.parametrize(("text", "title"), [
    ("Reject zero divisor", "Reject zero divisor"),
    ('  "Reject zero divisor."\n\nextra words', "Reject zero divisor"),
    ("Title: Clear divide errors", "Clear divide errors"),
    ("   \n  ", None),
    ("x" * 80, "x" * 59 + "…"),
])
def test_clean_title(text, title):
    assert clean_title(text) == title


def test_cheap_config_is_small_single_shot_and_keeps_the_endpoint():
    config = ModelConfig(model="openai/big", api_base="http://h/v1", fallback_model="openai/other", num_retries=2)
    cheap = cheap_config(config, "openai/small", 24)
    assert (cheap.model, cheap.api_base, cheap.fallback_model, cheap.num_retries, cheap.max_output_tokens) == \
        ("openai/small", "http://h/v1", None, 0, 24)
    assert title_messages("Fix it")[1]["content"] == TITLE_LEAD + "Fix it"


def session_with(workspace: Path, tmp_path: Path, model: ScriptedModel, **settings: object) -> Session:
    s = resolve([{"model": "openai/scripted", "apiBase": model.base_url, "prices": PRICES,
                  "databaseUrl": f"sqlite:///{tmp_path / 'gdm.db'}", **settings}]).settings
    return Session(root=workspace, settings=s, store=open_store(s.database_url), buffers=NoBuffers())


def script(title_turn: dict) -> dict:
    demo = json.loads((FIXTURES / "scripts" / "demo.json").read_text())["conversations"]
    return {"conversations": [{"match": TITLE_LEAD, "turns": [title_turn]}, *demo]}


async def run(session: Session) -> list:
    return [e async for e in session.run_task("t-1", TaskSpec("Make divide() fail clearly on zero", "calc.py", 8, 10))]


async def test_title_comes_from_the_cheap_model_and_its_cost_is_counted(workspace, tmp_path):
    turn = {"reply": {"content": "Reject zero divisor"}, "usage": {"prompt_tokens": 50, "completion_tokens": 5}}
    with ScriptedModel(script(turn)) as model:
        session = session_with(workspace, tmp_path, model, cheapModel="openai/scripted-cheap")
        events = await run(session)
        assert model.failures == []
        sent = [(r["model"], r.get("max_tokens")) for r in model.requests]
    assert sent[0] == ("scripted-cheap", 24) and all(m == "scripted" for m, _ in sent[1:])
    titles = [e.text for e in events if isinstance(e, ev.Thinking) and e.text.startswith("Title:")]
    assert titles == ["Title: Reject zero divisor"]
    assert events[-1].status == "done"
    by_model = {row["model"]: row for row in session.store.by_model(session_id=session.id)}
    assert by_model["openai/scripted-cheap"]["usd"] == pytest.approx((50 * 0.1 + 5 * 0.4) / 1e6)
    assert events[-1].cost_usd == pytest.approx(session.totals("t-1")["taskUsd"])
    audit = [r for r in session.store.audit_records(session.id) if r["kind"] == "task.title"]
    assert audit[0]["detail"]["title"] == "Reject zero divisor"
    # The title names the task's patches (their change annotation), after a restart too.
    assert session.task_label("t-1") == "Reject zero divisor"
    session.store.close()
    restarted = Session(root=workspace, settings=session.settings, store=open_store(session.settings.database_url),
                        buffers=NoBuffers())
    assert [p.task_id for p in restarted.patches.open()] == ["t-1"]
    assert restarted.task_label("t-1") == "Reject zero divisor"
    assert restarted.task_label("t-unknown") == "t-unknown"


async def test_no_cheap_model_no_title_call(workspace, tmp_path):
    with ScriptedModel(script({"reply": {"content": "never asked"}})) as model:
        events = await run(session_with(workspace, tmp_path, model))
        assert all(r["model"] == "scripted" for r in model.requests)
    assert not [e for e in events if isinstance(e, ev.Thinking) and e.text.startswith("Title:")]


async def test_a_failing_cheap_model_never_fails_the_task(workspace, tmp_path):
    turn = {"fault": {"status": 500, "times": 99}}
    with ScriptedModel(script(turn)) as model:
        events = await run(session_with(workspace, tmp_path, model, cheapModel="openai/scripted-cheap"))
        assert [r["model"] for r in model.requests].count("scripted-cheap") == 1  # not retried
    assert events[-1].status == "done"
