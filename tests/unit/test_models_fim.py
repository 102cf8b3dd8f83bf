"""LLMClient.fill over both of its real HTTP paths to the scripted model's `/v1/completions`:
litellm's `atext_completion` with `suffix`, and gdm's own OpenAI-compatible adapter (openai_fim.py,
for a model at an `apiBase`) — text, usage, cost, errors, the breaker, cancel, keys — and which
models take a suffix (`supports_fim`) and which go direct."""

from __future__ import annotations

import asyncio

import pytest

from gdm.models.breaker import CircuitBreaker
from gdm.models import openai_fim
from gdm.models.llm import LLMClient, LLMError, ModelConfig, supports_fim
from gdm.models.openai_fim import FimEndpoint
from gdm.models.runner import ModelLoop
from gdm.scripted import ScriptedModel

PRICES = {"openai/scripted": {"inputPerMTok": 1.0, "outputPerMTok": 2.0}}
SCRIPT = {"completions": [
    {"prefix_ends_with": "def add(", "text": "a, b):", "usage": {"prompt_tokens": 1000, "completion_tokens": 10}},
    {"prompt_contains": ["slow"], "text": "late", "fault": {"delay_s": 3, "times": 99}},
    {"prompt_contains": ["down"], "text": "never", "fault": {"status": 503, "times": 99}},
    {"prompt_contains": ["busy"], "text": "never", "fault": {"status": 429, "retry_after": 7, "times": 99}},
    {"prompt_contains": ["noise"], "text": "never", "fault": {"garbage": True, "times": 99}},
    {"prompt_contains": ["hollow"], "text": "never", "fault": {"empty_choices": True, "times": 99}},
]}


@pytest.fixture
def server():
    with ScriptedModel(SCRIPT) as model:
        yield model


@pytest.fixture(params=["litellm", "direct"])
def path(request) -> str:
    return request.param


def client(server: ScriptedModel, path: str = "litellm", api_base: str | None = None, **kw) -> LLMClient:
    config = ModelConfig(model="openai/scripted", api_base=api_base or server.base_url, prices=PRICES, timeout_s=10,
                         num_retries=0, api_key_env=kw.pop("api_key_env", None))
    return LLMClient(config, retry_backoff_s=0, fim=FimEndpoint() if path == "direct" else None, **kw)


def test_fill_sends_prompt_and_suffix_and_prices_the_reply(server, path):
    reply = asyncio.run(client(server, path).fill("x = 1\ndef add(", "\n\nprint(add(1, 2))", stop=["\n\n"]))
    assert reply.text == "a, b):" and reply.tool_calls == []
    assert (reply.usage.tokens_in, reply.usage.tokens_out) == (1000, 10)
    assert reply.cost_usd == pytest.approx((1000 * 1.0 + 10 * 2.0) / 1e6)
    sent = server.requests[-1]
    assert (sent["prompt"], sent["suffix"], sent["stop"]) == ("x = 1\ndef add(", "\n\nprint(add(1, 2))", ["\n\n"])
    assert (sent["model"], sent["max_tokens"]) == ("scripted", 4096)


def test_fill_on_the_model_loop_too(server):
    loop = ModelLoop()
    try:
        assert asyncio.run(client(server, model_loop=loop).fill("def add(", "")).text == "a, b):"
    finally:
        loop.close()


def test_a_refused_request_is_a_bad_request_and_a_failing_server_opens_the_breaker(server, path):
    with pytest.raises(LLMError) as refused:
        asyncio.run(client(server, path).fill("nothing fits", ""))
    assert refused.value.kind == "bad_request" and "no completion rule fits" in refused.value.message
    breaker = CircuitBreaker(threshold=2, cooldown_s=60)
    failing = client(server, path, breaker=breaker)
    for _ in range(2):
        with pytest.raises(LLMError) as down:
            asyncio.run(failing.fill("down", ""))
        assert down.value.kind == "server"
    with pytest.raises(LLMError) as opened:
        asyncio.run(failing.fill("def add(", ""))
    assert opened.value.kind == "circuit_open"


def test_cancel_stops_the_call(server, path):
    async def cancelled() -> None:
        call = asyncio.ensure_future(client(server, path).fill("slow", ""))
        while not any(r.get("prompt") == "slow" for r in server.requests):
            await asyncio.sleep(0.01)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
    asyncio.run(asyncio.wait_for(cancelled(), 2.5))  # well before the 3 s answer


def test_busy_garbage_hollow_and_unreachable_servers_are_told_apart(server, path):
    def failure(prompt: str, **kw) -> LLMError:
        with pytest.raises(LLMError) as caught:
            asyncio.run(client(server, path, **kw).fill(prompt, ""))
        return caught.value

    busy = failure("busy")
    assert busy.kind == "rate_limit" and busy.retry_after_s == 7 and busy.retryable
    assert failure("noise").kind == "bad_response"
    assert failure("hollow").kind == "bad_response"
    gone = failure("def add(", api_base="http://127.0.0.1:9/v1")  # nothing listens on the discard port
    assert gone.kind == "connection" and "127.0.0.1:9" in gone.message


def test_the_key_is_sent_as_a_bearer_token_from_api_key_env(server, path, monkeypatch):
    monkeypatch.setenv("GDM_TEST_FIM_KEY", "sk-test-fim-0123456789")
    asyncio.run(client(server, path, api_key_env="GDM_TEST_FIM_KEY").fill("def add(", ""))
    sent = {name.lower(): value for name, value in server.headers[-1].items()}
    assert sent.get("authorization") == "Bearer sk-test-fim-0123456789"


@pytest.mark.parametrize("model, base, direct", [
    ("openai/scripted", "http://127.0.0.1:1/v1", True),
    ("text-completion-openai/deepseek-chat", "https://api.deepseek.com/beta", True),
    ("openai/scripted", None, False),
    ("text-completion-codestral/codestral-latest", None, False),
    ("text-completion-codestral/codestral-latest", "https://codestral.mistral.ai/v1", False),
])
def test_which_fills_go_through_gdms_own_adapter(model, base, direct):
    assert openai_fim.direct(model, base) is direct


def test_no_model_is_a_config_error():
    with pytest.raises(LLMError) as caught:
        asyncio.run(LLMClient(ModelConfig(model=None)).fill("a", "b"))
    assert caught.value.kind == "config"


@pytest.mark.parametrize("model, base, fim", [
    ("text-completion-codestral/codestral-latest", None, True),
    ("text-completion-openai/deepseek-chat", "https://api.deepseek.com/beta", True),
    ("openai/scripted", "http://127.0.0.1:1/v1", True),
    ("openai/qwen2.5-coder:1.5b-base", "http://localhost:11434/v1", True),
    ("openai/gpt-4.1", "http://proxy:4000", False),
    ("openai/gpt-4.1", None, False),
    ("openai/scripted", None, False),
    ("anthropic/claude-sonnet-4-5", None, False),
    ("ollama/qwen2.5-coder", "http://localhost:11434", False),
])
def test_which_models_fill_in_the_middle(model, base, fim):
    assert supports_fim(model, base) is fim
