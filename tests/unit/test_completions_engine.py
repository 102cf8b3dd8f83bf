"""The completion engine in process, with a fake model caller whose calls the test opens and holds:
debounce, `$/cancelRequest` (a cancelled request task), typing-through, the cache, one call in
flight per document, the day budget, and costs and outcomes in a real store."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from gdm.agent.spending import Spending
from gdm.completions.accounting import Accounting
from gdm.completions.caller import Called, Prompt
from gdm.completions.engine import CompletionEngine, Parts
from gdm.completions.state import Request
from gdm.config import resolve
from gdm.context.repomap.service import CodeMap
from gdm.models.llm import LLMError, ModelReply, Usage
from gdm.store.repo import Store
from tests.waiting import until

PRICES = {"openai/fim": {"inputPerMTok": 1.0, "outputPerMTok": 2.0}}
BODY = "def add(a, b):\n    "


class FakeCaller:
    """Answers each call with `answer(prompt)` once the test releases it (all at once by default)."""

    def __init__(self) -> None:
        self.prompts: list[Prompt] = []
        self.cancelled = 0
        self.gate = asyncio.Event()
        self.gate.set()
        self.answer = lambda prompt: "return a + b"
        self.fail: LLMError | None = None

    def model(self, settings):
        return settings.completion_model_name()

    async def call(self, settings, prices, prompt: Prompt) -> Called:
        self.prompts.append(prompt)
        try:
            await self.gate.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        if self.fail is not None:
            raise self.fail
        text = self.answer(prompt)
        usage = Usage(1000, 10)
        reply = ModelReply(text, [], usage, "openai/fim", prices.cost("openai/fim", 1000, 10), "stop",
                           {"choices": [{"text": text}]})
        return Called(reply, "fim", {"prompt": prompt.window.prefix, "suffix": prompt.window.suffix})


@pytest.fixture
def store(tmp_path: Path):
    with Store(f"sqlite:///{tmp_path / 'gdm.db'}") as opened:
        opened.start_session("s-1", str(tmp_path), "openai/fim", user="ann")
        yield opened


def make(store: Store, tmp_path: Path, **settings) -> tuple[CompletionEngine, FakeCaller]:
    values = {"model": "openai/fim", "prices": PRICES, **settings}
    resolved = resolve([values]).settings
    spending = Spending(store, "s-1", resolved, "ann")
    spending.open()
    caller = FakeCaller()
    code_map = CodeMap(tmp_path, use_cache=False)
    engine = CompletionEngine(Parts(lambda: resolved, caller, Accounting(store, "s-1", spending), code_map,
                                    lambda uri: None, tmp_path), debounce_s=0.05)
    return engine, caller


def req(text: str, version: int, offset: int | None = None, invoked: bool = False) -> Request:
    return Request("file:///w/calc.py", "calc.py", version, text, len(text) if offset is None else offset, invoked)


async def test_a_burst_of_requests_makes_one_call_answered_for_the_last(store, tmp_path):
    engine, caller = make(store, tmp_path)
    caller.answer = lambda prompt: f"<after {prompt.window.prefix[-4:]!r}>"
    texts = [BODY + "return a + b"[:n] for n in range(1, 11)]
    tasks = [asyncio.ensure_future(engine.complete(req(t, i + 1))) for i, t in enumerate(texts)]
    answers = await asyncio.gather(*tasks)
    assert len(caller.prompts) == 1 and caller.prompts[0].window.prefix == texts[-1]
    assert [a.source for a in answers] == ["superseded"] * 9 + ["model"]
    assert answers[-1].text == f"<after {texts[-1][-4:]!r}>"


async def test_a_request_cancelled_during_the_debounce_never_reaches_the_model(store, tmp_path):
    engine, caller = make(store, tmp_path)
    task = asyncio.ensure_future(engine.complete(req(BODY, 1)))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.1)
    assert caller.prompts == []


async def test_a_request_cancelled_during_its_call_cancels_the_call(store, tmp_path):
    engine, caller = make(store, tmp_path)
    caller.gate.clear()
    task = asyncio.ensure_future(engine.complete(req(BODY, 1, invoked=True)))
    await until(lambda: caller.prompts)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert caller.cancelled == 0  # not at once: the next keystroke's request may still join it
    await until(lambda: caller.cancelled == 1, 5)  # no one did within the debounce
    assert store.completion_line(user="ann")["calls"] == 0  # nothing answered, nothing charged


async def test_the_next_keystroke_keeps_the_call_its_cancelled_request_made(store, tmp_path):
    """As VS Code types: each keystroke cancels the open request and sends a new one. A call in
    flight survives the cancel when the next request types on from it; that request joins it at once
    (no debounce) and is answered from it by typing-through: one call, a suggestion shown."""
    engine, caller = make(store, tmp_path)
    caller.gate.clear()
    first = asyncio.ensure_future(engine.complete(req(BODY, 1, invoked=True)))
    await until(lambda: caller.prompts, 5)
    first.cancel()  # the keystroke: the client cancels the open request...
    nxt = asyncio.ensure_future(engine.complete(req(BODY + "r", 2)))  # ...and asks again
    # Nothing to wait for here: the claim is that a timer does NOT cancel the call. Past 4 times the
    # grace (the engine's debounce), a cancel would have happened.
    await asyncio.sleep(engine.debounce_s * 4)
    assert caller.cancelled == 0 and len(caller.prompts) == 1
    caller.gate.set()
    answer = await asyncio.wait_for(nxt, 5)
    assert (answer.source, answer.text) == ("typing", "eturn a + b") and len(caller.prompts) == 1


async def test_typing_through_and_the_cache_answer_without_a_call(store, tmp_path):
    engine, caller = make(store, tmp_path)
    first = await engine.complete(req(BODY, 1))
    assert (first.source, first.text) == ("model", "return a + b")
    through = await engine.complete(req(BODY + "ret", 2))
    assert (through.source, through.text, through.completion_id) == ("typing", "urn a + b", first.completion_id)
    back = await engine.complete(req(BODY, 3))  # deleted what was typed: the whole suggestion again
    assert (back.source, back.text) == ("typing", "return a + b") and len(caller.prompts) == 1
    await engine.parts.accounting.settle()
    row = store.completion(first.completion_id)
    assert row["status"] == "partial" and row["accepted_chars"] == 3
    # Typed to its end: accepted; the next request asks the model again.
    await engine.complete(req(BODY + "return a + b", 4))
    await engine.parts.accounting.settle()
    assert store.completion(first.completion_id)["status"] == "accepted"
    assert len(caller.prompts) == 2
    # Back at the first place (the same text around the cursor, a newer version): the cache answers.
    again = await engine.complete(req(BODY, 5))
    assert (again.source, again.text, again.completion_id) == ("cache", "return a + b", first.completion_id)
    same = await engine.complete(req(BODY, 5))
    assert same.source == "typing" and len(caller.prompts) == 2


async def test_a_request_typing_forward_waits_for_the_call_in_flight_and_another_cancels_it(store, tmp_path):
    engine, caller = make(store, tmp_path)
    caller.gate.clear()
    first = asyncio.ensure_future(engine.complete(req(BODY, 1, invoked=True)))
    await until(lambda: caller.prompts)
    forward = asyncio.ensure_future(engine.complete(req(BODY + "re", 2)))
    await asyncio.sleep(0.1)  # past its debounce: it waits for the call in flight
    assert len(caller.prompts) == 1
    caller.gate.set()
    answers = await asyncio.gather(first, forward)
    assert answers[1].source == "typing" and answers[1].text == "turn a + b" and len(caller.prompts) == 1
    # Elsewhere in the document: the call in flight is cancelled, one new call answers.
    caller.gate.clear()
    slow = asyncio.ensure_future(engine.complete(req(BODY + "x = 1\n", 3, invoked=True)))
    await until(lambda: len(caller.prompts) >= 2)
    other = asyncio.ensure_future(engine.complete(req("y = ", 4, invoked=True)))
    await until(lambda: len(caller.prompts) >= 3)
    assert caller.cancelled == 1
    caller.gate.set()
    assert (await slow).source == "superseded" and (await other).source == "model"


async def test_cost_on_the_meter_and_the_day_budget_stops_calls(store, tmp_path):
    engine, caller = make(store, tmp_path)
    await engine.complete(req(BODY, 1, invoked=True))
    # The call's row is written after its answer; what the meter reads waits for it.
    assert engine.parts.accounting.spending.totals(None)["dayUsd"] == pytest.approx((1000 + 20) / 1e6)
    line = engine.parts.accounting.line()
    assert line["calls"] == 1 and line["usd"] == pytest.approx((1000 + 20) / 1e6) and line["shown"] == 1
    assert store.completion_line(user="ann") == line
    assert store.by_model(user="ann") == []  # a completion is its own line, not a task's model call
    broke, caller2 = make(store, tmp_path, dayBudgetUsd=0)
    answer = await broke.complete(req(BODY + "x", 2, invoked=True))
    assert answer.source == "budget" and "Day budget reached" in answer.detail and caller2.prompts == []
    assert broke.parts.accounting.first_stop_today() and not broke.parts.accounting.first_stop_today()


async def test_off_no_model_and_failures_answer_nothing(store, tmp_path):
    off, caller = make(store, tmp_path, completions="off")
    assert (await off.complete(req(BODY, 1))).source == "off" and caller.prompts == []
    failing, caller = make(store, tmp_path)
    caller.fail = LLMError("server", "The model server failed.")
    answer = await failing.complete(req(BODY, 1, invoked=True))
    assert answer.source == "error" and answer.detail == "The model server failed." and not answer.ok
    nothing, caller = make(store, tmp_path)
    caller.answer = lambda prompt: "   \n"
    assert (await nothing.complete(req(BODY, 1, invoked=True))).source == "empty"


async def test_an_accept_command_and_a_partial_accept_are_counted(store, tmp_path):
    engine, _caller = make(store, tmp_path)
    shown = await engine.complete(req(BODY, 1, invoked=True))
    assert engine.accepted(shown.completion_id, chars=6)
    assert engine.accepted(shown.completion_id)
    assert not engine.accepted("c-unknown")
    await engine.parts.accounting.settle()
    row = store.completion(shown.completion_id)
    assert (row["status"], row["accepted_chars"], row["accepted_lines"]) == ("accepted", 12, 1)
    line = store.completion_line(user="ann")
    assert (line["shown"], line["accepted"], line["acceptedPartly"], line["acceptedLines"]) == (1, 1, 0, 1)


async def test_a_call_is_answered_before_its_row_is_written_and_a_failed_write_loses_no_answer(store, tmp_path, caplog):
    engine, caller = make(store, tmp_path)
    spending = engine.parts.accounting.spending
    gate = threading.Event()

    def busy(prompt):  # while the model answers, the writer gets busy: the call's row queues behind it
        caller.answer = lambda prompt: "return a + b"
        spending.later(gate.wait, "test's gate")
        return "return a + b"
    caller.answer = busy
    answer = await asyncio.wait_for(engine.complete(req(BODY, 1, invoked=True)), 5)
    assert answer.source == "model" and store.completion(answer.completion_id) is None
    gate.set()
    await engine.parts.accounting.settle()
    row = store.completion(answer.completion_id)
    assert row["status"] == "shown" and row["text"] == "return a + b"  # the row, then its "shown"
    # A store that fails: the suggestion is still answered, the failure logged, the next call stored.
    real = store.add_completion

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")
    store.add_completion = broken
    failed = await engine.complete(req("x = ", 2, invoked=True))
    await engine.parts.accounting.settle()
    assert failed.source == "model" and "not stored: disk full" in caplog.text
    store.add_completion = real
    later = await engine.complete(req("y = ", 3, invoked=True))
    assert engine.parts.accounting.line()["calls"] == 2 and store.completion(later.completion_id) is not None
