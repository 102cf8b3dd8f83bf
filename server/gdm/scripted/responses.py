"""OpenAI chat-completions bodies for one scripted turn: whole responses and SSE stream chunks."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from gdm.scripted.script import Selection, message_text

# How many characters of text or arguments go into one stream delta: small enough that a
# short reply still arrives as several deltas, which is what the streaming tests look for.
STREAM_PIECE_CHARS = 8


@dataclass(frozen=True)
class Reply:
    """The assistant message a turn answers with, resolved to wire form."""

    content: str | None
    tool_calls: list[dict]  # [{"id", "name", "arguments"}] with arguments as raw text
    finish_reason: str
    usage: dict


def build_reply(selection: Selection, messages: list[dict]) -> Reply:
    """Resolve a turn's reply: deterministic tool-call ids, argument text, usage (estimated if absent)."""
    spec = selection.spec.get("reply", {})
    calls = []
    for i, call in enumerate(spec.get("tool_calls", [])):
        if "arguments_raw" in call:
            arguments = call["arguments_raw"]
        else:
            arguments = json.dumps(call.get("arguments", {}))
        calls.append({"id": f"call_{selection.turn}_{i}", "name": call["name"], "arguments": arguments})
    content = spec.get("content")
    finish = spec.get("finish_reason") or ("tool_calls" if calls else "stop")
    usage = dict(selection.spec.get("usage") or {})
    if "prompt_tokens" not in usage:
        usage["prompt_tokens"] = _estimate_tokens("".join(message_text(m) for m in messages))
    if "completion_tokens" not in usage:
        produced = (content or "") + "".join(c["name"] + c["arguments"] for c in calls)
        usage["completion_tokens"] = _estimate_tokens(produced)
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    return Reply(content, calls, finish, usage)


def _estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4)


def completion_body(reply: Reply, model: str, selection: Selection) -> dict:
    """A non-streaming `chat.completion` response."""
    message: dict = {"role": "assistant", "content": reply.content}
    if reply.tool_calls:
        message["tool_calls"] = [
            {"id": c["id"], "type": "function", "function": {"name": c["name"], "arguments": c["arguments"]}}
            for c in reply.tool_calls
        ]
    return {
        "id": _response_id(selection),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": reply.finish_reason}],
        "usage": reply.usage,
    }


def empty_choices_body(model: str, selection: Selection) -> dict:
    """A well-formed response with no choices at all (a provider bug seen in the wild)."""
    return {
        "id": _response_id(selection),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [],
        "usage": {"prompt_tokens": 1, "completion_tokens": 0, "total_tokens": 1},
    }


def stream_chunks(reply: Reply, model: str, selection: Selection) -> list[dict]:
    """The `chat.completion.chunk` objects of a streamed reply, in order.

    Role first, then content in small pieces, then each tool call (id and name in its first
    delta, arguments in pieces), then a final chunk with finish_reason and usage.
    """
    base = {"id": _response_id(selection), "object": "chat.completion.chunk",
            "created": int(time.time()), "model": model}

    def chunk(delta: dict, finish: str | None = None) -> dict:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    chunks = [chunk({"role": "assistant", "content": ""})]
    for piece in _pieces(reply.content or ""):
        chunks.append(chunk({"content": piece}))
    for index, call in enumerate(reply.tool_calls):
        head = {"index": index, "id": call["id"], "type": "function",
                "function": {"name": call["name"], "arguments": ""}}
        chunks.append(chunk({"tool_calls": [head]}))
        for piece in _pieces(call["arguments"]):
            chunks.append(chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}))
    final = chunk({}, reply.finish_reason)
    final["usage"] = reply.usage
    chunks.append(final)
    return chunks


def _pieces(text: str) -> list[str]:
    return [text[i : i + STREAM_PIECE_CHARS] for i in range(0, len(text), STREAM_PIECE_CHARS)]


def _response_id(selection: Selection) -> str:
    return f"chatcmpl-scripted-{selection.conversation}-{selection.turn}"


def error_body(message: str, status: int) -> dict:
    """An OpenAI-style error object."""
    kinds = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
             429: "rate_limit_error"}
    kind = kinds.get(status, "server_error" if status >= 500 else "invalid_request_error")
    return {"error": {"message": message, "type": kind, "param": None, "code": str(status)}}
