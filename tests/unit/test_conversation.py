"""Conversations in the engine: rebuilding a task's messages from the store (pure), kin patches,
resolving follow-ups (unknown, running, another workspace's, a task of an older gdm), and a follow-up
whose earlier messages are past the budget compacted before its first model call."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gdm.agent import compaction
from gdm.agent import events as ev
from gdm.agent.conversation import NOT_RUN, Conversations, FollowUpRefused, task_history
from gdm.agent.session import Session, TaskSpec
from gdm.config import resolve
from gdm.context.workspace import NoBuffers
from gdm.patches.book import PatchBook
from gdm.scripted import ScriptedModel
from gdm.store import open_store
from tests.conftest import FIXTURES, scripted_settings

CALL = {"id": "c1", "type": "function", "function": {"name": "read_file", "arguments": '{"path": "a.py"}'}}


def reply(content: str | None, calls: list[dict] | None = None) -> dict:
    return {"choices": [{"message": {"role": "assistant", "content": content, "tool_calls": calls}}]}


def test_task_history_is_the_last_request_its_reply_and_that_turns_results() -> None:
    request = {"messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": "do it"}]}
    second = {"messages": [*request["messages"], {"role": "assistant", "content": None, "tool_calls": [CALL]},
                           {"role": "tool", "tool_call_id": "c1", "content": "text of a.py"}]}
    turns = [{"index": 0, "request": request, "response": reply(None, [CALL])},
             {"index": 1, "request": second, "response": reply("Done.")}]
    history = task_history(turns, [{"turn_index": 0, "call_id": "c1", "result": "text of a.py"}])
    assert [m["role"] for m in history] == ["user", "assistant", "tool", "assistant"]
    assert history[-1] == {"role": "assistant", "content": "Done."}
    assert task_history([], []) == []


def test_a_call_that_never_ran_gets_a_stub_result() -> None:
    request = {"messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": "do it"}]}
    other = {**CALL, "id": "c2"}
    history = task_history([{"index": 0, "request": request, "response": reply("Reading.", [CALL, other])}],
                           [{"turn_index": 0, "call_id": "c1", "result": "ran"}])
    assert [(m["role"], m.get("content")) for m in history[2:]] == [("tool", "ran"), ("tool", NOT_RUN)]
    assert history[1]["tool_calls"][1]["id"] == "c2"


def test_kin_are_the_same_task_or_one_conversation() -> None:
    book = PatchBook()
    book.join("t-1", "c-1")
    book.join("t-2", "c-1")
    book.join("t-3", "c-2")
    assert book.kin("t-1", "t-1") and book.kin("t-1", "t-2") and book.kin("t-2", "t-1")
    assert not book.kin("t-1", "t-3") and not book.kin("t-9", "t-8") and book.kin("t-9", "t-9")
    assert not book.kin("t-1", None)


def test_resolve_refuses_what_cannot_be_continued(tmp_path: Path) -> None:
    store = open_store("sqlite://")
    store.start_session("s-1", "/ws/a", None)
    store.start_session("s-2", "/ws/b", None)
    store.start_task("t-1", "s-1", "first")
    store.add_conversation_task("c-1", "t-1", "/ws/a")
    store.start_task("t-b", "s-2", "elsewhere")
    store.add_conversation_task("c-b", "t-b", "/ws/b")
    store.start_task("t-old", "s-1", "made before conversations")  # no conversation row
    here = Conversations(store, "/ws/a")
    assert here.resolve("t-1") == "c-1"
    with pytest.raises(FollowUpRefused, match="there is no task 't-nope'"):
        here.resolve("t-nope")
    with pytest.raises(FollowUpRefused, match=r"another workspace \(/ws/b\)"):
        here.resolve("t-b")
    with pytest.raises(FollowUpRefused, match="'t-1' of this conversation is still running"):
        here.resolve("t-1", running=["t-1"])
    assert here.resolve("t-old") == "c-old" and store.conversation_of("t-old")["conversation_id"] == "c-old"
    assert here.resolve("t-old") == "c-old"  # linked once, then found


SUMMARY = {"match": "Summarize this coding session so far",
           "turns": [{"reply": {"content": "SUMMARY: calc.py has a pending guard in divide()."}}]}
CHAT = {"match": "Conversation: make divide() fail clearly on zero", "turns": [
    {"reply": {"content": "Reading.", "tool_calls": [{"name": "read_file", "arguments": {"path": "calc.py"}}]}},
    {"reply": {"content": "Read it."}},
    {"expect": {"messages_contain": ["SUMMARY: calc.py", "the follow-up"]}, "reply": {"content": "Followed up."}},
]}


async def test_a_follow_up_past_the_budget_is_compacted_before_its_first_call(workspace: Path, tmp_path: Path):
    with ScriptedModel({"conversations": [SUMMARY, CHAT]}) as model:
        settings = resolve([scripted_settings(model, tmp_path)]).settings
        session = Session(root=workspace, settings=settings, store=open_store(settings.database_url),
                          buffers=NoBuffers(), stream=False)
        first = [e async for e in session.run_task("t-1", TaskSpec(CHAT["match"], "calc.py"))]
        assert first[-1].status == "done"
        session.compact_at_tokens, session.compact_keep_recent = 100, 1
        conversation_id = session.follow_up("t-1", [])
        spec = TaskSpec("the follow-up", "calc.py", conversation_id=conversation_id)
        events = [e async for e in session.run_task("t-2", spec)]
        assert events[-1].status == "done", events
        assert model.failures == []
        thinking = [e.text for e in events if isinstance(e, ev.Thinking)]
        assert thinking[0].startswith("Compacted 1 earlier tool result")  # before "Turn 1: asking the model"
        sent = model.requests[-1]["messages"]
        assert [m["content"] for m in sent if m["role"] == "tool"] == [compaction.STUB]
        assert session.conversation_of("t-2") == session.conversation_of("t-1") == conversation_id
        assert session.conversation_usd("t-2") >= session.ledger.task_usd("t-2") > 0
        session.model_loop.close()
