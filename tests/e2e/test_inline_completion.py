"""Inline completions over LSP against the real server and the scripted model's `/v1/completions`
(litellm's fill-in-the-middle path over HTTP): a burst of keystrokes makes at most 2 model calls and
the last answer is for the last version; a cancelled request never reaches the model; typing-through
answers without a call; the cost is on the meter; a spent budget makes no call (said once); accepts
are counted and `gdm usage --by completions` shows them; a model without FIM gets the chat hole
filler; bad input is a clear error and the server keeps answering."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException, JsonRpcInvalidParams

from gdm.commands import Command
from gdm.scripted import ScriptedModel
from tests.conftest import FIXTURES, scripted_settings
from tests.e2e.editor import end_of, start_editor, stop_editor

LINE = "def product(values: list[float]) -> float:"
ACCEPTED = Command.COMPLETION_ACCEPTED.identifier


@pytest.fixture
def model():
    with ScriptedModel(FIXTURES / "scripts" / "completions.json") as served:
        yield served


def fim_requests(model: ScriptedModel) -> list[dict]:
    """The text completion requests the model received."""
    return [r for r in model.snapshot()[0] if "prompt" in r]


async def opened(workspace: Path, tmp_path: Path, model: ScriptedModel, **settings):
    editor, result = await start_editor(workspace, tmp_path, init_options=scripted_settings(model, tmp_path, **settings))
    await editor.command(Command.COST.identifier, {})  # the session is open (before it, requests get nothing)
    await editor.open("calc.py")
    line, character = end_of(editor.text("calc.py"))
    await editor.type("calc.py", line, character, "\n\n")
    return editor, result


def items(answer: object) -> list[lsp.InlineCompletionItem]:
    if answer is None:
        return []
    return list(answer.items if isinstance(answer, lsp.InlineCompletionList) else answer)


async def type_and_ask(editor, text: str, invoked: bool = False) -> list[asyncio.Future]:
    """Type `text` at the end of calc.py one character at a time, asking after each keystroke."""
    asked = []
    for char in text:
        line, character = end_of(editor.text("calc.py"))
        await editor.type("calc.py", line, character, char)
        asked.append(editor.complete("calc.py", line, character + 1, invoked=invoked))
    return asked


async def test_a_burst_of_ten_keystrokes_makes_at_most_two_calls_answered_for_the_last(workspace, tmp_path, model):
    editor, result = await opened(workspace, tmp_path, model)
    try:
        assert result.capabilities.inline_completion_provider is not None
        answers = await asyncio.wait_for(asyncio.gather(*await type_and_ask(editor, LINE[:10])), 30)
        calls = fim_requests(model)
        assert 1 <= len(calls) <= 2, [c["prompt"][-12:] for c in calls]
        assert calls[-1]["prompt"].endswith("\n\ndef produc") and calls[-1]["suffix"] == ""
        assert calls[-1]["prompt"].startswith("# Path: calc.py\n")
        [item] = items(answers[-1])
        assert item.insert_text == LINE[10:]
        assert (item.range.start.line, item.range.start.character) == end_of(editor.text("calc.py"))
        assert item.command.command == ACCEPTED and item.command.arguments[0]["id"].startswith("c-")
        assert all(items(a) == [] for a in answers[:-1] if items(a) and items(a)[0].insert_text != LINE[10:])

        # Typing the suggestion's first characters is answered from it, without a model call.
        through = await type_and_ask(editor, "t(v")
        [rest] = items(await asyncio.wait_for(through[-1], 30))
        assert rest.insert_text == LINE[13:] and len(fim_requests(model)) == len(calls)

        # Accepting it counts (the item's command), and `gdm.usage` shows it.
        counted = await editor.command(ACCEPTED, item.command.arguments[0])
        assert counted == {"id": item.command.arguments[0]["id"], "counted": True}
        usage = await editor.command(Command.USAGE.identifier, {"by": "completions"})
        [today] = usage["rows"]
        assert today["calls"] == len(calls) and today["accepted"] == 1 and today["acceptedLines"] == 1
    finally:
        await stop_editor(editor)


async def test_a_cancelled_request_never_reaches_the_model(workspace, tmp_path, model):
    editor, _result = await opened(workspace, tmp_path, model)
    try:
        await editor.type("calc.py", *end_of(editor.text("calc.py")), "# SLOW_COMPLETION")
        line, character = end_of(editor.text("calc.py"))
        cancelled = editor.complete("calc.py", line, character, msg_id="cancel-me")
        editor.client.protocol.notify(lsp.CANCEL_REQUEST, lsp.CancelParams(id="cancel-me"))
        with pytest.raises((JsonRpcException, asyncio.CancelledError)):
            await asyncio.wait_for(cancelled, 10)
        # Another document's request, debounced too and sent after: once it is answered, the
        # cancelled one would have been sent to the model long before.
        await editor.open("test_calc.py")
        other = await asyncio.wait_for(editor.complete("test_calc.py", 0, 4), 30)
        assert isinstance(other, (lsp.InlineCompletionList, list, type(None)))
        prompts = [r["prompt"] for r in fim_requests(model)]
        # Every prompt is the other document's (calc.py's lines may be in it as a recently edited
        # file's context when the cancelled request got as far as noting where the user works).
        assert prompts and all(p.startswith("# Path: test_calc.py\n") for p in prompts)
    finally:
        await stop_editor(editor)


async def test_cost_lands_on_the_meter(workspace, tmp_path, model):
    editor, _result = await opened(workspace, tmp_path, model)
    try:
        await editor.type("calc.py", *end_of(editor.text("calc.py")), "def prod")
        [item] = items(await asyncio.wait_for(editor.complete("calc.py", *end_of(editor.text("calc.py")),
                                                              invoked=True), 30))
        assert item.insert_text == LINE[8:]
        cost = await editor.command(Command.COST.identifier, {})
        line = cost["completions"]
        assert line["calls"] == 1 and line["usd"] > 0 and line["shown"] == 1 and line["enabled"] is True
        assert line["model"] == "openai/scripted" and cost["byModel"] == []
        assert cost["dayUsd"] == pytest.approx(line["usd"])
        update = await editor.wait_for(lambda: [u for u in editor.notes["gdm/costUpdate"] if u["dayUsd"] > 0], 30)
        assert update[-1]["dayUsd"] == pytest.approx(line["usd"])
    finally:
        await stop_editor(editor)


async def test_a_spent_budget_makes_no_call_and_says_so_once(workspace, tmp_path, model):
    editor, _result = await opened(workspace, tmp_path, model, dayBudgetUsd=0)
    try:
        for text in ("def p", "r"):
            await editor.type("calc.py", *end_of(editor.text("calc.py")), text)
            answer = await asyncio.wait_for(editor.complete("calc.py", *end_of(editor.text("calc.py")),
                                                            invoked=True), 30)
            assert items(answer) == []
        assert fim_requests(model) == []
        paused = [m for m in editor.messages() if "inline completions are paused" in m]
        assert len(paused) == 1 and "Day budget reached" in paused[0]
    finally:
        await stop_editor(editor)


async def test_off_and_a_model_without_fim_gets_the_chat_hole_filler(workspace, tmp_path, model):
    editor, _result = await opened(workspace, tmp_path, model, completions="off")
    try:
        assert items(await asyncio.wait_for(editor.complete("calc.py", 0, 0, invoked=True), 30)) == []
    finally:
        await stop_editor(editor)
    editor, _result = await opened(workspace, tmp_path, model, completionModel="openai/gpt-4.1")
    try:
        await editor.type("calc.py", *end_of(editor.text("calc.py")), "def times(a, b):\n    ")
        [item] = items(await asyncio.wait_for(editor.complete("calc.py", *end_of(editor.text("calc.py")),
                                                              invoked=True), 30))
        assert item.insert_text == "return a * b"
        chat = [r for r in model.snapshot()[0] if r.get("model") == "gpt-4.1"]
        assert chat and "{{FILL_HERE}}" in json.dumps(chat[-1]["messages"]) and fim_requests(model) == []
    finally:
        await stop_editor(editor)


async def test_bad_input_is_a_clear_error_and_the_server_goes_on(workspace, tmp_path, model):
    editor, _result = await opened(workspace, tmp_path, model)
    try:
        with pytest.raises(JsonRpcException, match="is not open"):
            await asyncio.wait_for(editor.complete("nope.py", 0, 0, invoked=True), 30)
        with pytest.raises(JsonRpcException, match="past the end"):
            await asyncio.wait_for(editor.complete("calc.py", 999, 0, invoked=True), 30)
        with pytest.raises(JsonRpcInvalidParams, match="no inline completion 'c-nope'"):
            await editor.command(ACCEPTED, {"id": "c-nope"})
        with pytest.raises(JsonRpcInvalidParams, match="invalid payload"):
            await editor.command(ACCEPTED, {"id": ""})
        with pytest.raises(JsonRpcInvalidParams, match="one-element list"):
            await editor.command(ACCEPTED, raw_args=["c-1", 2])
        await editor.type("calc.py", *end_of(editor.text("calc.py")), "def prod")
        [item] = items(await asyncio.wait_for(editor.complete("calc.py", *end_of(editor.text("calc.py")),
                                                              invoked=True), 30))
        assert item.insert_text == LINE[8:]
    finally:
        await stop_editor(editor)


STATS = '"""Statistics over calc."""\nfrom calc import divide\n\n\ndef average(xs: list[float]) -> float:\n    \n'


async def test_the_prompt_holds_the_maps_definition_and_the_range_covers_the_closer(workspace, tmp_path):
    """A call whose completion needs calc.divide from another file: the map's signature is in the
    prompt (as comments above the prefix), and the item replaces the `)` the suggestion repeats; asked
    again at the same place, the answer comes from the cache."""
    (workspace / "stats.py").write_text(STATS)
    rules = [{"prefix_ends_with": "    return divide(", "suffix_starts_with": ")", "text": "sum(xs), len(xs))"}]
    with ScriptedModel({"completions": rules}) as served:
        editor, _result = await start_editor(workspace, tmp_path, init_options=scripted_settings(served, tmp_path))
        try:
            await editor.command(Command.MAP.identifier, {})  # the index is built: the map knows calc.py
            await editor.open("stats.py")
            await editor.type("stats.py", 5, 4, "return divide()")
            [item] = items(await asyncio.wait_for(editor.complete("stats.py", 5, 18, invoked=True), 30))
            assert item.insert_text == "sum(xs), len(xs))"
            assert (item.range.start.line, item.range.start.character, item.range.end.character) == (5, 18, 19)
            [request] = fim_requests(served)
            assert request["prompt"].endswith("    return divide(") and request["suffix"].startswith(")")
            assert "# calc.py: def divide(a: float, b: float) -> float:" in request["prompt"], request["prompt"]
            again = items(await asyncio.wait_for(editor.complete("stats.py", 5, 18, invoked=True), 30))
            assert [i.insert_text for i in again] == ["sum(xs), len(xs))"] and len(fim_requests(served)) == 1
        finally:
            await stop_editor(editor)
