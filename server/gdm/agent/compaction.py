"""Compaction: when a task's conversation grows past its token budget, older tool results become
a summary.

The policy (`plan`, `transcript`, `apply`) is pure; `Compactor` runs it before each model call.
What is kept intact: the system prompt and the task's first user message (the "head"), the last
`keep_recent` turns (an assistant message and everything after it up to the next one), and every
assistant message, so each tool call still has its tool result right after it (providers reject a
tool call without one) and the model still sees what it did, in order. What goes: the content of
the older tool results (file contents, search hits, command output — the bulk of a long task), each
replaced by a short stub; a summary of them, by `cheapModel` (else the task's own model), stands
right after the head, replacing an earlier summary if there is one.

The budget is `WINDOW_FRACTION` of the model's input window from litellm's table, or of
`DEFAULT_CONTEXT_TOKENS` when the model is not in it; the size is estimated from characters (~4 a
token), cheap enough to check every turn. Compaction happens only when it saves at least
`MIN_SAVING_FRACTION` of the budget, so a conversation whose recent turns alone are large does not
pay for a summary every turn.

Secrets: the conversation is compacted in place (the loop's list) and the redacting client only
redacts messages past what it already saw. Compaction adds only the summary (written by a model
that saw redacted text) and stubs, so nothing unredacted slips in before the recent messages.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from gdm.agent.events import Event, Thinking
from gdm.models import tiers

DEFAULT_CONTEXT_TOKENS = 128_000
WINDOW_FRACTION = 0.5
KEEP_RECENT_TURNS = 4
MIN_SAVING_FRACTION = 0.2
CHARS_PER_TOKEN = 4
TRANSCRIPT_RESULT_CHARS = 4000  # of each tool result, in the transcript the summarizer reads
STUB = "(compacted: this result is in the summary of the earlier turns, at the start of the conversation)"


def estimate_tokens(messages: list[dict]) -> int:
    """A quick size estimate: characters of contents and tool-call arguments / 4."""
    chars = 0
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            chars += len(content)
        elif isinstance(content, list):
            chars += sum(len(str(part.get("text") or "")) for part in content if isinstance(part, dict))
        for call in message.get("tool_calls") or ():
            function = call.get("function") or {}
            chars += len(str(function.get("arguments") or "")) + len(str(function.get("name") or "")) + 16
        chars += 8  # role and framing
    return chars // CHARS_PER_TOKEN


def budget_tokens(window: int | None) -> int:
    """The size past which a conversation is compacted, for a model input window (None: unknown)."""
    return int((window or DEFAULT_CONTEXT_TOKENS) * WINDOW_FRACTION)


@dataclass(frozen=True)
class Plan:
    """What one compaction does: indexes into the conversation it was planned on."""

    head: int  # messages [0, head) are kept as they are
    summary_at: int | None  # an earlier summary (at index head), folded into the new one
    old: tuple[int, ...]  # the tool results whose content becomes the stub
    recent_from: int  # messages from here on are kept as they are
    saving: int  # estimated tokens saved (before the new summary's own size)


def _head(messages: list[dict]) -> int:
    """How many leading messages are the head: up to and including the first user message."""
    for i, message in enumerate(messages):
        if message.get("role") == "user":
            return i + 1
    return len(messages)


def plan(messages: list[dict], budget: int, keep_recent: int = KEEP_RECENT_TURNS) -> Plan | None:
    """The compaction to do now, or None (under budget, too few turns, or too little to save)."""
    if estimate_tokens(messages) <= budget:
        return None
    head = _head(messages)
    summary_at = head if head < len(messages) and tiers.summary_of(messages[head]) is not None else None
    starts = [i for i in range(head, len(messages)) if messages[i].get("role") == "assistant"]
    if len(starts) <= keep_recent:
        return None
    recent_from = starts[len(starts) - keep_recent] if keep_recent > 0 else len(messages)
    old = tuple(i for i in range(head, recent_from)
                if messages[i].get("role") == "tool" and messages[i].get("content") != STUB)
    saving = sum(estimate_tokens([messages[i]]) for i in old) - len(old) * (len(STUB) // CHARS_PER_TOKEN)
    if not old or saving < MIN_SAVING_FRACTION * budget:
        return None
    return Plan(head, summary_at, old, recent_from, saving)


def transcript(messages: list[dict], p: Plan) -> str:
    """The older turns as text for the summarizer: the earlier summary, the calls and their results."""
    lines = []
    if p.summary_at is not None:
        lines.append(f"Earlier summary:\n{tiers.summary_of(messages[p.summary_at])}\n")
    start = p.head + (p.summary_at is not None)
    for message in messages[start:p.recent_from]:
        role, content = message.get("role"), message.get("content")
        text = content if isinstance(content, str) else json.dumps(content) if content else ""
        if role == "assistant":
            if text:
                lines.append(f"assistant: {text}")
            for call in message.get("tool_calls") or ():
                function = call.get("function") or {}
                lines.append(f"assistant called {function.get('name')}({str(function.get('arguments'))[:500]})")
        elif role == "tool":
            if text != STUB:
                lines.append(f"tool result:\n{text[:TRANSCRIPT_RESULT_CHARS]}")
        else:
            lines.append(f"{role}: {text[:TRANSCRIPT_RESULT_CHARS]}")
    return "\n".join(lines)


def apply(messages: list[dict], p: Plan, summary: str) -> list[dict]:
    """The compacted conversation: head, the summary, every later message with the old results
    stubbed. Kept messages are the same objects (the store's turn deltas rely on that); changed
    ones are new."""
    old = set(p.old)
    start = p.head + (p.summary_at is not None)
    rest = [{**m, "content": STUB} if i in old else m for i, m in enumerate(messages) if i >= start]
    return [*messages[:p.head], tiers.summary_message(summary), *rest]


Summarize = Callable[[str, list[dict]], Awaitable[tuple[str, list[Event]] | None]]
"""(task id, summary request) → (summary text, events to pass on, e.g. its cost), or None when no
summary could be had (a budget, a failed call): the task goes on uncompacted."""


class Compactor:
    """Runs the policy before a model call; `summarize` makes the summary (the session's)."""

    def __init__(self, budget: int, summarize: Summarize, keep_recent: int = KEEP_RECENT_TURNS) -> None:
        self.budget = budget
        self.summarize = summarize
        self.keep_recent = keep_recent

    async def compact(self, task_id: str, messages: list[dict]) -> AsyncIterator[Event]:
        """Compact `messages` in place when they are past the budget; yields what the user should see."""
        p = plan(messages, self.budget, self.keep_recent)
        if p is None:
            return
        before = estimate_tokens(messages)
        result = await self.summarize(task_id, tiers.summary_messages(transcript(messages, p)))
        if result is None:
            return
        summary, events = result
        for event in events:
            yield event
        messages[:] = apply(messages, p, summary)
        yield Thinking(task_id, f"Compacted {len(p.old)} earlier tool result(s) into a summary "
                                f"(~{before} → ~{estimate_tokens(messages)} tokens)")
