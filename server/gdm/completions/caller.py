"""One completion call of `completionModel`: fill in the middle where the model has it, else chat.

`supports_fim` (models/llm.py) says which models take a `suffix`; one that refuses it anyway (a 4xx:
no FIM template, an endpoint without `/completions`) is asked through the chat hole filler from then
on, this session. Small and quick: one attempt, no fallback model, a short timeout. The session's
circuit breaker and model loop are shared with its tasks (ModelAccess).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from typing import Any

from gdm.agent.cheap_model import ModelAccess
from gdm.completions.prompt import STOP, Window, fim_prompt, hole_filler_messages
from gdm.config import Settings
from gdm.models.cost import PriceBook
from gdm.models.llm import LLMError, ModelReply, supports_fim

log = logging.getLogger(__name__)

MAX_TOKENS = 256
TIMEOUT_S = 15.0


@dataclass(frozen=True)
class Prompt:
    """What one completion asks: the file, its window (redacted) and the context snippets."""

    path: str | None
    window: Window
    snippets: list[str]

    def chars(self) -> int:
        """Characters sent, for the budget's estimate (~4 a token)."""
        return len(self.window.prefix) + len(self.window.suffix) + sum(len(s) for s in self.snippets)


@dataclass(frozen=True)
class Called:
    """A completion call's reply, how it was asked (`fim` or `chat`) and the request, for the record."""

    reply: ModelReply
    mode: str
    request: dict[str, Any]


class ModelCaller:
    """Calls `completionModel` for a session (its model clients: ModelAccess)."""

    def __init__(self, models: ModelAccess) -> None:
        self.models = models
        self.chat_only: set[str] = set()  # models that refused a suffix this session
        self._fim: dict[tuple[str, str | None], bool] = {}

    def model(self, settings: Settings) -> str | None:
        """The model completions use now."""
        return settings.completion_model_name()

    def _client(self, settings: Settings, prices: PriceBook) -> Any:
        config = replace(self.models.config(), model=self.model(settings), fallback_model=None,
                         max_output_tokens=MAX_TOKENS, num_retries=0, timeout_s=min(settings.timeout_s, TIMEOUT_S))
        return self.models.client(config, prices)

    async def fim(self, settings: Settings) -> bool:
        """Whether the model is asked to fill in the middle (litellm's table: off the loop, once)."""
        model = self.model(settings) or ""
        if model in self.chat_only:
            return False
        key = (model, settings.api_base)
        if key not in self._fim:
            self._fim[key] = await asyncio.to_thread(supports_fim, model, settings.api_base)
        return self._fim[key]

    async def call(self, settings: Settings, prices: PriceBook, prompt: Prompt) -> Called:
        """One call; LLMError when the model fails, CancelledError stops it."""
        client = self._client(settings, prices)
        if await self.fim(settings):
            text = fim_prompt(prompt.path, prompt.snippets, prompt.window)
            try:
                reply = await client.fill(text, prompt.window.suffix, stop=STOP)
                return Called(reply, "fim", {"prompt": text, "suffix": prompt.window.suffix, "stop": STOP})
            except LLMError as error:
                if error.kind != "bad_request":
                    raise
                self.chat_only.add(client.config.model)
                log.info("completions: %s refused a fill-in-the-middle call (%s); asking it by chat from now on",
                         client.config.model, error.message)
        messages = hole_filler_messages(prompt.path, prompt.snippets, prompt.window)
        reply = await client.complete(messages)
        return Called(reply, "chat", {"messages": messages})
