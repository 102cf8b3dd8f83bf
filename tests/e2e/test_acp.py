"""`gdm acp` end to end: the SDK's client side against the real subprocess and the scripted model.

Every row of DESIGN.md's ACP mapping, approve and reject, modes, cancel, load. One agent process
serves the module (each test opens its own session on its own workspace); bad input is in
test_acp_bad_input.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import acp
import pytest
import pytest_asyncio

from gdm.scripted import ScriptedModel
from gdm.store import open_store
from tests.conftest import FIXTURES, SCRIPTED_PRICES
from tests.e2e.acp_client import ACCEPT, ACCEPT_ALL, NEVER, REJECT, Agent, ask, new_session, shared_agent, start_agent
from tests.e2e.acp_client import EditorClient

pytestmark = pytest.mark.asyncio(loop_scope="module")

GUARDED = 'if b == 0:\n        raise ValueError("divide by zero")'
ORIGINAL = (FIXTURES / "workspaces" / "calc" / "calc.py").read_text()


@pytest.fixture(scope="module")
def acp_model() -> Iterator[ScriptedModel]:
    """The scripted model playing fixtures/scripts/acp.json."""
    with ScriptedModel(json.loads((FIXTURES / "scripts" / "acp.json").read_text())) as model:
        yield model


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def agent(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Agent]:
    """One `gdm acp` for the module, with a client offering fs reads and writes."""
    async with shared_agent(tmp_path_factory.mktemp("acp-agent")) as running:
        yield running


def gdm_settings(model: ScriptedModel, tmp_path: Path, **extra) -> dict:
    """`_meta.gdm` for the scripted model, a store in tmp_path, no test run after edits."""
    return {"model": "openai/scripted", "apiBase": model.base_url, "prices": SCRIPTED_PRICES,
            "databaseUrl": f"sqlite:///{tmp_path / 'gdm.db'}", "testCommand": "true", **extra}


def stored_patches(tmp_path: Path) -> list[dict]:
    with open_store(f"sqlite:///{tmp_path / 'gdm.db'}") as store:
        return store.patches()


async def test_initialize_says_what_gdm_offers(agent: Agent) -> None:
    init = agent.client.init
    assert init.protocol_version == 1
    assert init.agent_capabilities.load_session is True
    assert init.agent_capabilities.prompt_capabilities.embedded_context is True
    assert init.auth_methods == []
    assert init.agent_info.name == "gdm"


async def test_a_reviewed_edit_is_written_through_the_client(agent: Agent, workspace: Path, tmp_path: Path,
                                                             acp_model: ScriptedModel) -> None:
    client = agent.client.reset(ACCEPT)
    sid = await new_session(agent.conn, workspace, gdm_settings(acp_model, tmp_path))
    answer = await ask(agent.conn, sid, "ACP guard divide")
    assert answer.stop_reason == "end_turn"
    assert GUARDED in (workspace / "calc.py").read_text()
    assert client.writes == [str(workspace / "calc.py")]
    assert str(workspace / "calc.py") in client.reads  # read through the client, not the disk
    kinds = client.kinds(sid)
    assert {"available_commands_update", "agent_thought_chunk", "usage_update", "agent_message_chunk"} <= set(kinds)
    # A client joins thought chunks into one block: each note ends its own paragraph.
    assert "Turn 1: asking the model\n\nTurn 2: asking the model\n\n" in client.text(sid, "agent_thought_chunk")
    calls = client.calls(sid)
    assert [c["kind"] for c in calls.values()] == ["read", "search", "edit"]
    read, search, edit = calls.values()
    assert read["locations"] == [{"path": str(workspace / "calc.py"), "line": 9}]
    assert read["status"] == "completed" and "return a / b" in read["content"][0]["content"]["text"]
    assert {"path": str(workspace / "calc.py"), "line": 9} in search["locations"]  # hits as locations
    diff = next(c for c in edit["content"] if c["type"] == "diff")
    assert diff["path"] == str(workspace / "calc.py") and diff["old_text"] == ORIGINAL
    assert GUARDED in diff["new_text"]
    risk = next(c for c in edit["content"] if c["type"] == "content")["content"]["text"]
    assert "risk " in risk
    assert edit["title"].startswith("Applied:") and " — risk " in edit["title"]
    assert edit["locations"][0]["path"] == str(workspace / "calc.py") and edit["locations"][0]["line"] >= 1
    [asked] = client.permissions
    assert asked.title.startswith("Accept?") and asked.tool_call_id == list(calls)[2]
    assert "divide() now raises ValueError" in client.text(sid)
    assert [p["status"] for p in stored_patches(tmp_path)] == ["accepted"]


async def test_usage_update_after_each_model_call_carries_the_session_cost(
        agent: Agent, workspace: Path, tmp_path: Path, acp_model: ScriptedModel) -> None:
    client = agent.client.reset(REJECT)
    sid = await new_session(agent.conn, workspace, gdm_settings(acp_model, tmp_path))
    await ask(agent.conn, sid, "ACP guard divide")
    usage = client.of(sid, "usage_update")
    assert len(usage) == 4  # four model calls
    per_call = (900 * 2.0 + 40 * 8.0) / 1e6
    assert [round(u.cost.amount, 6) for u in usage] == [round(per_call * n, 6) for n in range(1, 5)]
    assert all(u.cost.currency == "USD" and u.used == 940 and u.size > 0 for u in usage)


async def test_rejected_patch_is_not_written(agent: Agent, workspace: Path, tmp_path: Path,
                                             acp_model: ScriptedModel) -> None:
    client = agent.client.reset(REJECT)
    sid = await new_session(agent.conn, workspace, gdm_settings(acp_model, tmp_path))
    assert (await ask(agent.conn, sid, "ACP guard divide")).stop_reason == "end_turn"
    assert (workspace / "calc.py").read_text() == ORIGINAL and client.writes == []
    edit = next(c for c in client.calls(sid).values() if c["kind"] == "edit")
    assert edit["title"].startswith("Rejected:") and edit["status"] == "failed"
    assert [p["status"] for p in stored_patches(tmp_path)] == ["rejected"]


async def test_accept_all_from_this_task_asks_once(agent: Agent, workspace: Path, tmp_path: Path,
                                                   acp_model: ScriptedModel) -> None:
    client = agent.client.reset(ACCEPT_ALL)
    sid = await new_session(agent.conn, workspace, gdm_settings(acp_model, tmp_path))
    assert (await ask(agent.conn, sid, "ACP two files")).stop_reason == "end_turn"
    assert len(client.permissions) == 1
    assert "Return the sum a + b." in (workspace / "calc.py").read_text()
    assert (workspace / "notes.md").read_text() == "# Notes\n\nadd() documented.\n"
    new_file = next(u for u in client.of(sid, "tool_call_update") if u.content and any(
        getattr(c, "type", "") == "diff" and c.path.endswith("notes.md") for c in u.content))
    diff = next(c for c in new_file.content if c.type == "diff")
    assert diff.old_text is None and diff.new_text.startswith("# Notes")  # a new file


async def test_auto_low_mode_applies_low_risk_at_once(agent: Agent, workspace: Path, tmp_path: Path,
                                                      acp_model: ScriptedModel) -> None:
    client = agent.client.reset(REJECT)
    response = await agent.conn.new_session(cwd=str(workspace), mcp_servers=[], gdm=gdm_settings(acp_model, tmp_path))
    assert response.modes.current_mode_id == "review"
    assert {m.id for m in response.modes.available_modes} == {"review", "auto-low"}
    await agent.conn.set_session_mode(session_id=response.session_id, mode_id="auto-low")
    await client.wait_for(lambda: client.of(response.session_id, "current_mode_update"))
    await ask(agent.conn, response.session_id, "ACP two files")
    tiers = {p["path"]: p["risk"]["tier"] for p in stored_patches(tmp_path)}
    statuses = {p["path"]: p["status"] for p in stored_patches(tmp_path)}
    for path, tier in tiers.items():
        assert statuses[path] == ("accepted" if tier == "LOW" else "rejected"), (path, tier)
    assert len(client.permissions) == sum(tier != "LOW" for tier in tiers.values())
    assert "LOW" in tiers.values()


async def test_reads_see_the_editors_unsaved_text(agent: Agent, workspace: Path, tmp_path: Path,
                                                  acp_model: ScriptedModel) -> None:
    client = agent.client.reset(ACCEPT)
    client.buffers[str(workspace / "calc.py")] = "# UNSAVED EDITOR TEXT\n" + ORIGINAL
    sid = await new_session(agent.conn, workspace, gdm_settings(acp_model, tmp_path))
    assert (await ask(agent.conn, sid, "ACP unsaved buffer")).stop_reason == "end_turn"
    assert acp_model.failures == []


async def test_a_refused_read_is_a_failed_tool_call_never_the_disk(agent: Agent, workspace: Path, tmp_path: Path,
                                                                   acp_model: ScriptedModel) -> None:
    client = agent.client.reset(ACCEPT)
    client.refuse_read.add(str(workspace / "calc.py"))
    sid = await new_session(agent.conn, workspace, gdm_settings(acp_model, tmp_path))
    assert (await ask(agent.conn, sid, "ACP refused read")).stop_reason == "end_turn"
    [read] = client.calls(sid).values()
    assert read["status"] == "failed" and "refused to read calc.py" in read["content"][0]["content"]["text"]


async def test_a_path_outside_the_folder_is_a_failed_tool_call(agent: Agent, workspace: Path, tmp_path: Path,
                                                               acp_model: ScriptedModel) -> None:
    client = agent.client.reset(ACCEPT)
    sid = await new_session(agent.conn, workspace, gdm_settings(acp_model, tmp_path))
    assert (await ask(agent.conn, sid, "ACP outside")).stop_reason == "end_turn"
    [read] = client.calls(sid).values()
    assert read["status"] == "failed" and "leaves the workspace" in read["content"][0]["content"]["text"]
    assert read.get("locations") in (None, [])  # nothing outside is ever named as a location


async def test_a_refused_write_keeps_the_patch_pending(agent: Agent, workspace: Path, tmp_path: Path,
                                                       acp_model: ScriptedModel) -> None:
    client = agent.client.reset(ACCEPT)
    client.refuse_write.add(str(workspace / "calc.py"))
    sid = await new_session(agent.conn, workspace, gdm_settings(acp_model, tmp_path))
    assert (await ask(agent.conn, sid, "ACP guard divide")).stop_reason == "end_turn"
    assert (workspace / "calc.py").read_text() == ORIGINAL
    edit = next(c for c in client.calls(sid).values() if c["kind"] == "edit")
    assert edit["status"] == "failed" and "refused to write calc.py" in edit["title"]
    assert [p["status"] for p in stored_patches(tmp_path)] == ["pending"]


@pytest.mark.parametrize(("answer", "ran"), [(ACCEPT, True), (REJECT, False)])
async def test_run_command_is_put_to_the_user_under_shell_ask(agent: Agent, workspace: Path, tmp_path: Path,
                                                              acp_model: ScriptedModel, answer: str, ran: bool) -> None:
    client = agent.client.reset(answer)
    sid = await new_session(agent.conn, workspace, gdm_settings(acp_model, tmp_path, shell="ask"))
    assert (await ask(agent.conn, sid, "ACP shell")).stop_reason == "end_turn"
    [asked] = client.permissions
    assert asked.kind == "execute" and "echo acp-shell-ran" in asked.title
    [call] = client.calls(sid).values()
    assert call["kind"] == "execute"
    result = call["content"][0]["content"]["text"]
    assert ("acp-shell-ran\n" in result) is ran and ("denied" in result) is not ran


async def test_delete_and_move_are_done_on_disk_after_review(agent: Agent, workspace: Path, tmp_path: Path,
                                                             acp_model: ScriptedModel) -> None:
    client = agent.client.reset(ACCEPT)
    sid = await new_session(agent.conn, workspace, gdm_settings(acp_model, tmp_path))
    assert (await ask(agent.conn, sid, "ACP delete and move")).stop_reason == "end_turn"
    kinds = [c["kind"] for c in client.calls(sid).values()]
    assert kinds == ["delete", "move"]
    move = list(client.calls(sid).values())[1]
    assert [loc["path"] for loc in move["locations"]] == [str(workspace / "calc.py"), str(workspace / "pkg/calc.py")]
    assert not (workspace / "test_calc.py").exists() and (workspace / "pkg" / "calc.py").read_text() == ORIGINAL
    assert len(client.permissions) == 2


async def test_slash_commands_are_announced_and_explain_only_reads(agent: Agent, workspace: Path, tmp_path: Path,
                                                                  acp_model: ScriptedModel) -> None:
    client = agent.client.reset(ACCEPT)
    sid = await new_session(agent.conn, workspace, gdm_settings(acp_model, tmp_path))
    [commands] = await client.wait_for(lambda: client.of(sid, "available_commands_update"))
    assert [c.name for c in commands.available_commands] == ["explain", "write-tests", "fix", "commit"]
    link = acp.resource_link_block("calc.py", (workspace / "calc.py").as_uri() + "#L9-11")
    assert (await ask(agent.conn, sid, "/explain", link)).stop_reason == "end_turn"
    assert "divide() returns a / b." in client.text(sid)
    request = next(r for r in acp_model.requests if "Explain what the selected code does" in json.dumps(r))
    assert "edit_file" not in json.dumps(request.get("tools"))  # only reading tools for a question


async def test_attached_context_becomes_prompt_and_focus(agent: Agent, workspace: Path, tmp_path: Path,
                                                         acp_model: ScriptedModel) -> None:
    agent.client.reset(ACCEPT)
    sid = await new_session(agent.conn, workspace, gdm_settings(acp_model, tmp_path))
    link = acp.resource_link_block("calc.py", (workspace / "calc.py").as_uri() + "#L9-11")
    tests = (workspace / "test_calc.py")
    embedded = acp.resource_block(acp.embedded_text_resource(tests.as_uri(), "# EMBEDDED MARKER\n" + tests.read_text()))
    assert (await ask(agent.conn, sid, "ACP attached", link, embedded)).stop_reason == "end_turn"
    assert acp_model.failures == []


async def test_max_turns_stops_with_max_turn_requests(agent: Agent, workspace: Path, tmp_path: Path,
                                                      acp_model: ScriptedModel) -> None:
    client = agent.client.reset(ACCEPT)
    sid = await new_session(agent.conn, workspace, gdm_settings(acp_model, tmp_path, maxTurns=2))
    assert (await ask(agent.conn, sid, "ACP keep going")).stop_reason == "max_turn_requests"
    assert "maxTurns" in client.text(sid)


async def test_a_budget_stop_is_a_refusal_naming_the_budget(agent: Agent, workspace: Path, tmp_path: Path,
                                                            acp_model: ScriptedModel) -> None:
    client = agent.client.reset(ACCEPT)
    sid = await new_session(agent.conn, workspace, gdm_settings(acp_model, tmp_path, taskBudgetUsd=0))
    assert (await ask(agent.conn, sid, "ACP guard divide")).stop_reason == "refusal"
    assert "Task budget reached" in client.text(sid) and "taskBudgetUsd" in client.text(sid)


async def test_a_failed_model_call_is_a_json_rpc_error_after_its_message(
        agent: Agent, workspace: Path, tmp_path: Path, acp_model: ScriptedModel) -> None:
    client = agent.client.reset(ACCEPT)
    sid = await new_session(agent.conn, workspace, gdm_settings(acp_model, tmp_path))
    with pytest.raises(acp.RequestError, match="^gdm: ") as failed:
        await ask(agent.conn, sid, "ACP broken model")
    assert str(failed.value)[len("gdm: "):] in client.text(sid)  # the same words as an agent message
    with open_store(f"sqlite:///{tmp_path / 'gdm.db'}") as store:
        [task] = [store.get_task(r["task_id"]) for r in store.audit_records(sid) if r["kind"] == "task.start"]
        assert task["status"] == "error"


async def test_streamed_text_arrives_in_chunks(agent: Agent, workspace: Path, tmp_path: Path,
                                               acp_model: ScriptedModel) -> None:
    client = agent.client.reset(ACCEPT)
    sid = await new_session(agent.conn, workspace, gdm_settings(acp_model, tmp_path))
    assert (await ask(agent.conn, sid, "ACP stream")).stop_reason == "end_turn"
    chunks = client.of(sid, "agent_message_chunk")
    assert client.text(sid) == "Streaming a longer answer in many small pieces, so that the client sees it arrive."
    assert len(chunks) >= 1


async def test_cancel_answers_cancelled_at_once(agent: Agent, workspace: Path, tmp_path: Path,
                                                acp_model: ScriptedModel) -> None:
    client = agent.client.reset(ACCEPT)
    sid = await new_session(agent.conn, workspace, gdm_settings(acp_model, tmp_path))
    prompt = asyncio.ensure_future(ask(agent.conn, sid, "ACP slow model"))
    await client.wait_for(lambda: "Turn 1" in client.text(sid, "agent_thought_chunk"))
    loop = asyncio.get_running_loop()
    started = loop.time()
    await agent.conn.cancel(session_id=sid)
    answer = await asyncio.wait_for(prompt, 10)
    assert answer.stop_reason == "cancelled"
    print(f"cancel answered in {loop.time() - started:.3f} s")
    # The session takes a prompt again at once (and it can be cancelled again).
    again = asyncio.ensure_future(ask(agent.conn, sid, "ACP slow model, again"))
    await client.wait_for(lambda: client.text(sid, "agent_thought_chunk").count("Turn 1") == 2)
    await agent.conn.cancel(session_id=sid)
    assert (await asyncio.wait_for(again, 10)).stop_reason == "cancelled"


async def test_cancel_frees_a_permission_never_answered(agent: Agent, workspace: Path, tmp_path: Path,
                                                        acp_model: ScriptedModel) -> None:
    client = agent.client.reset(NEVER)
    sid = await new_session(agent.conn, workspace, gdm_settings(acp_model, tmp_path))
    prompt = asyncio.ensure_future(ask(agent.conn, sid, "ACP guard divide"))
    await client.wait_for(lambda: client.permissions)
    await agent.conn.cancel(session_id=sid)
    assert (await asyncio.wait_for(prompt, 10)).stop_reason == "cancelled"
    assert (workspace / "calc.py").read_text() == ORIGINAL
    assert [p["status"] for p in stored_patches(tmp_path)] == ["pending"]  # still reviewable


async def test_consecutive_prompts_are_one_gdm_session_and_one_conversation(
        agent: Agent, workspace: Path, tmp_path: Path, acp_model: ScriptedModel) -> None:
    client = agent.client.reset(ACCEPT)
    sid = await new_session(agent.conn, workspace, gdm_settings(acp_model, tmp_path))
    await ask(agent.conn, sid, "ACP follow-up first")
    assert (await ask(agent.conn, sid, "ACP follow-up second")).stop_reason == "end_turn"
    assert acp_model.failures == []  # the second prompt's model saw the first exchange
    assert "Second answer, with the first in mind." in client.text(sid)
    with open_store(f"sqlite:///{tmp_path / 'gdm.db'}") as store:
        assert [s["id"] for s in store.sessions()] == [sid]
        starts = [r for r in store.audit_records(sid) if r["kind"] == "task.start"]
        assert [r["detail"]["prompt"] for r in starts] == ["ACP follow-up first", "ACP follow-up second"]


async def test_load_replays_the_stored_session_and_works_without_client_fs(
        agent: Agent, workspace: Path, tmp_path: Path, acp_model: ScriptedModel) -> None:
    agent.client.reset(REJECT)
    settings = gdm_settings(acp_model, tmp_path)
    sid = await new_session(agent.conn, workspace, settings)
    await ask(agent.conn, sid, "ACP load then go on")
    # A new agent process (a restarted editor), whose client offers no fs methods: writes go to disk.
    client = EditorClient(permission=ACCEPT)
    async with start_agent(client, tmp_path, read=False, write=False) as (conn, _proc):
        await asyncio.wait_for(conn.load_session(cwd=str(workspace), session_id=sid, mcp_servers=[], gdm=settings), 60)
        kinds = client.kinds(sid)
        assert kinds[0] == "user_message_chunk" and client.text(sid, "user_message_chunk") == "ACP load then go on"
        calls = client.calls(sid)
        assert [c["kind"] for c in calls.values()] == ["edit", "edit"]  # the tool call, then its patch
        patch = list(calls.values())[-1]
        assert "(rejected)" in patch["title"] and GUARDED in next(
            c for c in patch["content"] if c["type"] == "diff")["new_text"]
        assert "Guarded divide()." in client.text(sid)
        assert client.of(sid, "usage_update")[-1].cost.amount > 0
        # The loaded session goes on, in the same conversation; applied to disk (no fs/write_text_file).
        assert (await ask(conn, sid, "ACP again after load")).stop_reason == "end_turn"
        assert acp_model.failures == []
        assert GUARDED in (workspace / "calc.py").read_text() and client.reads == [] and client.writes == []
    with open_store(settings["databaseUrl"]) as store:  # the agent ended: so did its session
        assert next(s for s in store.sessions() if s["id"] == sid)["status"] == "ended"
