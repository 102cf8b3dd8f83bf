"""Budget and ledger: what a session's model calls cost, the totals `gdm/costUpdate` carries, and
the task and day budgets checked before each call.

A collaborator of agent/session.py. The running totals are store/ledger.py's; this adds the
budgets from the settings in force, the prices, and the model last used.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gdm.agent.store_writes import SerialWriter
from gdm.config import Settings
from gdm.models.cost import PriceBook
from gdm.models.llm import LLMClient, ModelReply, litellm_price_lookup
from gdm.store.days import utc_day
from gdm.store.ledger import Ledger

if TYPE_CHECKING:
    from gdm.store.repo import Store

log = logging.getLogger(__name__)


class Spending:
    """One session's money: running totals (the ledger, opened once the session row exists),
    prices and budgets from the current settings."""

    def __init__(self, store: Store, session_id: str, settings: Settings, user: str | None) -> None:
        self.store, self.session_id, self.user = store, session_id, user
        self.settings = settings
        self.prices = PriceBook(settings.prices_json(), litellm_price_lookup)
        self.last_model: str | None = settings.model
        self._ledger: Ledger | None = None
        # Writes made after the caller has its answer (an inline completion's row and outcomes), in
        # order on one thread; every figure read below waits for them first, so none is missed.
        self._later = SerialWriter(f"gdm-costs-{session_id}")

    def open(self) -> None:
        """Seed the running totals from the store (no SUM query per model call: store/ledger.py)."""
        self._ledger = Ledger(self.store, self.session_id, today=utc_day, user=self.user)

    @property
    def ledger(self) -> Ledger:
        """The running totals (after `open`)."""
        assert self._ledger is not None, "Spending.open() first"
        return self._ledger

    def update_settings(self, settings: Settings) -> None:
        """New budgets and prices apply to the next model call."""
        self.settings = settings
        self.prices = PriceBook(settings.prices_json(), litellm_price_lookup)

    def totals(self, task_id: str | None, *, fresh: bool = False) -> dict[str, Any]:
        """Task, session and day totals with the budgets, as `gdm/costUpdate` carries them; from the
        running totals, the day read again from the store when `fresh` (other windows spend too)."""
        self._later.settle()
        ledger = self.ledger
        day_usd = ledger.refresh_day() if fresh else ledger.day_usd()
        return {
            "taskId": task_id,
            "taskUsd": round(ledger.task_usd(task_id), 6),
            "sessionUsd": round(ledger.session_usd, 6),
            "dayUsd": round(day_usd, 6),
            "budgetUsd": self.settings.task_budget_usd,
            "dayBudgetUsd": self.settings.day_budget_usd,
            "tokensIn": ledger.tokens_in,
            "tokensOut": ledger.tokens_out,
            "model": self.last_model,
            "priceKnown": ledger.unpriced_calls == 0,
            "user": self.user,
            "store": self.store.status(),
        }

    def budget_stop(self, task_id: str, estimate: float) -> str | None:
        """Why a call that could cost `estimate` must not be made (task or day budget), or None."""
        self._later.settle()
        task_budget = self.settings.task_budget_usd
        task_usd = self.ledger.task_usd(task_id)
        if task_usd + estimate > task_budget:
            return (f"Task budget reached: this task has spent ${task_usd:.4f} of its "
                    f"${task_budget:.2f} (taskBudgetUsd) and the next call could cost up to ${estimate:.4f}.")
        return self.day_stop(estimate)

    def day_stop(self, estimate: float) -> str | None:
        """Why a call that could cost `estimate` would pass the day budget, or None (the budget of a
        call outside any task too: an inline completion)."""
        self._later.settle()
        day_budget = self.settings.day_budget_usd
        day_usd = self.ledger.day_usd(budget=day_budget, estimate=estimate)
        if day_usd + estimate > day_budget:
            return (f"Day budget reached: ${day_usd:.4f} spent today of ${day_budget:.2f} "
                    f"(dayBudgetUsd); the next call could cost up to ${estimate:.4f}.")
        return None

    def fits_budget(self, task_id: str, client: LLMClient, messages: list[dict]) -> bool:
        """Whether a call of `client` with `messages` stays within the budgets (counts tokens: a
        worker thread's job, it may load a tokenizer)."""
        config = client.config
        estimate = self.prices.estimate(config.model or "", client.count_tokens(messages), config.max_output_tokens) or 0.0
        return self.budget_stop(task_id, estimate) is None

    def charge(self, task_id: str | None, reply: ModelReply, write: Callable[[], None] | None = None) -> None:
        """Store a model call's cost (with `write`, the store write that also records it) and count it."""
        usage = reply.usage
        write = write or (lambda: self.store.add_cost(self.session_id, task_id, reply.model, usage.tokens_in,
                                                      usage.tokens_out, reply.cost_usd, utc_day()))
        self.ledger.charge(write, task_id, usage.tokens_in, usage.tokens_out, reply.cost_usd)

    def by_model(self) -> list[dict[str, Any]]:
        """Today's cost per model, this user's (the day `dayUsd` counts)."""
        self._later.settle()
        return self.store.by_model(day=utc_day(), user=self.user)

    def charge_later(self, task_id: str | None, reply: ModelReply, write: Callable[[], None] | None = None) -> None:
        """`charge`, queued behind this session's earlier later writes (the caller does not wait)."""
        self.later(lambda: self.charge(task_id, reply, write), "model call's cost")

    def later(self, write: Callable[[], None], what: str) -> None:
        """Queue a store write that its caller must not wait for (a keystroke's answer goes first),
        after the ones queued before it. A failure is logged: no keystroke is there to raise it to."""
        def logged() -> None:
            try:
                write()
            except Exception as exc:  # noqa: BLE001 - logged: the write's caller has moved on
                log.warning("gdm: a %s was not stored: %s", what, exc)
        self._later.submit(logged)

    def settle(self) -> None:
        """Block until the writes queued by `later` have landed (off the loop, or where they are few)."""
        self._later.settle()

    async def settled(self) -> None:
        """Wait, off the loop, for the writes queued by `later`."""
        await self._later.settled()
