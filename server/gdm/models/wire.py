"""The chat-completion wire format as litellm takes and returns it: messages made safe for the
provider, and the text, usage and JSON of what comes back (no litellm import here)."""

from __future__ import annotations

import json
from typing import Any

from gdm.models.types import Usage

# Providers whose wire format carries tool input as an object: litellm must parse the arguments
# text of earlier calls and raises on invalid JSON, which would end the task one turn after the
# model sent a malformed call (seen with anthropic/). OpenAI-style providers keep the text.
_STRUCTURED_TOOL_INPUT = ("anthropic/", "bedrock/", "vertex_ai/", "gemini/", "vertex_ai_beta/")


def wire_messages(model: str, messages: list[dict]) -> list[dict]:
    """Shallow copies of the messages; for structured-input providers, invalid tool-call JSON
    in earlier assistant turns becomes `{}` (the tool result already told the model why)."""
    out = [dict(message) for message in messages]
    if not model.startswith(_STRUCTURED_TOOL_INPUT):
        return out
    for message in out:
        if message.get("role") != "assistant" or not message.get("tool_calls"):
            continue
        message["tool_calls"] = [_with_object_arguments(call) for call in message["tool_calls"]]
    return out


def _with_object_arguments(call: dict) -> dict:
    function = call.get("function") or {}
    try:
        parsed = json.loads(function.get("arguments") or "")
    except json.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict):
        return call
    return {**call, "function": {**function, "arguments": "{}"}}


def delta_text(chunk: Any) -> str:
    choices = getattr(chunk, "choices", None) or []
    return "".join(getattr(getattr(choice, "delta", None), "content", None) or "" for choice in choices)


def usage_of(raw_usage: Any) -> Usage | None:
    if not isinstance(raw_usage, dict):
        return None
    prompt, completion = raw_usage.get("prompt_tokens"), raw_usage.get("completion_tokens")
    if prompt is None and completion is None:
        return None
    try:
        return Usage(int(prompt or 0), int(completion or 0))
    except (TypeError, ValueError):
        return None  # a server's garbage counts: gdm estimates the tokens instead


def jsonable(value: Any) -> Any:
    """A JSON round trip: what the store can keep, whatever litellm left in the dump."""
    return json.loads(json.dumps(value, default=str))
