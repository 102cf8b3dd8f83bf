"""What a model call takes and gives back, as plain data (no litellm): the configuration, the
assistant's reply, its tool calls and the tokens billed. llm.py fills them; the agent, the
recorder and the replays read them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class ModelConfig:
    """Which model to call and how (from the gdm.* settings)."""

    model: str | None
    api_base: str | None = None
    api_key_env: str | None = None
    fallback_model: str | None = None
    prices: dict | None = None
    timeout_s: float = 120.0
    max_output_tokens: int = 4096
    num_retries: int = 2


@dataclass
class ToolCallRequest:
    """A tool call as the model sent it; `arguments` is the raw JSON text (may be invalid)."""

    id: str
    name: str
    arguments: str


@dataclass
class Usage:
    """Tokens billed for one call."""

    tokens_in: int
    tokens_out: int


@dataclass
class ModelReply:
    """One assistant turn. `model` is the model actually used (may be the fallback)."""

    text: str
    tool_calls: list[ToolCallRequest]
    usage: Usage
    model: str
    cost_usd: float | None
    finish_reason: str | None
    raw: dict  # JSON-able chat.completion-shaped response, for the record and replay
