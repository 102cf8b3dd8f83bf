"""Inline completions over LSP (`textDocument/inlineCompletion`) against the scripted model's
`/v1/completions`, through litellm's real fill-in-the-middle path: the answer and its range, the
code map's definitions in the prompt, a burst of keystrokes, cancellation, typing-through, the cost
on the meter, the day budget, and `completions: off`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from lsprotocol import types as lsp

from gdm.commands import Command
from gdm.scripted import ScriptedModel
from tests.conftest import scripted_settings
from tests.e2e.editor import start_editor, stop_editor

STATS = '"""Statistics over calc."""\nfrom calc import divide\n\n\ndef average(xs: list[float]) -> float:\n    \n'
RULES = [{"prefix_endswith": "    return divide(", "suffix_startswith": ")", "text": "sum(xs), len(xs))"},
         {"prefix_endswith": "    return divide(", "text": "sum(xs), len(xs))"},
         {"prefix_endswith": "    r", "text": "eturn 0.0", "delay_s": 1.5},
         {"text": "pass"}]


@pytest.fixture
def fim_model():
    with ScriptedModel({"completions": RULES}) as model:
        yield model


async def open_stats(workspace: Path, tmp_path: Path, model: ScriptedModel, **settings):
    (workspace / "stats.py").write_text(STATS)
    editor, result = await start_editor(workspace, tmp_path, init_options=scripted_settings(model, tmp_path,
                                                                                             **settings))
    assert result.capabilities.inline_completion_provider is not None
    await editor.wait_for(lambda: editor.notes["gdm/costUpdate"])
    await editor.open("stats.py")
    return editor


def ask(editor, line: int, character: int, msg_id: str | None = None):
    """An inline-completion request at (line, character) of stats.py, not yet awaited (`msg_id`: the
    request's id, for a `$/cancelRequest`)."""
    params = lsp.InlineCompletionParams(
        text_document=lsp.TextDocumentIdentifier(uri=editor.uri("stats.py")),
        position=lsp.Position(line=line, character=character),
        context=lsp.InlineCompletionContext(trigger_kind=lsp.InlineCompletionTriggerKind.Automatic))
    return asyncio.ensure_future(editor.client.protocol.send_request_async(
        lsp.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id=msg_id))


def texts(result) -> list[str]:
    return [i.insert_text for i in (result.items if result is not None else [])]


async def test_a_completion_fills_the_hole_with_the_maps_definitions_and_lands_on_the_meter(workspace, tmp_path,
                                                                                              fim_model):
    editor = await open_stats(workspace, tmp_path, fim_model)
    try:
        await editor.command(Command.MAP.identifier, {})  # the index is built: the map knows calc.py
        await editor.type("stats.py", 5, 4, "return divide()")
        result = await ask(editor, 5, 18)  # between the parentheses
        [item] = result.items
        assert item.insert_text == "sum(xs), len(xs))"
        assert (item.range.start.character, item.range.end.character) == (18, 19)  # replaces the `)` it repeats
        [request] = fim_model.completion_requests
        assert request["prompt"].endswith("    return divide(") and request["suffix"].startswith(")")
        assert "# calc.py:9: def divide(a: float, b: float) -> float" in request["prompt"]
        await editor.wait_for(lambda: editor.notes["gdm/costUpdate"][-1]["sessionUsd"] > 0)
        cost = await editor.command(Command.COST.identifier, {})
        assert cost["completions"]["calls"] == 1 and cost["completions"]["usd"] > 0
        assert cost["completions"]["usd"] == pytest.approx(cost["sessionUsd"])
        # the client asks again for the same place: from the cache
        again = await ask(editor, 5, 18)
        assert texts(again) == ["sum(xs), len(xs))"] and len(fim_model.completion_requests) == 1
        # typing the suggestion's first characters: the rest of it, without a call
        await editor.type("stats.py", 5, 18, "sum(")
        through = await ask(editor, 5, 22)
        assert texts(through) == ["xs), len(xs))"] and len(fim_model.completion_requests) == 1
        assert await editor.command(Command.COMPLETION_ACCEPTED.identifier, {"chars": 13}) == {"accepted": 1}
        stats = (await editor.command(Command.COST.identifier, {}))["completions"]
        assert (stats["cached"], stats["typedThrough"], stats["accepted"]) == (1, 1, 1)
    finally:
        await stop_editor(editor)


async def test_a_burst_of_keystrokes_makes_at_most_two_calls_and_answers_the_last(workspace, tmp_path, fim_model):
    editor = await open_stats(workspace, tmp_path, fim_model)
    try:
        pending = []
        for i, char in enumerate("return di"):  # 9 keystrokes, each with the request an editor sends
            await editor.type("stats.py", 5, 4 + i, char)
            pending.append(ask(editor, 5, 5 + i))
            await asyncio.sleep(0.02)  # 20 ms a key: faster than anyone types, slower than a paste
        await editor.type("stats.py", 5, 13, "vide(")
        pending.append(ask(editor, 5, 18))
        results = await asyncio.gather(*pending)
        assert len(fim_model.completion_requests) <= 2, fim_model.completion_requests
        assert texts(results[-1]) == ["sum(xs), len(xs))"]  # the last version's answer
        assert all(texts(r) in ([], ["pass"]) for r in results[:-1])
        assert fim_model.completion_requests[-1]["prompt"].endswith("    return divide(")
    finally:
        await stop_editor(editor)


async def test_a_cancelled_request_never_reaches_the_model_and_a_slow_call_is_cancelled(workspace, tmp_path,
                                                                                      fim_model):
    editor = await open_stats(workspace, tmp_path, fim_model)
    try:
        await editor.type("stats.py", 5, 4, "r")
        first = ask(editor, 5, 5, msg_id="typed-over")
        await asyncio.sleep(0.01)
        # the client cancels it while gdm waits out the debounce (as VS Code does on the next keystroke)
        editor.client.protocol.notify(lsp.CANCEL_REQUEST, lsp.CancelParams(id="typed-over"))
        [answer] = await asyncio.gather(first, return_exceptions=True)
        assert isinstance(answer, Exception) and "cancel" in str(answer).lower(), answer
        await asyncio.sleep(1)  # well past the debounce: a call would have started (and been counted) by now
        assert fim_model.completion_requests == []
        assert (await editor.command(Command.COST.identifier, {}))["completions"]["calls"] == 0
        # a slow model call (1.5 s), then the user types on: the newer request cancels it
        slow = ask(editor, 5, 5)
        await editor.wait_for(lambda: fim_model.completion_requests, timeout=60)  # the first call imports litellm
        await editor.type("stats.py", 5, 5, "eturn divide(")
        fast = await ask(editor, 5, 18)
        assert texts(fast) == ["sum(xs), len(xs))"]
        [old] = await asyncio.gather(slow, return_exceptions=True)
        assert isinstance(old, Exception) or texts(old) == [], old  # cancelled by gdm: an error or nothing
        stats = (await editor.command(Command.COST.identifier, {}))["completions"]
        assert stats["calls"] == 2 and stats["shown"] == 1  # the slow call was cancelled before it answered
    finally:
        await stop_editor(editor)


async def test_no_call_over_the_day_budget_or_with_completions_off(workspace, tmp_path, fim_model):
    editor = await open_stats(workspace, tmp_path, fim_model, dayBudgetUsd=0.0)
    try:
        await editor.type("stats.py", 5, 4, "return divide(")
        assert texts(await ask(editor, 5, 18)) == [] and fim_model.completion_requests == []
        stats = (await editor.command(Command.COST.identifier, {}))["completions"]
        assert stats["budgetStops"] == 1 and stats["calls"] == 0
        assert not [m for m in editor.messages() if "budget" in m.lower()]  # no message per keystroke
    finally:
        await stop_editor(editor)
    (workspace / "stats.py").unlink()
    editor = await open_stats(workspace, tmp_path, fim_model, completions="off")
    try:
        await editor.type("stats.py", 5, 4, "return divide(")
        assert texts(await ask(editor, 5, 18)) == [] and fim_model.completion_requests == []
    finally:
        await stop_editor(editor)
