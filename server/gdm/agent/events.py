"""What a running task reports, as plain data.

The loop yields these; `features/tasks.py` turns them into `gdm/taskEvent`, `$/progress`,
`gdm/patchProposed` and `gdm/costUpdate`; the headless CLI prints them. The `kind` of each
task event is the wire name of DESIGN.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Event:
    """Base of every event: the task it belongs to."""

    task_id: str


@dataclass(frozen=True)
class Thinking(Event):
    """The agent is working on something it can describe (a turn starting, a plan)."""

    text: str
    kind = "thinking"


@dataclass(frozen=True)
class ToolCall(Event):
    """The model asked for a tool; `arguments` is the parsed object, or the raw text if invalid."""

    call_id: str
    name: str
    arguments: dict[str, Any] | str
    kind = "toolCall"


@dataclass(frozen=True)
class ToolResult(Event):
    """A tool finished; `result` is what the model gets back (maybe cut), `facts` what the whole
    result says as data (tools/facts.py: hit counts, exit code)."""

    call_id: str
    name: str
    ok: bool
    result: str
    facts: dict[str, Any] = field(default_factory=dict)
    kind = "toolResult"


@dataclass(frozen=True)
class Response(Event):
    """Model text: streamed pieces (`delta=True`) and then the whole reply (`delta=False`)."""

    text: str
    delta: bool = False
    kind = "response"


@dataclass(frozen=True)
class Error(Event):
    """Something went wrong that the user should see; `error_kind` is machine-readable."""

    message: str
    error_kind: str = "error"
    kind = "error"


@dataclass(frozen=True)
class Done(Event):
    """The task ended: status is done, cancelled, error or budget."""

    status: str
    patch_ids: list[str] = field(default_factory=list)
    cost_usd: float = 0.0
    kind = "done"


@dataclass(frozen=True)
class PatchProposed(Event):
    """A pending patch was created or updated (same id) by this task."""

    patch_id: str


@dataclass(frozen=True)
class CostRecorded(Event):
    """One model call was priced (usd None when the price is unknown) and stored."""

    model: str
    tokens_in: int
    tokens_out: int
    usd: float | None


TASK_EVENT_KINDS = ("thinking", "toolCall", "toolResult", "response", "error", "done")
