"""LLMClient through litellm's real HTTP path to the scripted model: replies, streaming, usage, cost.

No mocks: every call goes litellm -> OpenAI client -> HTTP -> gdm.scripted.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gdm.models.cost import Price, PriceBook
from gdm.models.llm import LLMClient, ModelConfig, ModelReply, ToolCallRequest, Usage
from gdm.scripted import ScriptedModel

PRICES = {"openai/scripted": {"inputPerMTok": 1.0, "outputPerMTok": 2.0}}
TOOLS = [
    {"type": "function", "function": {
        "name": "read_file", "description": "Read a file.",
        "parameters": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}}},
    {"type": "function", "function": {
        "name": "edit_file", "description": "Edit a file.",
        "parameters": {"type": "object", "properties": {"path": {"type": "string"}}}}},
]
SCRIPT = {"conversations": [
    {"match": "hello", "turns": [
        {"reply": {"content": "Hello there! This reply arrives in several pieces."},
         "usage": {"prompt_tokens": 900, "completion_tokens": 40}}]},
    {"match": "tools", "turns": [
        {"reply": {"content": "Let me look.", "tool_calls": [
            {"name": "read_file", "arguments": {"path": "app.py"}},
            {"name": "edit_file", "arguments_raw": "{\"path\": \"app.py\", oops not json"}]},
         "usage": {"prompt_tokens": 1200, "completion_tokens": 60}},
        {"expect": {"tool_results_contain": ["def greet"]}, "reply": {"content": "Seen it."}}]},
    {"match": "silent", "turns": [{"reply": {"tool_calls": [{"name": "read_file", "arguments": {}}]}}]},
]}


def user(text: str) -> list[dict]:
    return [{"role": "system", "content": "You are gdm."}, {"role": "user", "content": text}]


@pytest.fixture
def server():
    with ScriptedModel(SCRIPT) as model:
        yield model


@pytest.fixture
def client(server, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)  # the placeholder key must do
    return LLMClient(ModelConfig(model="openai/scripted", api_base=server.base_url, prices=PRICES),
                     retry_backoff_s=0)


async def test_non_streaming_text_usage_and_cost(client, server):
    reply = await client.complete(user("hello"))
    assert isinstance(reply, ModelReply)
    assert reply.text == "Hello there! This reply arrives in several pieces."
    assert reply.tool_calls == []
    assert reply.usage == Usage(900, 40)
    assert reply.model == "openai/scripted"
    assert reply.cost_usd == pytest.approx((900 * 1.0 + 40 * 2.0) / 1e6)
    assert reply.finish_reason == "stop"
    assert json.loads(json.dumps(reply.raw))["choices"][0]["message"]["content"] == reply.text
    sent = server.requests[-1]
    assert sent["model"] == "scripted"
    assert sent["messages"] == user("hello")
    assert not sent.get("stream")
    assert sent["max_tokens"] == 4096


async def test_non_streaming_tool_calls_pass_arguments_through_exactly(client, server):
    reply = await client.complete(user("tools please"), tools=TOOLS)
    assert reply.text == "Let me look."
    assert reply.tool_calls == [
        ToolCallRequest("call_0_0", "read_file", '{"path": "app.py"}'),
        ToolCallRequest("call_0_1", "edit_file", '{"path": "app.py", oops not json'),
    ]
    assert reply.finish_reason == "tool_calls"
    # tools reach the wire untouched (and need no `mcp` extra in this litellm)
    assert server.requests[-1]["tools"] == TOOLS


async def test_streaming_text_deltas_arrive_in_order(client, server):
    deltas: list[str] = []
    reply = await client.complete(user("hello"), on_text=deltas.append)
    assert len(deltas) > 3
    assert "".join(deltas) == reply.text == "Hello there! This reply arrives in several pieces."
    assert reply.usage == Usage(900, 40)
    assert reply.cost_usd == pytest.approx((900 * 1.0 + 40 * 2.0) / 1e6)
    assert reply.finish_reason == "stop"
    sent = server.requests[-1]
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}


async def test_streaming_reassembles_tool_calls(client, server):
    deltas: list[str] = []
    reply = await client.complete(user("tools please"), tools=TOOLS, on_text=deltas.append)
    assert "".join(deltas) == "Let me look."
    assert reply.tool_calls == [
        ToolCallRequest("call_0_0", "read_file", '{"path": "app.py"}'),
        ToolCallRequest("call_0_1", "edit_file", '{"path": "app.py", oops not json'),
    ]
    assert reply.usage == Usage(1200, 60)
    assert reply.finish_reason == "tool_calls"
    message = reply.raw["choices"][0]["message"]
    assert [c["function"]["arguments"] for c in message["tool_calls"]] == [
        '{"path": "app.py"}', '{"path": "app.py", oops not json']


async def test_streaming_tool_call_without_text_calls_on_text_never(client):
    deltas: list[str] = []
    reply = await client.complete(user("silent"), tools=TOOLS, on_text=deltas.append)
    assert deltas == []
    assert reply.text == ""
    assert reply.tool_calls == [ToolCallRequest("call_0_0", "read_file", "{}")]


async def test_second_turn_with_tool_results(client, server):
    first = await client.complete(user("tools please"), tools=TOOLS)
    messages = user("tools please") + [
        {"role": "assistant", "content": first.text, "tool_calls": [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in first.tool_calls]},
        {"role": "tool", "tool_call_id": "call_0_0", "content": "def greet():\n    return 'hi'"},
        {"role": "tool", "tool_call_id": "call_0_1", "content": "error: arguments are not valid JSON"},
    ]
    second = await client.complete(messages, tools=TOOLS)
    assert second.text == "Seen it."
    assert server.failures == []


async def test_unknown_price_gives_cost_none(server):
    client = LLMClient(ModelConfig(model="openai/scripted", api_base=server.base_url), retry_backoff_s=0)
    reply = await client.complete(user("hello"))
    assert reply.usage == Usage(900, 40)
    assert reply.cost_usd is None


async def test_explicit_price_book_is_used(server):
    book = PriceBook({"openai/scripted": {"inputPerMTok": 10, "outputPerMTok": 10}}, None)
    client = LLMClient(ModelConfig(model="openai/scripted", api_base=server.base_url), book)
    reply = await client.complete(user("hello"))
    assert reply.cost_usd == pytest.approx(940 * 10 / 1e6)


def test_default_price_book_reads_litellms_table():
    client = LLMClient(ModelConfig(model="openai/gpt-4.1"))
    price = client.prices.price("openai/gpt-4.1")  # litellm keys it as bare "gpt-4.1"
    assert price is not None and price.input_per_mtok > 0 and price.output_per_mtok > 0
    assert client.prices.price("ollama/llama3") == Price(0.0, 0.0)
    assert client.prices.cost("ollama_chat/anything-local", 10_000, 10_000) == 0.0
    assert client.prices.cost("openai/scripted", 1, 1) is None


def test_count_tokens(client, monkeypatch):
    small = client.count_tokens(user("hi"))
    large = client.count_tokens(user("hi " * 500))
    assert 0 < small < large

    import litellm

    def broken(**_: object) -> int:
        raise ValueError("no tokenizer")

    monkeypatch.setattr(litellm, "token_counter", broken)
    assert client.count_tokens(user("x" * 400)) >= 100  # the chars/4 fallback


def test_importing_the_adapter_does_not_import_litellm():
    code = ("import sys, gdm.models.llm, gdm.models.cost, gdm.scripted; "
            "assert 'litellm' not in sys.modules, 'litellm imported eagerly'; print('lazy')")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "lazy"
