"""The litellm adapter: one model call with retries, fallback, streaming, usage and cost.

This is the only module in gdm that imports litellm, and it does so lazily (first model call,
in a worker thread): the import costs seconds and ~170 MB, and the language server must answer
`initialize` long before that. Everything litellm raises is turned into an LLMError (llm_errors.py) whose
`kind` the agent can act on and whose `message` a user can act on.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import sys
from typing import Any, Awaitable, Callable

from gdm.models.breaker import CircuitBreaker
from gdm.models.cost import PriceBook
from gdm.models.llm_errors import LLMError, classify
from gdm.models.openai_fim import FimEndpoint, filled_reply
from gdm.models.openai_fim import direct as direct_fim
from gdm.models.runner import ModelLoop
from gdm.models.types import ModelConfig, ModelReply, ToolCallRequest, Usage
from gdm.models.wire import delta_text, jsonable, usage_of, wire_messages

__all__ = ["NO_MODEL_MESSAGE", "LLMClient", "LLMError", "ModelConfig", "ModelReply", "ToolCallRequest", "Usage",
           "litellm_context_window", "litellm_price_lookup", "supports_fim", "text_token_counter"]

log = logging.getLogger(__name__)

NO_MODEL_MESSAGE = "No model is set: set gdm.model (e.g. openai/gpt-4.1) or GDM_MODEL."
# OpenAI-compatible servers (vLLM, the scripted model, a keyless proxy) ignore the key, but
# the OpenAI client refuses to send a request without one.
PLACEHOLDER_KEY = "sk-gdm-no-key"
# A Retry-After longer than this is not worth waiting for inside one call: go to the fallback.
MAX_RETRY_AFTER_S = 20.0
# Providers whose text completion takes a `suffix` (fill in the middle) through litellm as it is.
FIM_PREFIXES = ("text-completion-codestral/", "text-completion-openai/")
# litellm routes records below WARNING to sys.stdout, which would corrupt an LSP stream.
_LITELLM_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy")


def _litellm() -> Any:
    """Import and quiet litellm (cheap after the first call: Python caches the module)."""
    # Without this the import fetches the price table from the network (8 s seen here).
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    # Before the import too: it already logs at DEBUG, to stdout, if the root logger allows.
    for name in _LITELLM_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    first = "litellm" not in sys.modules
    import litellm

    litellm.suppress_debug_info = True
    if first:
        # litellm and what it imports leave ~1M long-lived objects; each full collection walked
        # them all, stopping every thread ~0.3 s mid-stream (measured: the worst code action
        # latency while tasks stream). Frozen, collections skip them.
        gc.freeze()
    return litellm


def classify_error(exc: BaseException, model: str, config: ModelConfig) -> LLMError | None:
    """Map an exception from a litellm call to an LLMError, or None if it is not a call failure."""
    return classify(exc, model, config, _litellm())


def litellm_price_lookup(model: str) -> tuple[float, float] | None:
    """(USD per input token, USD per output token) from litellm's local table, or None."""
    entry = _litellm().model_cost.get(model)
    if not isinstance(entry, dict):
        return None
    per_in, per_out = entry.get("input_cost_per_token"), entry.get("output_cost_per_token")
    if per_in is None or per_out is None:
        return None
    return float(per_in), float(per_out)


def litellm_context_window(model: str | None) -> int | None:
    """The model's input window in tokens from litellm's local table (with or without the provider
    prefix), or None when the model is not in it."""
    if not model:
        return None
    table = _litellm().model_cost
    for name in (model, model.split("/", 1)[-1]):
        entry = table.get(name)
        if isinstance(entry, dict):
            window = entry.get("max_input_tokens") or entry.get("max_tokens")
            if isinstance(window, int) and window > 0:
                return window
    return None


def supports_fim(model: str, api_base: str | None) -> bool:
    """Whether `model` takes a fill-in-the-middle text completion (`atext_completion` with `suffix`):
    Codestral and explicit text-completion models, and `openai/<name>` at an `apiBase` (vLLM, llama.cpp,
    Ollama's /v1, a proxy) unless the name is one of OpenAI's chat models, which litellm sends to chat.
    Imports litellm: call it off the event loop."""
    if model.startswith(FIM_PREFIXES):
        return True
    if model.startswith("openai/") and api_base:
        return model.split("/", 1)[1] not in _litellm().open_ai_chat_completion_models
    return False


class LLMClient:
    """Calls the configured model through litellm, with retries, fallback, and cost."""

    def __init__(self, config: ModelConfig, prices: PriceBook | None = None, *,
                 retry_backoff_s: float = 0.5, breaker: CircuitBreaker | None = None,
                 model_loop: ModelLoop | None = None, fim: FimEndpoint | None = None):
        """`retry_backoff_s` is the first retry's delay (doubling after); tests set it to 0.

        `breaker` is shared by the clients of one session (it outlives a task); None: no breaker.
        `model_loop`: where the HTTP calls run (the session's; None: on the caller's loop).
        `fim`: gdm's own HTTP client for fills at an OpenAI-compatible `apiBase` (openai_fim.py).
        """
        self.config = config
        self.prices = prices if prices is not None else PriceBook(config.prices, litellm_price_lookup)
        self.retry_backoff_s = retry_backoff_s
        self.breaker = breaker
        self.model_loop = model_loop
        self.fim = fim

    async def warm_up(self) -> None:
        """Import litellm in a worker thread so the event loop never stalls on it (once: a thread
        hop per call costs an inline completion a millisecond)."""
        if "litellm" not in sys.modules:
            await asyncio.to_thread(_litellm)

    async def complete(self, messages: list[dict], tools: list[dict] | None = None,
                       on_text: Callable[[str], None] | None = None) -> ModelReply:
        """One model turn (OpenAI chat format in, ModelReply out); streams text to on_text if given.

        Retries 429/5xx/timeout/connection errors num_retries times, then tries fallback_model.
        Raises LLMError; asyncio.CancelledError propagates and stops the HTTP call.
        """
        primary = self.config.model
        if not primary:
            raise LLMError("config", NO_MODEL_MESSAGE, model=None)
        api_key = self._configured_key()
        await self.warm_up()
        candidates = [primary]
        if self.config.fallback_model and self.config.fallback_model != primary:
            candidates.append(self.config.fallback_model)
        failures: list[LLMError] = []
        for model in candidates:
            try:
                return await self._with_retries(model, api_key, messages, tools, on_text)
            except LLMError as error:
                failures.append(error)
                if not error.retryable or error.partial_text:
                    break
        raise _combined(failures)

    async def fill(self, prompt: str, suffix: str, stop: list[str] | None = None) -> ModelReply:
        """One fill-in-the-middle call (`atext_completion` with `suffix`) of the primary model: no
        retries and no fallback (a completion is worth only what it is worth now); the breaker counts it.
        Raises LLMError; asyncio.CancelledError stops the HTTP call."""
        model = self.config.model
        if not model:
            raise LLMError("config", NO_MODEL_MESSAGE, model=None)
        api_key = self._configured_key()
        await self.warm_up()
        refusal = self.breaker.refusal(model) if self.breaker is not None else None
        if refusal is not None:
            raise LLMError("circuit_open", refusal, True, model=model)

        async def attempt() -> ModelReply:
            if self.fim is not None and direct_fim(model, self.config.api_base):
                # On the caller's loop: one small request and answer, no hop to the model loop.
                raw = await self.fim.fill(self.config, model, api_key, prompt, suffix, stop)
                return filled_reply(self.prices, model, prompt, suffix, raw)
            call = self._fill(model, api_key, prompt, suffix, stop)
            return await (self.model_loop.run(call) if self.model_loop is not None else call)
        return await self._guarded(model, attempt)

    async def _fill(self, model: str, api_key: str | None, prompt: str, suffix: str,
                    stop: list[str] | None) -> ModelReply:
        litellm = _litellm()
        kwargs = self._request_kwargs(litellm, model, api_key, [], None)
        del kwargs["messages"]
        kwargs.update(prompt=prompt, suffix=suffix, **({"stop": stop} if stop else {}))
        raw = await self._send(model, litellm.atext_completion(**kwargs))
        return filled_reply(self.prices, model, prompt, suffix, raw)

    def context_window(self) -> int | None:
        """The primary model's input window in tokens, when litellm knows it."""
        return litellm_context_window(self.config.model)

    def count_tokens(self, messages: list[dict]) -> int:
        """Prompt tokens by litellm's tokenizer for the model; ~chars/4 if that fails."""
        try:
            return int(_litellm().token_counter(model=self.config.model or "gpt-4o", messages=messages))
        except (ValueError, TypeError, KeyError, AttributeError, OSError) as exc:
            log.debug("token_counter failed (%s); estimating from characters", exc)
            return max(1, len(json.dumps(messages, default=str)) // 4)

    # -- one model, with retries ----------------------------------------------------------------

    async def _with_retries(self, model: str, api_key: str | None, messages: list[dict],
                            tools: list[dict] | None, on_text: Callable[[str], None] | None) -> ModelReply:
        attempts = max(0, self.config.num_retries) + 1
        for attempt in range(attempts):
            refusal = self.breaker.refusal(model) if self.breaker is not None else None
            if refusal is not None:
                raise LLMError("circuit_open", refusal, True, model=model)
            try:
                return await self._guarded_call(model, api_key, messages, tools, on_text)
            except LLMError as error:
                if not error.retryable or error.partial_text or attempt == attempts - 1 or error.circuit_opened:
                    raise
                delay = self.retry_backoff_s * (2**attempt)
                if error.retry_after_s is not None:
                    if error.retry_after_s > MAX_RETRY_AFTER_S:
                        raise
                    delay = max(delay, error.retry_after_s)
                log.info("model %s: %s; retrying in %.1fs", model, error.kind, delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _guarded_call(self, model: str, api_key: str | None, messages: list[dict],
                            tools: list[dict] | None, on_text: Callable[[str], None] | None) -> ModelReply:
        """One attempt, its outcome told to the breaker; a failure that opens it says so."""
        return await self._guarded(model, lambda: self._call_once(model, api_key, messages, tools, on_text))

    async def _guarded(self, model: str, attempt: Callable[[], Awaitable[ModelReply]]) -> ModelReply:
        if self.breaker is None:
            return await attempt()
        try:
            reply = await attempt()
        except LLMError as error:
            if self.breaker.failure(model, error.kind):
                error.circuit_opened = True
                error.message = (f"{error.message} gdm stops calling {model} for {self.breaker.cooldown_s:g} s "
                                 f"after {self.breaker.threshold} consecutive failures (circuit breaker).")
                error.args = (error.message,)
            raise
        except BaseException:
            self.breaker.release(model)  # cancelled or unmapped: no verdict on the provider
            raise
        self.breaker.success(model)
        return reply

    async def _call_once(self, model: str, api_key: str | None, messages: list[dict],
                         tools: list[dict] | None, on_text: Callable[[str], None] | None) -> ModelReply:
        if self.model_loop is None:
            return await self._call(model, api_key, messages, tools, on_text)
        relay = self.model_loop.relay(on_text) if on_text is not None else None
        return await self.model_loop.run(self._call(model, api_key, messages, tools, relay))

    async def _call(self, model: str, api_key: str | None, messages: list[dict],
                    tools: list[dict] | None, on_text: Callable[[str], None] | None) -> ModelReply:
        litellm = _litellm()
        kwargs = self._request_kwargs(litellm, model, api_key, messages, tools)
        if on_text is not None:
            return await self._stream(litellm, model, kwargs, messages, on_text)
        return self._reply(model, await self._send(model, litellm.acompletion(**kwargs)), messages)

    async def _send(self, model: str, request: Any) -> dict:
        """Await one litellm request (a coroutine) and give its response as plain JSON; a failure
        is mapped to LLMError, or re-raised untouched when it is not the provider's."""
        try:
            response = await request
        except Exception as exc:  # mapped to LLMError or re-raised untouched, never swallowed
            error = classify_error(exc, model, self.config)
            if error is None:
                raise
            raise error from exc
        return jsonable(response.model_dump())

    def _request_kwargs(self, litellm: Any, model: str, api_key: str | None, messages: list[dict],
                        tools: list[dict] | None) -> dict:
        kwargs: dict[str, Any] = {
            "model": model,
            # litellm may rewrite messages in place for some providers; the caller keeps its own.
            "messages": wire_messages(model, messages),
            "timeout": self.config.timeout_s,
            "max_tokens": self.config.max_output_tokens,
            # Retries are ours (counted, with fallback); without these the OpenAI client retries too.
            "num_retries": 0,
            "max_retries": 0,
            "drop_params": True,
        }
        if tools:
            kwargs["tools"] = tools
        if self.config.api_base:
            kwargs["api_base"] = self.config.api_base
            if api_key is None:
                env = litellm.validate_environment(model=model, api_base=self.config.api_base)
                if not env.get("keys_in_environment"):
                    api_key = PLACEHOLDER_KEY
        if api_key is not None:
            kwargs["api_key"] = api_key
        return kwargs

    def _configured_key(self) -> str | None:
        name = self.config.api_key_env
        if not name:
            return None
        value = os.environ.get(name)
        if not value:
            raise LLMError(
                "config",
                f"gdm.apiKeyEnv names the environment variable {name}, but it is not set: "
                f"export {name}=<your key> where the editor starts gdm, or change gdm.apiKeyEnv.",
                model=self.config.model,
            )
        return value

    # -- streaming ------------------------------------------------------------------------------

    async def _stream(self, litellm: Any, model: str, kwargs: dict, messages: list[dict],
                      on_text: Callable[[str], None]) -> ModelReply:
        kwargs = {**kwargs, "stream": True, "stream_options": {"include_usage": True}}
        chunks: list[Any] = []
        shown: list[str] = []
        try:
            stream = await litellm.acompletion(**kwargs)
            try:
                async for chunk in stream:
                    chunks.append(chunk)
                    piece = delta_text(chunk)
                    if piece:
                        shown.append(piece)
                        on_text(piece)
                    # Buffered chunks are parsed without suspending: yield so that code actions
                    # and other tasks are served between chunks (measured: 0.4 s stalls otherwise).
                    await asyncio.sleep(0)
            finally:
                await stream.aclose()  # on cancel too: releases the HTTP connection
        except Exception as exc:  # mapped to LLMError or re-raised untouched, never swallowed
            error = classify_error(exc, model, self.config)
            if error is None:
                raise
            error.partial_text = "".join(shown)
            raise error from exc
        # litellm joins the tool-call argument pieces verbatim (invalid JSON stays as sent).
        # Joining thousands of chunks takes seconds of CPU: off the event loop.
        built = await asyncio.to_thread(litellm.stream_chunk_builder, chunks, messages=messages) if chunks else None
        return self._reply(model, jsonable(built.model_dump()) if built is not None else {}, messages)

    # -- building the reply ---------------------------------------------------------------------

    def _reply(self, model: str, raw: dict, messages: list[dict]) -> ModelReply:
        choices = raw.get("choices") or []
        if not choices:
            raise LLMError("bad_response", f"The model server for {model} answered with no choices "
                           "(an empty reply): try again, or check gdm.apiBase.", model=model)
        choice = choices[0]
        message = choice.get("message") or {}
        text = message.get("content") or ""
        calls = [
            ToolCallRequest(
                id=str(call.get("id") or f"call_{i}"),
                name=str((call.get("function") or {}).get("name") or ""),
                arguments=(call.get("function") or {}).get("arguments") or "",
            )
            for i, call in enumerate(message.get("tool_calls") or [])
        ]
        usage = usage_of(raw.get("usage"))
        if usage is None:
            produced = text + "".join(c.name + c.arguments for c in calls)
            usage = Usage(self.count_tokens(messages), max(1, len(produced) // 4) if produced else 0)
        cost = self.prices.cost(model, usage.tokens_in, usage.tokens_out)
        return ModelReply(text, calls, usage, model, cost, choice.get("finish_reason"), raw)


def _combined(failures: list[LLMError]) -> LLMError:
    """The error to raise after the primary (and perhaps the fallback) failed."""
    last = failures[-1]
    if len(failures) == 1:
        return last
    first = failures[0]
    return LLMError(
        last.kind,
        f"{first.message} The fallback model {last.model} failed too: {last.message}",
        last.retryable, model=last.model, status=last.status, partial_text=last.partial_text,
    )


def text_token_counter(model: str | None) -> Callable[[str], int] | None:
    """Tokens of a text by litellm's tokenizer for `model` (imports litellm: call off the event
    loop), or None when there is no model or its tokenizer cannot be loaded."""
    if not model:
        return None
    litellm = _litellm()

    def count(text: str) -> int:
        return int(litellm.token_counter(model=model, text=text))
    try:
        count("probe")
    except (ValueError, TypeError, KeyError, AttributeError, OSError) as exc:
        log.info("no tokenizer for %s (%s): the code map counts characters / 4", model, exc)
        return None
    return count
