"""Faulty providers over LSP: the real `python -m gdm` against the scripted model injecting faults.

Each fault ends in a retry, the fallback, or a clear error event plus window/showMessage; the
server stays up (it answers another request afterwards); the task and its costs are stored.
The budget stops a task before the call that would pass it (the scripted model's recorded
requests show that call was never made). Both of litellm's code paths (OpenAI chat and Anthropic
messages) run a whole task.
"""

from __future__ import annotations

import socket
import sqlite3
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from gdm.commands import Command
from gdm.scripted import ScriptedModel
from tests.conftest import FIXTURES
from tests.e2e.editor import start_editor, stop_editor

PRICES = {"openai/scripted": {"inputPerMTok": 2.0, "outputPerMTok": 8.0},
          "openai/scripted-fallback": {"inputPerMTok": 1.0, "outputPerMTok": 4.0},
          "anthropic/claude-scripted": {"inputPerMTok": 3.0, "outputPerMTok": 15.0}}


@pytest.fixture
def faulty():
    with ScriptedModel(FIXTURES / "scripts" / "faults.json") as model:
        yield model


@asynccontextmanager
async def serving(workspace: Path, tmp_path: Path, scripted_model: ScriptedModel, /, **settings: object):
    """A server whose settings point at `scripted_model` (overridden by `settings`), stopped afterwards."""
    options = {"model": "openai/scripted", "apiBase": scripted_model.base_url, "prices": PRICES,
               "databaseUrl": f"sqlite:///{tmp_path / 'gdm.db'}", **settings}
    editor, _ = await start_editor(workspace, tmp_path, init_options=options)
    try:
        yield editor
    finally:
        await stop_editor(editor)


async def ask(editor, prompt: str) -> str:
    await editor.open("calc.py")
    return (await editor.command(Command.ASK.identifier, {"prompt": prompt, "uri": editor.uri("calc.py")}))["taskId"]


async def still_serving(editor) -> None:
    """The server answers a request after the fault."""
    assert isinstance((await editor.command(Command.PATCH_LIST.identifier, {}))["patches"], list)


def stored(tmp_path: Path, task_id: str) -> tuple[str, int, list]:
    db = sqlite3.connect(tmp_path / "gdm.db")
    status = db.execute("select status from tasks where id = ?", (task_id,)).fetchone()[0]
    turns = db.execute("select count(*) from turns where task_id = ?", (task_id,)).fetchone()[0]
    costs = db.execute("select model, usd from costs where task_id = ?", (task_id,)).fetchall()
    db.close()
    return status, turns, costs


def error_shown(editor, task_id: str, *words: str) -> str:
    errors = editor.events(task_id, "error")
    assert errors, editor.events(task_id)
    message = errors[-1]["message"]
    assert all(w in message for w in words), message
    assert any(message in shown for shown in editor.messages()), editor.messages()
    return message


async def done_task(editor, prompt: str) -> tuple[dict, str]:
    task_id = await ask(editor, prompt)
    return await editor.wait_done(task_id, timeout=90), task_id


async def test_rate_limit_with_retry_after_is_waited_for_and_retried(workspace, tmp_path, faulty):
    async with serving(workspace, tmp_path, faulty) as editor:
        done, task_id = await done_task(editor, "Fault: rate limited once")
        assert done["status"] == "done", editor.events(task_id)
        assert len(faulty.requests) == 2  # the 429, then the retry
        assert any("Answered after the rate limit." in e["text"] for e in editor.events(task_id, "response"))
        await still_serving(editor)
    status, turns, costs = stored(tmp_path, task_id)
    assert (status, turns) == ("done", 1) and costs and costs[0][1] is not None


async def test_persistent_5xx_goes_to_the_fallback(workspace, tmp_path, faulty):
    async with serving(workspace, tmp_path, faulty, fallbackModel="openai/scripted-fallback") as editor:
        done, task_id = await done_task(editor, "Fault: primary down")
        assert done["status"] == "done", editor.events(task_id)
        assert [r["model"] for r in faulty.requests] == ["scripted"] * 3 + ["scripted-fallback"]
        await still_serving(editor)
    costs = stored(tmp_path, task_id)[2]
    assert [model for model, _usd in costs] == ["openai/scripted-fallback"] and costs[0][1] is not None


async def test_connection_refused_is_a_clear_error(workspace, tmp_path, faulty):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again before the server calls it
    async with serving(workspace, tmp_path, faulty, apiBase=f"http://127.0.0.1:{port}/v1") as editor:
        done, task_id = await done_task(editor, "Fault: anything")
        assert done["status"] == "error"
        error_shown(editor, task_id, "connection", f"127.0.0.1:{port}")
        await still_serving(editor)
    assert stored(tmp_path, task_id)[0] == "error"


async def test_cut_stream_is_a_clear_error_and_the_patch_stays_reviewable(workspace, tmp_path, faulty):
    async with serving(workspace, tmp_path, faulty) as editor:
        done, task_id = await done_task(editor, "Fault: cut stream")
        assert done["status"] == "error" and len(done["patchIds"]) == 1
        error_shown(editor, task_id, "connection")
        # Not retried: its first half had already reached the editor.
        assert len(faulty.requests) == 2
        assert any(e["delta"] for e in editor.events(task_id, "response"))
        listed = (await editor.command(Command.PATCH_LIST.identifier, {}))["patches"]
        assert [p["patchId"] for p in listed] == done["patchIds"] and listed[0]["status"] == "pending"
    status, turns, costs = stored(tmp_path, task_id)
    assert (status, turns, len(costs)) == ("error", 1, 1)


async def test_malformed_tool_json_is_fed_back_and_the_model_recovers(workspace, tmp_path, faulty):
    async with serving(workspace, tmp_path, faulty) as editor:
        done, task_id = await done_task(editor, "Fault: broken tool JSON")
        assert done["status"] == "done" and faulty.failures == []
        result = editor.events(task_id, "toolResult")[0]
        assert not result["ok"] and "Invalid JSON" in result["result"]
    assert stored(tmp_path, task_id)[:2] == ("done", 2)


@pytest.mark.parametrize("prompt", ["Fault: empty choices", "Fault: garbage"])
async def test_empty_or_unreadable_replies_are_clear_errors(workspace, tmp_path, faulty, prompt):
    async with serving(workspace, tmp_path, faulty) as editor:
        done, task_id = await done_task(editor, prompt)
        assert done["status"] == "error"
        message = error_shown(editor, task_id, "openai/scripted")
        assert any(words in message for words in ("no choices", "not valid JSON", "could not be read"))
        await still_serving(editor)
    assert stored(tmp_path, task_id)[0] == "error"


async def test_circuit_breaker_stops_calling_a_failing_provider_and_says_so(workspace, tmp_path, faulty):
    async with serving(workspace, tmp_path, faulty) as editor:
        first, t1 = await done_task(editor, "Fault: provider keeps failing")
        assert first["status"] == "error" and len(faulty.requests) == 3  # one call and its 2 retries
        second, t2 = await done_task(editor, "Fault: provider keeps failing")
        assert len(faulty.requests) == 5  # the 5th consecutive failure opened the circuit
        error_shown(editor, t2, "circuit breaker")
        third, t3 = await done_task(editor, "Fault: provider keeps failing")
        assert len(faulty.requests) == 5  # refused without a call
        error_shown(editor, t3, "stopped calling openai/scripted", "circuit breaker open")
        await still_serving(editor)
    assert [stored(tmp_path, t)[0] for t in (t1, t2, t3)] == ["error"] * 3


async def test_budget_stops_before_the_call_that_would_pass_it(workspace, tmp_path, faulty):
    # First call: at most ~0.036 (prompt + 4,096 output tokens at $8/M) fits in 0.05; it costs
    # 0.018 (5,000 in, 1,000 out). The next one could cost 0.018 + ~0.035 > 0.05: never made.
    async with serving(workspace, tmp_path, faulty, taskBudgetUsd=0.05) as editor:
        done, task_id = await done_task(editor, "Fault: expensive")
        assert done["status"] == "budget"
        assert len(faulty.requests) == 1
        error_shown(editor, task_id, "Task budget", "taskBudgetUsd")
        update = editor.notes["gdm/costUpdate"][-1]
        assert update["taskUsd"] == pytest.approx(0.018) and update["budgetUsd"] == 0.05
        await still_serving(editor)
    status, turns, costs = stored(tmp_path, task_id)
    assert (status, turns) == ("budget", 1) and costs[0][1] == pytest.approx(0.018)


@pytest.mark.parametrize("model", ["openai/scripted", "anthropic/claude-scripted"])
async def test_a_task_through_each_of_litellms_code_paths(workspace, tmp_path, faulty, model):
    # litellm's anthropic path adds /v1/messages to apiBase itself; the OpenAI path wants /v1.
    base = faulty.base_url if model.startswith("openai/") else faulty.base_url.removesuffix("/v1")
    async with serving(workspace, tmp_path, faulty, model=model, apiBase=base) as editor:
        done, task_id = await done_task(editor, "Both dialects: document divide")
        assert done["status"] == "done", editor.events(task_id)
        assert faulty.failures == []
        assert [e["name"] for e in editor.events(task_id, "toolCall")] == ["read_file", "edit_file"]
        assert "".join(e["text"] for e in editor.events(task_id, "response") if e["delta"]).startswith("Reading")
        listed = (await editor.command(Command.PATCH_LIST.identifier, {}))["patches"]
        assert "Return a divided by b." in listed[0]["diff"]
        cost = editor.notes["gdm/costUpdate"][-1]
        assert cost["model"] == model and cost["priceKnown"] and cost["taskUsd"] > 0
    anthropic_wire = "system" in faulty.requests[0] and "max_tokens" in faulty.requests[0]
    assert anthropic_wire == model.startswith("anthropic/")

