"""LLMClient failure paths through litellm's real HTTP path: config, retries, fallback, bad replies,
cancellation, and silence on stdout (the LSP stream)."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import textwrap

import pytest

from gdm.models.llm import NO_MODEL_MESSAGE, LLMClient, LLMError, ModelConfig
from gdm.scripted import ScriptedModel

SCRIPT = {"conversations": [
    {"match": "fine", "turns": [{"reply": {"content": "all good, streamed in pieces"}}]},
    {"match": "flaky", "turns": [{"reply": {"content": "worked the second time"},
                                  "fault": {"status": 500, "times": 1}}]},
    {"match": "throttled", "turns": [{"reply": {"content": "fallback here"},
                                      "fault": {"status": 429, "times": 99, "model": "scripted"}}]},
    {"match": "long wait", "turns": [{"reply": {"content": "fallback at once"},
                                      "fault": {"status": 429, "retry_after": 600, "times": 9, "model": "scripted"}}]},
    {"match": "down", "turns": [{"fault": {"status": 503, "times": 99}}]},
    {"match": "denied", "turns": [{"fault": {"status": 401, "times": 99}}]},
    {"match": "garbage", "turns": [{"fault": {"garbage": True, "times": 99}}]},
    {"match": "empty", "turns": [{"fault": {"empty_choices": True, "times": 99}}]},
    {"match": "cut", "turns": [{"reply": {"content": "a reply long enough to be cut in the middle"},
                                "fault": {"cut_stream": True, "times": 99}}]},
    {"match": "slow", "turns": [{"reply": {"content": "late"}, "fault": {"delay_s": 3, "times": 99}}]},
    {"match": "strict", "turns": [{"expect": {"messages_contain": ["the magic word"]}, "reply": {"content": "ok"}}]},
]}


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


@pytest.fixture
def server():
    with ScriptedModel(SCRIPT) as model:
        yield model


def make_client(server: ScriptedModel, **overrides: object) -> LLMClient:
    config = ModelConfig(model="openai/scripted", api_base=server.base_url, **overrides)
    return LLMClient(config, retry_backoff_s=0)


def sent_models(server: ScriptedModel) -> list[str]:
    return [request["model"] for request in server.requests]


async def test_no_model_is_a_config_error():
    with pytest.raises(LLMError) as caught:
        await LLMClient(ModelConfig(model=None)).complete(user("hi"))
    assert (caught.value.kind, caught.value.message, caught.value.retryable) == ("config", NO_MODEL_MESSAGE, False)


async def test_missing_key_variable_is_a_config_error_naming_it(server, monkeypatch):
    monkeypatch.delenv("GDM_TEST_MISSING_KEY", raising=False)
    client = make_client(server, api_key_env="GDM_TEST_MISSING_KEY")
    with pytest.raises(LLMError) as caught:
        await client.complete(user("flaky"))
    assert caught.value.kind == "config"
    assert "GDM_TEST_MISSING_KEY" in caught.value.message
    assert server.requests == []


async def test_key_variable_that_is_set_is_used(server, monkeypatch):
    monkeypatch.setenv("GDM_TEST_KEY", "sk-test")
    reply = await make_client(server, api_key_env="GDM_TEST_KEY").complete(user("flaky"))
    assert reply.text == "worked the second time"


@pytest.mark.parametrize("stream", [False, True])
async def test_server_error_then_success_is_retried(server, stream):
    on_text = [].append if stream else None
    reply = await make_client(server).complete(user("flaky"), on_text=on_text)
    assert reply.text == "worked the second time"
    assert sent_models(server) == ["scripted", "scripted"]


async def test_persistent_server_error_exhausts_retries(server):
    with pytest.raises(LLMError) as caught:
        await make_client(server, num_retries=2).complete(user("down"))
    assert (caught.value.kind, caught.value.retryable, caught.value.status) == ("server", True, 503)
    assert "injected HTTP 503" in caught.value.message
    assert len(server.requests) == 3  # exactly ours: litellm and the OpenAI client do not retry too


@pytest.mark.parametrize("stream", [False, True])
async def test_rate_limited_primary_falls_back(server, stream):
    client = make_client(server, fallback_model="openai/scripted-fallback", num_retries=1)
    reply = await client.complete(user("throttled"), on_text=[].append if stream else None)
    assert reply.text == "fallback here"
    assert reply.model == "openai/scripted-fallback"
    assert sent_models(server) == ["scripted", "scripted", "scripted-fallback"]


async def test_long_retry_after_goes_straight_to_fallback(server):
    client = make_client(server, fallback_model="openai/scripted-fallback", num_retries=5)
    reply = await client.complete(user("long wait"))
    assert reply.model == "openai/scripted-fallback"
    assert sent_models(server) == ["scripted", "scripted-fallback"]


async def test_rate_limit_without_fallback_says_so(server):
    with pytest.raises(LLMError) as caught:
        await make_client(server, num_retries=0).complete(user("throttled"))
    assert caught.value.kind == "rate_limit" and caught.value.retryable
    assert "fallbackModel" in caught.value.message


async def test_both_models_failing_reports_both(server):
    client = make_client(server, fallback_model="openai/scripted-fallback", num_retries=0)
    with pytest.raises(LLMError) as caught:
        await client.complete(user("down"))
    assert caught.value.kind == "server"
    assert "openai/scripted" in caught.value.message and "openai/scripted-fallback failed too" in caught.value.message


async def test_auth_error_is_neither_retried_nor_sent_to_fallback(server):
    client = make_client(server, fallback_model="openai/scripted-fallback", api_key_env=None)
    with pytest.raises(LLMError) as caught:
        await client.complete(user("denied"))
    assert (caught.value.kind, caught.value.retryable) == ("auth", False)
    assert sent_models(server) == ["scripted"]


@pytest.mark.parametrize("stream", [False, True])
async def test_garbage_is_a_bad_response(server, stream):
    with pytest.raises(LLMError) as caught:
        await make_client(server).complete(user("garbage"), on_text=[].append if stream else None)
    assert (caught.value.kind, caught.value.retryable) == ("bad_response", False)
    assert "not valid JSON" in caught.value.message
    assert len(server.requests) == 1


@pytest.mark.parametrize("stream", [False, True])
async def test_empty_choices_is_a_bad_response(server, stream):
    with pytest.raises(LLMError) as caught:
        await make_client(server).complete(user("empty"), on_text=[].append if stream else None)
    assert caught.value.kind == "bad_response"


async def test_cut_stream_after_text_is_not_retried(server):
    deltas: list[str] = []
    client = make_client(server, fallback_model="openai/scripted-fallback")
    with pytest.raises(LLMError) as caught:
        await client.complete(user("cut"), on_text=deltas.append)
    assert caught.value.kind == "connection"
    assert deltas and caught.value.partial_text == "".join(deltas)
    assert len(server.requests) == 1  # text already shown: a retry would show it twice


async def test_cut_non_streaming_body_is_a_retried_connection_error(server):
    with pytest.raises(LLMError) as caught:
        await make_client(server, num_retries=1).complete(user("cut"))
    assert caught.value.kind == "connection"
    assert len(server.requests) == 2


async def test_refused_connection_is_a_connection_error():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = LLMClient(ModelConfig(model="openai/scripted", api_base=f"http://127.0.0.1:{port}/v1",
                                   num_retries=0))
    with pytest.raises(LLMError) as caught:
        await client.complete(user("hi"))
    assert (caught.value.kind, caught.value.retryable) == ("connection", True)
    assert f"127.0.0.1:{port}" in caught.value.message


async def test_timeout_is_classified(server):
    client = make_client(server, timeout_s=0.3, num_retries=0)
    with pytest.raises(LLMError) as caught:
        await client.complete(user("slow"))
    assert (caught.value.kind, caught.value.retryable) == ("timeout", True)


async def test_expectation_failure_is_recorded_and_visible(server):
    with pytest.raises(LLMError) as caught:
        await make_client(server).complete(user("strict, no password"))
    assert caught.value.kind == "bad_request" and not caught.value.retryable
    assert "scripted model: expectation failed" in caught.value.message
    assert len(server.failures) == 1 and "the magic word" in server.failures[0]


@pytest.mark.parametrize("stream", [False, True])
async def test_cancel_stops_the_call(server, stream):
    task = asyncio.create_task(make_client(server).complete(user("slow"), on_text=[].append if stream else None))
    while not server.requests:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(server.requests) == 1


async def test_calls_print_nothing_on_stdout(server, capfd):
    client = make_client(server, fallback_model="openai/scripted-fallback", num_retries=0)
    await client.complete(user("fine"), on_text=lambda _: None)
    for text in ("garbage", "denied", "down", "empty"):
        with pytest.raises(LLMError):
            await client.complete(user(text))
    assert capfd.readouterr().out == ""


def test_import_and_calls_print_nothing_on_stdout_even_with_debug_logging(server):
    """In a fresh process: the litellm import, a streamed call and failed calls, root logger at DEBUG."""
    code = textwrap.dedent(f"""
        import asyncio, logging, sys
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
        from gdm.models.llm import LLMClient, LLMError, ModelConfig
        client = LLMClient(ModelConfig(model="openai/scripted", api_base={server.base_url!r}, num_retries=0),
                           retry_backoff_s=0)
        async def main():
            await client.complete([{{"role": "user", "content": "fine"}}], on_text=lambda _: None)
            for text in ("garbage", "denied", "down"):
                try:
                    await client.complete([{{"role": "user", "content": text}}])
                except LLMError as error:
                    print(error.kind, file=sys.stderr)
        asyncio.run(main())
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout == ""
    assert "bad_response" in result.stderr and "auth" in result.stderr
    assert json.dumps(server.requests[0]["messages"]) == json.dumps([{"role": "user", "content": "fine"}])
