"""Fill in the middle at an OpenAI-compatible `/completions` endpoint, over HTTP without litellm.

An inline completion has a budget of a few milliseconds of gdm's own time per keystroke. For the
servers that users run beside their editor for that — vLLM, llama.cpp, Ollama's `/v1`, LM Studio,
a proxy, the scripted model — litellm's `atext_completion` added ~5 ms to each call on top of the
HTTP round trip (measured: 6.3 vs 1.1 ms in-process): its logging, a cost calculation that gdm
does again from its own price book, a client lookup and two copies of the response. So a model
named `openai/<name>` or `text-completion-openai/<name>` at an `apiBase` is asked here: the same
request body litellm sends (`model`, `prompt`, `suffix`, `max_tokens`, `stop`), the same key rules
(`apiKeyEnv`, else OPENAI_API_KEY, else none), the same LLMError kinds and messages. Every other
provider (Codestral, OpenAI's own API, every chat) stays with litellm.

One connection pool per event loop, kept for the session: a completion reuses the open connection.
Cancelling the caller cancels the request (the connection is dropped, the server stops generating).
httpx is imported at the first call (litellm has loaded it by then), not with this module.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import TYPE_CHECKING, Any

from gdm.models.llm_errors import LLMError, from_http
from gdm.models.types import ModelConfig, ModelReply, Usage
from gdm.models.wire import usage_of

if TYPE_CHECKING:
    import httpx

    from gdm.models.cost import PriceBook

PREFIXES = ("openai/", "text-completion-openai/")
POOL_CONNECTIONS = 4


def direct(model: str, api_base: str | None) -> bool:
    """Whether a fill-in-the-middle call of `model` goes through this adapter (an OpenAI-compatible
    server at `apiBase`; `supports_fim` has already said the model takes a suffix)."""
    return bool(api_base) and model.startswith(PREFIXES)


def filled_reply(prices: PriceBook, model: str, prompt: str, suffix: str, raw: dict) -> ModelReply:
    """A `/completions` answer (this adapter's, or litellm's dumped) as a ModelReply, its cost from
    gdm's price book; tokens estimated (characters / 4) where the server counted none."""
    choices = raw.get("choices")
    first = choices[0] if isinstance(choices, list) and choices else None
    if not isinstance(first, dict) or not isinstance(first.get("text") or "", str):
        raise LLMError("bad_response", f"The model server for {model} answered a completion with no choices "
                       "or no text in them.", model=model)
    text = first.get("text") or ""
    usage = usage_of(raw.get("usage")) or Usage(max(1, (len(prompt) + len(suffix)) // 4), max(0, len(text) // 4))
    cost = prices.cost(model, usage.tokens_in, usage.tokens_out)
    return ModelReply(text, [], usage, model, cost, first.get("finish_reason"), raw)


class FimEndpoint:
    """POSTs `/completions` for a session; one httpx client per event loop it is used on."""

    def __init__(self) -> None:
        self._clients: dict[asyncio.AbstractEventLoop, httpx.AsyncClient] = {}

    def _client(self) -> httpx.AsyncClient:
        import httpx  # noqa: PLC0415 - loaded with litellm before the first completion

        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            for gone in [other for other in self._clients if other.is_closed()]:
                del self._clients[gone]
            limits = httpx.Limits(max_connections=POOL_CONNECTIONS, max_keepalive_connections=POOL_CONNECTIONS)
            client = self._clients[loop] = httpx.AsyncClient(limits=limits, trust_env=False)
        return client

    async def fill(self, config: ModelConfig, model: str, api_key: str | None, prompt: str, suffix: str,
                   stop: list[str] | None) -> dict[str, Any]:
        """The server's JSON answer (`choices[0].text`, `usage`); LLMError on any failure."""
        assert config.api_base, "direct() is checked first"
        body: dict[str, Any] = {"model": model.split("/", 1)[1], "prompt": prompt, "suffix": suffix,
                                "max_tokens": config.max_output_tokens}
        if stop:
            body["stop"] = stop
        key = api_key or os.environ.get("OPENAI_API_KEY")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        url = config.api_base.rstrip("/") + "/completions"
        import httpx  # noqa: PLC0415 - see _client

        try:
            response = await self._client().post(url, json=body, headers=headers, timeout=config.timeout_s)
        except httpx.HTTPError as exc:
            raise from_http(model, config, exc=exc) from exc
        if response.status_code >= 400:
            raise from_http(model, config, status=response.status_code, detail=_said(response),
                            retry_after=response.headers.get("retry-after"))
        try:
            answer = response.json()
        except json.JSONDecodeError as exc:
            raise from_http(model, config, exc=exc, detail=response.text[:200]) from exc
        if not isinstance(answer, dict):
            raise LLMError("bad_response", f"The model server for {model} at {config.api_base} answered a "
                           f"completion with {type(answer).__name__}, not an object.", model=model)
        return answer


def _said(response: httpx.Response) -> str:
    """The server's own words about a refusal: its error message when it sent JSON, else the body."""
    try:
        data = response.json()
    except ValueError:
        return response.text.strip()[:300]
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return error["message"]
    return str(error or data)[:300]
