"""The Anthropic messages dialect of the scripted model: `POST /v1/messages`, streaming or not.

A request is turned into OpenAI-shaped chat messages so that the same script, turn selection
and expectations serve both dialects; the reply is written back as an Anthropic `message`
(or its SSE events). Stdlib only, like the rest of gdm.scripted.
"""

from __future__ import annotations

import json
from typing import Any

from gdm.scripted.responses import STREAM_PIECE_CHARS, Reply
from gdm.scripted.script import Selection

_STOP_REASONS = {"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens"}
_ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error", 529: "overloaded_error"}


def is_messages_request(body: Any) -> bool:
    """True for a body shaped like an Anthropic messages request."""
    return isinstance(body, dict) and isinstance(body.get("messages"), list)


def to_chat_messages(body: dict) -> list[dict]:
    """The request's system prompt and messages as OpenAI chat messages (tool results as `tool`)."""
    out: list[dict] = []
    system = body.get("system")
    if system:
        out.append({"role": "system", "content": _text_of(system)})
    for message in body["messages"]:
        if not isinstance(message, dict):
            continue
        role, content = message.get("role"), message.get("content")
        if isinstance(content, str):
            out.append({"role": role, "content": content})
            continue
        blocks = [b for b in content or [] if isinstance(b, dict)]
        if role == "assistant":
            out.append(_assistant(blocks))
            continue
        for block in blocks:
            if block.get("type") == "tool_result":
                out.append({"role": "tool", "tool_call_id": block.get("tool_use_id"),
                            "content": _text_of(block.get("content"))})
        texts = [b.get("text", "") for b in blocks if b.get("type") == "text"]
        if texts:
            out.append({"role": role, "content": "\n".join(texts)})
    return out


def _assistant(blocks: list[dict]) -> dict:
    text = "".join(b.get("text", "") for b in blocks if b.get("type") == "text")
    calls = [{"id": b.get("id"), "type": "function",
              "function": {"name": b.get("name"), "arguments": json.dumps(b.get("input") or {})}}
             for b in blocks if b.get("type") == "tool_use"]
    message: dict = {"role": "assistant", "content": text or None}
    if calls:
        message["tool_calls"] = calls
    return message


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(b.get("text", "") for b in content if isinstance(b, dict))
    return ""


def _tool_input(arguments: str) -> dict:
    """A tool call's input object; invalid JSON (arguments_raw) cannot be an object: {}."""
    try:
        value = json.loads(arguments)
    except json.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _tool_id(call: dict) -> str:
    return "toolu_" + call["id"].removeprefix("call_")


def _usage(reply: Reply) -> dict:
    return {"input_tokens": reply.usage["prompt_tokens"], "output_tokens": reply.usage["completion_tokens"]}


def message_body(reply: Reply, model: str, selection: Selection) -> dict:
    """A non-streaming Anthropic `message` response."""
    content: list[dict] = []
    if reply.content:
        content.append({"type": "text", "text": reply.content})
    for call in reply.tool_calls:
        content.append({"type": "tool_use", "id": _tool_id(call), "name": call["name"],
                        "input": _tool_input(call["arguments"])})
    return {"id": _message_id(selection), "type": "message", "role": "assistant", "model": model,
            "content": content, "stop_reason": _STOP_REASONS.get(reply.finish_reason, reply.finish_reason),
            "stop_sequence": None, "usage": _usage(reply)}


def empty_body(model: str, selection: Selection) -> dict:
    """The Anthropic counterpart of OpenAI's empty choices: a message with no content at all."""
    return {"id": _message_id(selection), "type": "message", "role": "assistant", "model": model,
            "content": [], "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 0}}


def stream_frames(reply: Reply, model: str, selection: Selection) -> list[str]:
    """The SSE frames of a streamed reply: message_start, one block per text and tool call with
    its deltas (invalid argument JSON is streamed verbatim), message_delta, message_stop."""
    frames = [_frame("message_start", {"type": "message_start", "message": {
        **message_body(reply, model, selection), "content": [], "stop_reason": None,
        "usage": {"input_tokens": reply.usage["prompt_tokens"], "output_tokens": 1}}})]
    index = 0
    if reply.content:
        frames.append(_frame("content_block_start", {"type": "content_block_start", "index": index,
                                                     "content_block": {"type": "text", "text": ""}}))
        for piece in _pieces(reply.content):
            frames.append(_frame("content_block_delta", {"type": "content_block_delta", "index": index,
                                                         "delta": {"type": "text_delta", "text": piece}}))
        frames.append(_frame("content_block_stop", {"type": "content_block_stop", "index": index}))
        index += 1
    for call in reply.tool_calls:
        block = {"type": "tool_use", "id": _tool_id(call), "name": call["name"], "input": {}}
        frames.append(_frame("content_block_start", {"type": "content_block_start", "index": index,
                                                     "content_block": block}))
        for piece in _pieces(call["arguments"]):
            frames.append(_frame("content_block_delta", {"type": "content_block_delta", "index": index,
                                                         "delta": {"type": "input_json_delta", "partial_json": piece}}))
        frames.append(_frame("content_block_stop", {"type": "content_block_stop", "index": index}))
        index += 1
    stop = _STOP_REASONS.get(reply.finish_reason, reply.finish_reason)
    frames.append(_frame("message_delta", {"type": "message_delta",
                                           "delta": {"stop_reason": stop, "stop_sequence": None},
                                           "usage": {"output_tokens": reply.usage["completion_tokens"]}}))
    frames.append(_frame("message_stop", {"type": "message_stop"}))
    return frames


def error_body(message: str, status: int) -> dict:
    """An Anthropic error object."""
    kind = _ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    return {"type": "error", "error": {"type": kind, "message": message}}


def _frame(event: str, data: dict) -> str:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


def _pieces(text: str) -> list[str]:
    return [text[i : i + STREAM_PIECE_CHARS] for i in range(0, len(text), STREAM_PIECE_CHARS)]


def _message_id(selection: Selection) -> str:
    return f"msg_scripted_{selection.conversation}_{selection.turn}"
