"""The scripted model's Anthropic dialect: on the wire, and through litellm's anthropic/ code path."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from gdm.models.llm import LLMClient, LLMError, ModelConfig
from gdm.scripted import ScriptedModel
from gdm.scripted.anthropic import to_chat_messages

SCRIPT = {"conversations": [
    {"match": "tools", "turns": [
        {"reply": {"content": "Let me look.", "tool_calls": [
            {"name": "read_file", "arguments": {"path": "app.py"}},
            {"name": "edit_file", "arguments_raw": "{oops"}]},
         "usage": {"prompt_tokens": 1200, "completion_tokens": 60}},
        {"expect": {"tool_results_contain": ["def greet"]}, "reply": {"content": "Seen it."}}]},
    {"match": "busy", "turns": [{"fault": {"status": 529, "times": 1}, "reply": {"content": "calm now"}}]},
    {"match": "cut", "turns": [{"fault": {"cut_stream": True, "times": 9},
                                "reply": {"content": "a long reply that will be cut in the middle"}}]},
]}
TOOLS = [{"type": "function", "function": {"name": name, "description": name, "parameters": {
    "type": "object", "properties": {"path": {"type": "string"}}}}} for name in ("read_file", "edit_file")]
PRICES = {"anthropic/claude-scripted": {"inputPerMTok": 3.0, "outputPerMTok": 15.0}}


@pytest.fixture
def model():
    with ScriptedModel(SCRIPT) as served:
        yield served


def post(url: str, body: dict) -> tuple[int, str]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def messages_url(model: ScriptedModel) -> str:
    return model.base_url + "/messages"


def test_request_becomes_chat_messages_with_tool_results():
    body = {"system": [{"type": "text", "text": "sys"}], "messages": [
        {"role": "user", "content": "tools please"},
        {"role": "assistant", "content": [{"type": "text", "text": "Let me look."},
                                          {"type": "tool_use", "id": "t1", "name": "read_file", "input": {"path": "a"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1",
                                      "content": [{"type": "text", "text": "def greet"}]}]}]}
    assert to_chat_messages(body) == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "tools please"},
        {"role": "assistant", "content": "Let me look.", "tool_calls": [
            {"id": "t1", "type": "function", "function": {"name": "read_file", "arguments": '{"path": "a"}'}}]},
        {"role": "tool", "tool_call_id": "t1", "content": "def greet"},
    ]


def test_non_streaming_message(model):
    status, text = post(messages_url(model), {"model": "claude-x", "max_tokens": 10,
                                              "messages": [{"role": "user", "content": "tools"}]})
    body = json.loads(text)
    assert status == 200 and body["type"] == "message" and body["model"] == "claude-x"
    assert body["content"][0] == {"type": "text", "text": "Let me look."}
    assert body["content"][1] == {"type": "tool_use", "id": "toolu_0_0", "name": "read_file",
                                  "input": {"path": "app.py"}}
    assert body["content"][2]["input"] == {}  # invalid JSON cannot be an input object
    assert body["stop_reason"] == "tool_use"
    assert body["usage"] == {"input_tokens": 1200, "output_tokens": 60}


def test_streaming_events(model):
    status, text = post(messages_url(model), {"model": "claude-x", "max_tokens": 10, "stream": True,
                                              "messages": [{"role": "user", "content": "tools"}]})
    frames = [f for f in text.split("\n\n") if f]
    events = [(f.split("\n")[0].removeprefix("event: "), json.loads(f.split("\n")[1].removeprefix("data: ")))
              for f in frames]
    names = [name for name, _ in events]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    assert all(name == data["type"] for name, data in events)
    partial = "".join(d["delta"]["partial_json"] for _, d in events
                      if d["type"] == "content_block_delta" and d["index"] == 2)
    assert partial == "{oops"  # verbatim when streamed
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"


def test_injected_status_is_an_anthropic_error(model):
    status, text = post(messages_url(model), {"model": "m", "max_tokens": 5,
                                              "messages": [{"role": "user", "content": "busy"}]})
    assert status == 529
    assert json.loads(text) == {"type": "error", "error": {"type": "overloaded_error",
                                                           "message": "scripted model: injected HTTP 529"}}


def test_bad_body_is_a_400(model):
    status, text = post(messages_url(model), {"model": "m"})
    assert status == 400 and json.loads(text)["type"] == "error"


# -- through litellm's anthropic code path ----------------------------------------------------

def client_for(model: ScriptedModel, **config: object) -> LLMClient:
    # litellm's anthropic path appends /v1/messages to apiBase itself.
    base = model.base_url.removesuffix("/v1")
    return LLMClient(ModelConfig(model="anthropic/claude-scripted", api_base=base, prices=PRICES, **config),
                     retry_backoff_s=0)


@pytest.mark.parametrize("stream", [False, True])
async def test_litellm_anthropic_round_trip(model, stream, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)  # the placeholder key must do
    client = client_for(model)
    pieces: list[str] = []
    messages = [{"role": "system", "content": "sys"}, {"role": "user", "content": "tools please"}]
    reply = await client.complete(messages, TOOLS, on_text=pieces.append if stream else None)
    assert reply.text == "Let me look."
    first = reply.tool_calls[0]
    assert (first.name, json.loads(first.arguments)) == ("read_file", {"path": "app.py"})
    assert (reply.usage.tokens_in, reply.usage.tokens_out) == (1200, 60)
    assert reply.cost_usd == pytest.approx((1200 * 3 + 60 * 15) / 1e6)
    if stream:
        assert "".join(pieces) == "Let me look." and len(pieces) > 1
        assert reply.tool_calls[1].arguments == "{oops"
    # The malformed call goes back as {} (litellm must parse it for Anthropic), the task goes on.
    messages.append({"role": "assistant", "content": reply.text, "tool_calls": [
        {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
        for c in reply.tool_calls]})
    messages += [{"role": "tool", "tool_call_id": c.id, "content": "def greet(): ..."} for c in reply.tool_calls]
    second = await client.complete(messages, TOOLS, on_text=pieces.append if stream else None)
    assert second.text == "Seen it."
    assert model.failures == []
    sent = model.requests[-1]
    assert sent["system"] and sent["messages"][1]["content"][2]["input"] == {}


async def test_litellm_anthropic_overloaded_is_retried(model):
    reply = await client_for(model).complete([{"role": "user", "content": "busy"}])
    assert reply.text == "calm now" and len(model.requests) == 2


async def test_litellm_anthropic_cut_stream_is_a_clear_error(model):
    with pytest.raises(LLMError) as caught:
        await client_for(model, num_retries=0).complete([{"role": "user", "content": "cut"}], on_text=lambda _t: None)
    assert caught.value.kind in ("connection", "bad_response")
