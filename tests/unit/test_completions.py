"""Inline completions without an editor: the prompt (budgets, the names at the cursor, the map's
definitions) and the engine's decisions (cache, typing-through, debounce, budget), with a fake
model client counting its calls."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from gdm.completions.engine import CompletionEngine, Request
from gdm.completions.prompt import PREFIX_CHARS, build, names_near, split, trim
from gdm.models.cost import PriceBook
from gdm.models.types import ModelConfig, ModelReply, Usage


def test_split_and_budgets():
    assert split("ab\ncd\nef", 1, 1) == ("ab\nc", "d\nef")
    assert split("ab", 5, 9) == ("ab", "")  # past the end clamps
    prompt = build("a.py", "x" * (PREFIX_CHARS + 500) + "\ny", 1, 0)
    assert len(prompt.prefix) == PREFIX_CHARS and prompt.suffix == "y"


def test_the_names_at_the_cursor_nearest_first():
    prefix = "from calc import divide, mean as m\nimport os\n\ndef f(xs):\n    total = summed(xs)\n    return div"
    names = names_near(prefix, ")\nprint(other(1))\n")
    assert names[0] == "div" and "summed" in names and "divide" in names and "other" in names
    assert "print" not in names and "return" not in names


def test_definitions_from_other_files_go_above_the_prefix_as_comments():
    found = {"divide": ["calc.py:9: function def divide(a: float, b: float) -> float"],
             "helper": ["stats.py:3: function def helper()"]}
    prompt = build("stats.py", "def g():\n    helper()\n    return divide(", 2, 18, lambda n: found.get(n, []))
    assert prompt.prefix.startswith("# Definitions this code uses")
    assert "# calc.py:9: def divide(a: float, b: float) -> float\n" in prompt.prefix
    assert "stats.py:3" not in prompt.prefix  # the file itself: the model sees it already
    assert build("x.ts", "foo(", 0, 4, lambda n: ["y.ts:1: function function foo()"]).prefix.startswith("// ")


def test_trim_keeps_a_suggestion_showable():
    assert trim("a\nb\n\n\n", "") == "a\nb"
    assert trim("\n".join(str(i) for i in range(30)), "").count("\n") == 11
    assert trim("x = f(1,\n  2)", ")") == "x = f(1,\n  2"  # does not repeat the `)` after the cursor


@dataclass
class FakeClient:
    """A model client that answers `text` and counts its calls."""

    text: str
    calls: int = 0
    config: ModelConfig = field(default_factory=lambda: ModelConfig(model="openai/fake"))
    prices: PriceBook = field(default_factory=lambda: PriceBook({"openai/fake": {"inputPerMTok": 1.0,
                                                                             "outputPerMTok": 1.0}}, lambda m: None))

    async def fill(self, prefix: str, suffix: str, stop: list[str]) -> ModelReply:
        self.calls += 1
        return ModelReply(self.text, [], Usage(10, 5), "openai/fake", 0.001, "stop", {})


def engine(client: FakeClient, stop: str | None = None) -> tuple[CompletionEngine, list]:
    charged: list = []
    return CompletionEngine(lambda: client, None, lambda estimate: stop, charged.append, debounce_s=0.01), charged


async def test_cache_and_typing_through_answer_without_a_call():
    client = FakeClient("sum(xs))")
    e, charged = engine(client)
    text = "def f(xs):\n    return divide("
    first = await e.complete(Request("a.py", 1, text, 1, 18))
    assert [s.text for s in first.suggestions] == ["sum(xs))"] and first.called and len(charged) == 1
    again = await e.complete(Request("a.py", 1, text, 1, 18))
    assert not again.called and [s.text for s in again.suggestions] == ["sum(xs))"]
    typed = await e.complete(Request("a.py", 2, text + "sum(", 1, 22))
    assert [s.text for s in typed.suggestions] == ["xs))"] and client.calls == 1
    other = await e.complete(Request("a.py", 3, text + "len(", 1, 22))  # typed something else: ask
    assert other.called and client.calls == 2
    assert (e.stats.cached, e.stats.typed_through, e.stats.calls) == (1, 1, 2)


async def test_a_newer_request_supersedes_one_still_debouncing():
    client = FakeClient("x")
    e, _ = engine(client)
    older = asyncio.ensure_future(e.complete(Request("a.py", 1, "ab", 0, 2)))
    await asyncio.sleep(0)
    newer = await e.complete(Request("a.py", 2, "abc", 0, 3))
    assert (await older).suggestions == [] and newer.suggestions and client.calls == 1
    assert e.stats.superseded == 1


async def test_over_the_day_budget_no_call_and_off_no_work():
    client = FakeClient("x")
    e, charged = engine(client, stop="Day budget reached")
    out = await e.complete(Request("a.py", 1, "ab", 0, 2))
    assert out.suggestions == [] and client.calls == 0 and charged == [] and e.stats.budget_stops == 1
    off = CompletionEngine(lambda: None, None, lambda estimate: None, lambda reply: None, debounce_s=0.01)
    assert (await off.complete(Request("a.py", 1, "ab", 0, 2))).suggestions == []
