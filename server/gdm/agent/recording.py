"""What a task's loop writes and checks as it goes: each turn with its cost and each tool call
to the store (Recorder), and the budgets before each model call (Budget).

Split from agent/session.py, which owns the session they serve.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gdm.agent.events import CostRecorded
from gdm.models.llm import ModelReply, ToolCallRequest
from gdm.store.days import utc_day
from gdm.store.turns import DeltaEncoder

if TYPE_CHECKING:
    from gdm.agent.session import Session


class Recorder:
    """Store writes for the loop: each turn with its cost (one transaction; the request as a delta
    over the previous turn's, store/turns.py), each tool call."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.deltas = DeltaEncoder()  # one recorder per task: the deltas are the task's

    def turn(self, task_id: str, index: int, messages: list[dict], tools: list[dict],
             reply: ModelReply) -> CostRecorded:
        s = self.session
        s.last_model = reply.model
        request = self.deltas.encode(messages, tools)
        usage = reply.usage

        def write() -> None:
            s.store.record_turn(s.id, task_id, index, reply.model, request, reply.raw, usage.tokens_in,
                                usage.tokens_out, reply.cost_usd, utc_day())
        try:
            s.charge(task_id, reply, write)
        except BaseException:
            self.deltas.reset()  # the row is missing: the next one must be whole
            raise
        return CostRecorded(task_id, reply.model, reply.usage.tokens_in, reply.usage.tokens_out, reply.cost_usd)

    def tool_call(self, task_id: str, turn: int, call: ToolCallRequest, result: str, ok: bool) -> None:
        self.session.store.add_tool_call(task_id, turn, call.id, call.name, call.arguments, result, not ok)


class Budget:
    """Stops a task before a call whose worst-case cost would pass the task or day budget."""

    def __init__(self, session: Session, llm: Any) -> None:
        self.session = session
        self.llm = llm

    def task_spent(self, task_id: str) -> float:
        return self.session.ledger.task_usd(task_id)

    def check(self, task_id: str, messages: list[dict]) -> str | None:
        s = self.session
        estimate = None
        if s.settings.model:
            estimate = s.prices.estimate(s.settings.model, self.llm.count_tokens(messages),
                                         self.llm.config.max_output_tokens)
        return s.budget_stop(task_id, estimate or 0.0)
