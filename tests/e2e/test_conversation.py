"""Conversations over LSP: a follow-up sees the earlier messages and reads and extends the earlier
pending patch, across a server restart; the conversation commands; follow-ups that must be refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcInvalidParams

from gdm.commands import Command
from gdm.scripted import ScriptedModel
from tests.conftest import FIXTURES, scripted_settings
from tests.e2e.editor import start_editor, stop_editor

FIRST = "Conversation: make divide() fail clearly on zero"
SECOND = "now also reject an empty list in mean()"


@pytest.fixture
def model():
    with ScriptedModel(json.loads((FIXTURES / "scripts" / "conversation.json").read_text())) as m:
        yield m


async def ask(editor, prompt: str, **extra) -> str:
    result = await editor.command(Command.ASK.identifier, {"prompt": prompt, "uri": editor.uri("calc.py"), **extra})
    return result["taskId"]


def requests_of(model: ScriptedModel, prompt: str) -> list[dict]:
    """The model requests whose last user message is `prompt`'s task."""
    found = []
    for body in model.requests:
        users = [m for m in body["messages"] if m["role"] == "user"]
        if users and prompt in str(users[-1]["content"]):
            found.append(body)
    return found


async def test_follow_up_after_restart_sees_history_and_extends_the_pending_patch(workspace, tmp_path, model):
    settings = scripted_settings(model, tmp_path)
    editor, _ = await start_editor(workspace, tmp_path, init_options=settings)
    try:
        await editor.open("calc.py")
        first = await ask(editor, FIRST)
        done = await editor.wait_done(first)
        assert done["status"] == "done", editor.events(first)
        conversation_id = done["conversationId"]
        assert conversation_id and all(e["conversationId"] == conversation_id for e in editor.events(first))
        [proposed] = {p["patchId"]: p for p in editor.notes["gdm/patchProposed"]}.values()
        assert proposed["conversationId"] == conversation_id
    finally:
        await stop_editor(editor)

    # A new server on the same store: the conversation and its pending patch come back from it.
    editor, _ = await start_editor(workspace, tmp_path, init_options=settings)
    try:
        await editor.open("calc.py")
        second = await ask(editor, SECOND, followUp=first)
        done = await editor.wait_done(second)
        assert done["status"] == "done", editor.events(second)
        assert model.failures == []
        assert done["conversationId"] == conversation_id
        assert {e["conversationId"] for e in editor.events(second)} == {conversation_id}

        # The follow-up's first model request carries the earlier conversation, tool calls and results included.
        opening = requests_of(model, SECOND)[0]["messages"]
        roles = [m["role"] for m in opening]
        assert roles == ["system", "user", "assistant", "tool", "assistant", "user"], roles
        assert FIRST in opening[1]["content"]
        assert opening[2]["tool_calls"][0]["function"]["name"] == "edit_file"
        assert "Proposed change to calc.py" in opening[3]["content"]
        assert "raises **ValueError** on zero" in opening[4]["content"]
        # read_file of the earlier patched file shows the earlier task's pending patch.
        read = next(e for e in editor.events(second, "toolResult") if e["name"] == "read_file")
        assert 'raise ValueError("cannot divide by zero")' in read["result"]
        assert read["facts"] == {}  # each result's facts come with it (tools/facts.py); a read has none

        # One pending patch on calc.py for the conversation: the first one, extended.
        patches = (await editor.command(Command.PATCH_LIST.identifier, {}))["patches"]
        assert [p["patchId"] for p in patches] == [proposed["patchId"]]
        [patch] = patches
        assert patch["taskId"] == second and patch["conversationId"] == conversation_id
        assert "mean of an empty list" in patch["diff"]
        assert "cannot divide by zero" in patch["diff"]
        assert (workspace / "calc.py").read_text() == (FIXTURES / "workspaces" / "calc" / "calc.py").read_text()

        listed = (await editor.command(Command.CONVERSATION_LIST.identifier, {}))["conversations"]
        assert [c["conversationId"] for c in listed] == [conversation_id]
        assert listed[0]["taskIds"] == [first, second] and listed[0]["title"] is None and listed[0]["prompt"] == FIRST
        assert listed[0]["costUsd"] > 0 and listed[0]["updatedAt"].endswith("+00:00")

        got = await editor.command(Command.CONVERSATION_GET.identifier, {"conversationId": conversation_id})
        shape = [(m["taskId"], m["role"]) for m in got["messages"]]
        assert shape == [(first, "user"), (first, "assistant"), (first, "tool"), (first, "assistant"),
                         (second, "user"), (second, "assistant"), (second, "tool"), (second, "assistant"),
                         (second, "tool"), (second, "assistant")]
        assert got["messages"][0]["text"] == FIRST and got["messages"][4]["text"] == SECOND
        assert got["messages"][1]["toolCalls"][0]["name"] == "edit_file"
        assert got["messages"][2]["toolCallId"] == got["messages"][1]["toolCalls"][0]["id"]
        assert got["messages"][2]["patchIds"] == [proposed["patchId"]]
        assert got["messages"][8]["patchIds"] == [proposed["patchId"]]
        assert got["messages"][8]["facts"] == {}
        assert all(m["costUsd"] > 0 for m in got["messages"] if m["role"] == "assistant")
        assert got["costUsd"] == pytest.approx(listed[0]["costUsd"])

        # A third message continues the same conversation from the follow-up.
        third = await ask(editor, "and a third", followUp=second)
        assert (await editor.wait_done(third))["status"] == "done", editor.events(third)
        assert model.failures == []
    finally:
        await stop_editor(editor)


async def test_follow_ups_that_cannot_start_are_refused_and_lose_nothing(workspace, tmp_path, model):
    settings = scripted_settings(model, tmp_path)
    editor, _ = await start_editor(workspace, tmp_path, init_options=settings)
    try:
        await editor.open("calc.py")
        first = await ask(editor, FIRST)
        assert (await editor.wait_done(first))["status"] == "done"
        before = await editor.command(Command.PATCH_LIST.identifier, {})

        # "Continue: <prompt>" is offered on the file whose last task is still reviewable.
        actions = await editor.client.text_document_code_action_async(lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=editor.uri("calc.py")),
            range=lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=0, character=0)),
            context=lsp.CodeActionContext(diagnostics=[])))
        [follow] = [a for a in actions if a.title.startswith("Continue: ")]
        assert follow.title == f"Continue: {FIRST}"
        assert follow.command.command == "gdm.ask" and follow.command.arguments[0]["followUp"] == first

        with pytest.raises(JsonRpcInvalidParams, match="there is no task 't-nope'"):
            await ask(editor, SECOND, followUp="t-nope")
        with pytest.raises(JsonRpcInvalidParams, match="followUp"):
            await ask(editor, SECOND, followUp="")
        with pytest.raises(JsonRpcInvalidParams, match="followUp"):
            await ask(editor, SECOND, followUp=3)
        with pytest.raises(JsonRpcInvalidParams, match="no conversation 'c-nope'"):
            await editor.command(Command.CONVERSATION_GET.identifier, {"conversationId": "c-nope"})
        with pytest.raises(JsonRpcInvalidParams, match="conversationId"):
            await editor.command(Command.CONVERSATION_GET.identifier, {})

        slow = await ask(editor, "Conversation: a slow task")
        await editor.wait_for(lambda: editor.events(slow, "thinking"))
        with pytest.raises(JsonRpcInvalidParams, match="still running"):
            await ask(editor, SECOND, followUp=slow)
        await editor.command(Command.CANCEL.identifier, {"taskId": slow})
        assert (await editor.wait_done(slow))["status"] == "cancelled"

        # Nothing was lost or started: the same patch pending, the same conversations, refusals logged.
        assert await editor.command(Command.PATCH_LIST.identifier, {}) == before
        listed = (await editor.command(Command.CONVERSATION_LIST.identifier, {}))["conversations"]
        assert sorted(len(c["taskIds"]) for c in listed) == [1, 1]
        logs = [m.message for m in editor.client.log_messages]
        assert any("follow-up refused" in m and "t-nope" in m for m in logs)
    finally:
        await stop_editor(editor)

    # Another workspace on the same database: its tasks are not this one's to continue.
    other = tmp_path / "other"
    shutil.copytree(FIXTURES / "workspaces" / "calc", other)
    editor, _ = await start_editor(other, tmp_path, init_options=settings)
    try:
        with pytest.raises(JsonRpcInvalidParams, match="another workspace"):
            await ask(editor, SECOND, followUp=first)
        assert (await editor.command(Command.CONVERSATION_LIST.identifier, {}))["conversations"] == []
    finally:
        await stop_editor(editor)
