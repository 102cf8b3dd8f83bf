"""Model access and cheap-model work: the session's model clients (one circuit breaker, one model
loop for every task), and what `cheapModel` does beside a task — its title, and the summaries
compaction asks for — each call's cost the task's, never failing the task.

A collaborator of agent/session.py.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from gdm.agent import compaction
from gdm.agent.compaction import Compactor
from gdm.agent.events import CostRecorded, Event
from gdm.agent.spending import Spending
from gdm.agent.store_writes import off_loop
from gdm.config import Settings
from gdm.context.secrets import RedactingClient, Redactor
from gdm.models import tiers
from gdm.models.breaker import CircuitBreaker
from gdm.models.cost import PriceBook
from gdm.models.llm import LLMClient, LLMError, ModelConfig, ModelReply
from gdm.models.openai_fim import FimEndpoint
from gdm.models.runner import ModelLoop

log = logging.getLogger(__name__)

NEVER = 1 << 62  # a compaction budget no conversation reaches


class ModelAccess:
    """The model clients of a session's tasks, sharing its circuit breaker and model loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # One breaker per session: a provider that failed in the last task stays avoided in the next.
        self.breaker = CircuitBreaker()
        self.model_loop = ModelLoop()  # litellm's calls run there, off the editor's loop
        self.fim = FimEndpoint()  # fills at an OpenAI-compatible apiBase, without litellm (openai_fim.py)

    def update_settings(self, settings: Settings) -> None:
        """The next client is made from these settings."""
        self.settings = settings

    def config(self) -> ModelConfig:
        """The litellm client settings from the current gdm settings."""
        s = self.settings
        return ModelConfig(model=s.model, api_base=s.api_base, api_key_env=s.api_key_env,
                           fallback_model=s.fallback_model, prices=s.prices_json(), timeout_s=s.timeout_s)

    def client(self, config: ModelConfig, prices: PriceBook) -> LLMClient:
        """The model client of a task, sharing the session's circuit breaker."""
        return LLMClient(config, prices, breaker=self.breaker, model_loop=self.model_loop, fim=self.fim)


class CheapModel:
    """Titles and compaction summaries from `cheapModel` (a summary: else the task's model)."""

    def __init__(self, models: ModelAccess, spending: Spending) -> None:
        self.models, self.spending = models, spending

    def _client(self, cheap: str, max_tokens: int) -> LLMClient:
        config = tiers.cheap_config(self.models.config(), cheap, max_tokens)
        return self.models.client(config, self.spending.prices)

    def _audit(self, task_id: str, kind: str, detail: dict[str, Any]) -> None:
        self.spending.store.add_audit(self.spending.session_id, task_id, kind, detail)

    async def _ask(self, task_id: str, messages: list[dict], max_tokens: int, redactor: Redactor,
                   what: str) -> ModelReply | None:
        """One small call of `cheapModel`; None when none is set, the call could pass a budget, or it
        fails (logged: cheap work never fails a task)."""
        cheap = self.spending.settings.cheap_model
        if not cheap:
            return None
        client = self._client(cheap, max_tokens)
        # Counting tokens may load a tokenizer (seconds, the first time): off the event loop.
        if not await asyncio.to_thread(self.spending.fits_budget, task_id, client, messages):
            log.info("task %s: no %s from %s, the call could pass a budget", task_id, what, cheap)
            return None
        try:
            return await RedactingClient(client, redactor).complete(messages)
        except LLMError as exc:
            log.warning("no %s from %s: %s", what, cheap, exc.message)
            return None

    async def title(self, task_id: str, prompt: str, redactor: Redactor) -> str | None:
        """A short title from `cheapModel`, its cost counted as the task's; None when no cheap model
        is set, the call could pass a budget, or it fails (a title never fails a task)."""
        messages = tiers.title_messages(prompt)
        reply = await self._ask(task_id, messages, tiers.TITLE_MAX_TOKENS, redactor, "task title")
        if reply is None:
            return None
        title = tiers.clean_title(reply.text)
        await off_loop(self._record_title, task_id, messages, reply, title)
        return title

    def _record_title(self, task_id: str, messages: list[dict], reply: ModelReply, title: str | None) -> None:
        self.spending.charge(task_id, reply)
        self._audit(task_id, "task.title", {"model": reply.model, "title": title, "request": messages,
                                            "response": reply.raw})

    async def commit_message(self, task_id: str, requests: list[str], summaries: list[str], diff: str,
                             redactor: Redactor) -> str | None:
        """A commit message from `cheapModel` for a change (its cost the task's); None when no cheap
        model is set, the call could pass a budget, or it fails (the caller then writes one itself)."""
        messages = tiers.commit_messages(requests, summaries, diff)
        reply = await self._ask(task_id, messages, tiers.COMMIT_MAX_TOKENS, redactor, "commit message")
        if reply is None:
            return None

        def record() -> None:
            self.spending.charge(task_id, reply)
            self._audit(task_id, "task.commit_message", {"model": reply.model, "request": messages,
                                                         "response": reply.raw})
        await off_loop(record)
        return reply.text

    async def compactor(self, llm: Any, redactor: Redactor, budget: int | None, keep: int) -> Compactor:
        """The task's compaction: its budget from the model's input window (or a replay's recording),
        unless `budget` sets it."""
        if budget is None and callable(getattr(llm, "recorded_compaction", None)):
            # A replay compacts where the recording did, or never.
            budget, keep = llm.recorded_compaction() or (NEVER, keep)
        if budget is None:
            window = getattr(llm, "context_window", None)
            # litellm's table: loading it may import litellm (seconds, the first time): off the loop.
            budget = compaction.budget_tokens(await asyncio.to_thread(window) if callable(window) else None)
        policy = (budget, keep)

        async def summarize(task_id: str, request: list[dict]) -> tuple[str, list[Event]] | None:
            return await self.summarize(task_id, request, llm, redactor, policy)
        return Compactor(budget, summarize, keep)

    async def summarize(self, task_id: str, request: list[dict], llm: Any, redactor: Redactor,
                        policy: tuple[int, int]) -> tuple[str, list[Event]] | None:
        """A summary for compaction from `cheapModel` (else the task's model), its cost the task's;
        None when the call could pass a budget or fails (the task then goes on uncompacted)."""
        cheap = self.spending.settings.cheap_model
        client = self._client(cheap, tiers.SUMMARY_MAX_TOKENS) if cheap else llm
        if not await asyncio.to_thread(self.spending.fits_budget, task_id, client, request):
            log.info("task %s: no compaction, the summary call could pass a budget", task_id)
            return None
        try:
            reply = await RedactingClient(client, redactor).complete(request)
        except LLMError as exc:
            log.warning("no compaction summary from %s: %s", client.config.model, exc.message)
            return None
        if not reply.text.strip():
            return None
        detail = {"model": reply.model, "budgetTokens": policy[0], "keepRecent": policy[1], "summary": reply.text.strip(),
                  "request": request, "response": reply.raw}

        def record() -> None:
            self.spending.charge(task_id, reply)
            self._audit(task_id, "task.compaction", detail)
        await off_loop(record)
        return reply.text, [CostRecorded(task_id, reply.model, reply.usage.tokens_in, reply.usage.tokens_out,
                                         reply.cost_usd)]
