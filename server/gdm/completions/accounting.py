"""The money and the outcomes of inline completions: the day budget before each call, each call's
cost on the meter (the session's ledger, so `dayUsd` counts it, and its own `completions` line),
and what became of each suggestion (shown, accepted in part, accepted) in the store — no telemetry.

`budget_stop` and `line` block on the store: call them off the event loop. `record` and `mark` are
called on the loop and queue their writes on the session's later writer (agent/spending.py): one
thread, in order (a call's row before its "shown"), after the answer has gone to the editor; every
figure read from the ledger or the store waits for them, and a failed write is logged, never raised
into a keystroke.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gdm.agent.spending import Spending
from gdm.completions.caller import MAX_TOKENS, Called
from gdm.store.days import utc_day

if TYPE_CHECKING:
    from gdm.store.repo import Store


class Accounting:
    """One session's completion costs and outcomes."""

    def __init__(self, store: Store, session_id: str, spending: Spending) -> None:
        self.store, self.session_id, self.spending = store, session_id, spending
        self._told_day: str | None = None  # the day the user was told the budget stops completions

    def budget_stop(self, model: str, chars: int) -> str | None:
        """Why a completion of ~`chars` characters must not be asked (the day budget), or None."""
        estimate = self.spending.prices.estimate(model, chars // 4 + 1, MAX_TOKENS) or 0.0
        return self.spending.day_stop(estimate)

    def first_stop_today(self) -> bool:
        """True the first time today the budget stops a completion: the user is told once, not per key."""
        today = utc_day()
        if self._told_day == today:
            return False
        self._told_day = today
        return True

    def record(self, completion_id: str, path: str | None, called: Called, text: str) -> None:
        """Store the call with its cost and count the cost (one write: the meter and the row agree),
        queued: the suggestion is answered meanwhile."""
        reply = called.reply
        usage = reply.usage

        def write() -> None:
            self.store.add_completion(completion_id, self.session_id, model=reply.model, mode=called.mode, path=path,
                                      request=called.request, response=reply.raw, text=text,
                                      tokens_in=usage.tokens_in, tokens_out=usage.tokens_out, usd=reply.cost_usd)
        self.spending.charge_later(None, reply, write)

    def mark(self, completion_id: str, status: str, accepted: str = "") -> None:
        """A suggestion was shown, or `accepted` of it was taken (all of it: status `accepted`)."""
        lines = accepted.count("\n") + 1 if accepted else 0
        self.spending.later(lambda: self.store.mark_completion(completion_id, status, len(accepted), lines),
                            "completion's outcome")

    async def settle(self) -> None:
        """Wait for the writes queued so far (tests, shutdown)."""
        await self.spending.settled()

    def line(self) -> dict[str, Any]:
        """The `completions` line of `gdm.cost`: today's, this user's."""
        self.spending.settle()
        return self.store.completion_line(day=utc_day(), user=self.spending.user)
