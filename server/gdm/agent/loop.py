"""The model-tool loop: ask the model, run the tools it calls, feed the results back, repeat.

No pygls here. The loop yields events (agent/events.py); whoever drives it decides what the
user sees. Cancelling the asyncio task that iterates it stops the model call in flight.
Before each call after the first (and before the first of a follow-up, which starts with the earlier
messages), a long conversation may be compacted (agent/compaction.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

from gdm.agent.compaction import Compactor
from gdm.agent.events import CostRecorded, Done, Error, Event, PatchProposed, Response, Thinking, ToolCall, ToolResult
from gdm.agent.store_writes import off_loop
from gdm.models.llm import LLMError, ModelReply, ToolCallRequest
from gdm.tools.base import ToolContext, ToolError, ToolOutcome, ToolRegistry
from gdm.tools.facts import facts_of

log = logging.getLogger(__name__)

EVENT_RESULT_CHARS = 2000


class ModelClient(Protocol):
    """What the loop needs of a model client (models.llm.LLMClient, or a replay)."""

    async def complete(self, messages: list[dict], tools: list[dict] | None = None,
                       on_text: Any = None) -> ModelReply: ...


class Recorder(Protocol):
    """Writes what happens as it happens (the session's store)."""

    def turn(self, task_id: str, index: int, messages: list[dict], tools: list[dict],
             reply: ModelReply) -> CostRecorded: ...

    def tool_call(self, task_id: str, turn: int, call: ToolCallRequest, result: str, ok: bool) -> None: ...


class BudgetGuard(Protocol):
    """Says, before a call, whether it could pass a budget; returns the reason to stop, or None."""

    def check(self, task_id: str, messages: list[dict]) -> str | None: ...

    def task_spent(self, task_id: str) -> float: ...


class TestGateLike(Protocol):
    """Runs the tests when the model stops; a `feedback` message sends the model back to work."""

    feedback: str | None

    def check(self, task_id: str, patch_ids: list[str]) -> AsyncIterator[Event]: ...


@dataclass
class LoopDeps:
    """Everything one run of the loop uses; built per task by the session."""

    llm: ModelClient
    tools: ToolRegistry
    ctx: ToolContext
    recorder: Recorder
    budget: BudgetGuard
    max_turns: int
    stream: bool = True
    gate: TestGateLike | None = None  # tests after edits (agent/testrun.py); None: the task ends when the model does
    compactor: Compactor | None = None  # older tool results → a summary past a token budget (agent/compaction.py)


async def run_loop(task_id: str, messages: list[dict], deps: LoopDeps) -> AsyncIterator[Event]:
    """Drive one task to its end, yielding events; the last event is always `Done`."""
    patch_ids: list[str] = []
    schemas = deps.tools.schemas()
    for turn in range(deps.max_turns):
        if deps.compactor is not None and (turn > 0 or len(messages) > 2):  # a follow-up may start long
            async for event in deps.compactor.compact(task_id, messages):
                yield event
        # Counting prompt tokens loads a tokenizer (seconds, the first time): off the event loop.
        stop = await asyncio.to_thread(deps.budget.check, task_id, messages)
        if stop is not None:
            yield Error(task_id, stop, "budget")
            yield _done(task_id, "budget", patch_ids, deps)
            return
        yield Thinking(task_id, f"Turn {turn + 1}: asking the model")
        reply: ModelReply | None = None
        try:
            async for item in _call(task_id, deps, messages, schemas):
                if isinstance(item, Response):
                    yield item
                else:
                    reply = item
        except LLMError as exc:
            yield Error(task_id, exc.message, exc.kind)
            yield _done(task_id, "error", patch_ids, deps)
            return
        assert reply is not None
        # Store writes (the turn's new messages, its cost): a worker thread, not the event loop; a
        # cancel waits for it, so the cost is counted once and lands before the task's final status.
        yield await off_loop(deps.recorder.turn, task_id, turn, list(messages), schemas, reply)
        if reply.text:
            yield Response(task_id, reply.text, delta=False)
        messages.append(_assistant_message(reply))
        if not reply.tool_calls:
            if deps.gate is not None and patch_ids:
                async for event in deps.gate.check(task_id, patch_ids):
                    yield event
                if deps.gate.feedback is not None:
                    messages.append({"role": "user", "content": deps.gate.feedback})
                    continue
            yield _done(task_id, "done", patch_ids, deps)
            return
        for call in reply.tool_calls:
            async for event in _run_tool(task_id, turn, call, deps, messages):
                if isinstance(event, PatchProposed) and event.patch_id not in patch_ids:
                    patch_ids.append(event.patch_id)
                yield event
    yield Error(task_id, f"Stopped after {deps.max_turns} model calls (maxTurns); the patches so far are "
                         f"still reviewable.", "maxTurns")
    yield _done(task_id, "error", patch_ids, deps)


def _done(task_id: str, status: str, patch_ids: list[str], deps: LoopDeps) -> Done:
    return Done(task_id, status, list(patch_ids), deps.budget.task_spent(task_id))


async def _call(task_id: str, deps: LoopDeps, messages: list[dict],
                schemas: list[dict]) -> AsyncIterator[Response | ModelReply]:
    """One model call; streamed text pieces as Response(delta=True), then the whole reply."""
    if not deps.stream:
        yield await deps.llm.complete(messages, schemas)
        return
    pieces: asyncio.Queue[str] = asyncio.Queue()
    call = asyncio.ensure_future(deps.llm.complete(messages, schemas, on_text=pieces.put_nowait))
    try:
        while not call.done():
            getter = asyncio.ensure_future(pieces.get())
            await asyncio.wait({call, getter}, return_when=asyncio.FIRST_COMPLETED)
            if getter.done():
                yield Response(task_id, getter.result(), delta=True)
            else:
                getter.cancel()
        while not pieces.empty():
            yield Response(task_id, pieces.get_nowait(), delta=True)
        yield call.result()
    finally:
        if not call.done():
            call.cancel()  # cancelling the task cancels the HTTP call in flight


def _assistant_message(reply: ModelReply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if reply.tool_calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in reply.tool_calls
        ]
    return message


async def _run_tool(task_id: str, turn: int, call: ToolCallRequest, deps: LoopDeps,
                    messages: list[dict]) -> AsyncIterator[Event]:
    """Parse, announce, run one tool call and feed its result back to the model."""
    parsed: dict[str, Any] | str
    try:
        parsed = json.loads(call.arguments) if call.arguments.strip() else {}
    except json.JSONDecodeError as exc:
        parsed = call.arguments
        outcome, ok = ToolOutcome(f"Invalid JSON in the arguments of {call.name}: {exc}. Send a JSON object."), False
    yield ToolCall(task_id, call.id, call.name, parsed)
    if isinstance(parsed, dict) or not isinstance(parsed, str):
        outcome, ok = await _execute(call.name, parsed, deps)
    yield ToolResult(task_id, call.id, call.name, ok, outcome.text[:EVENT_RESULT_CHARS],
                     facts_of(call.name, ok, outcome.text))
    for patch_id in outcome.patch_ids:
        yield PatchProposed(task_id, patch_id)
    await off_loop(deps.recorder.tool_call, task_id, turn, call, outcome.text, ok)
    messages.append({"role": "tool", "tool_call_id": call.id, "content": outcome.text})


async def _execute(name: str, args: Any, deps: LoopDeps) -> tuple[ToolOutcome, bool]:
    tool = deps.tools.get(name)
    if tool is None:
        return ToolOutcome(f"Unknown tool {name!r}; the tools are: {', '.join(deps.tools.names())}"), False
    try:
        return await tool.run(tool.check_args(args), deps.ctx), True
    except ToolError as exc:
        return ToolOutcome(str(exc)), False
    except OSError as exc:
        return ToolOutcome(f"{name} failed: {exc}"), False
