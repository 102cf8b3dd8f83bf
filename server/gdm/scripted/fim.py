"""The scripted model's fill-in-the-middle endpoint: `POST /v1/completions` (prompt + suffix → text).

What inline completions call (OpenAI's legacy completions shape, which vLLM, llama.cpp, Ollama's
OpenAI-compatible API and DeepSeek's beta FIM also serve). The script's optional `completions`
list holds rules, tried in order; the first that fits answers:

    {"completions": [{"prefix_endswith": "def divide(", "suffix_startswith": ")",
                      "text": "a: float, b: float", "delay_s": 0.2},
                     {"text": "pass"}]}

`prefix_endswith` / `suffix_startswith` (optional) must hold for the request's `prompt` / `suffix`;
`delay_s` waits before answering (a slow model, for cancellation tests); `usage` overrides the
token counts. No rule fits: HTTP 400. Each request body is kept in `ScriptedModel.completion_requests`.
"""

from __future__ import annotations

import time
from typing import Any

RULE_KEYS = {"prefix_endswith", "suffix_startswith", "text", "delay_s", "usage"}


def validate(rules: Any, fail: Any) -> None:
    """Refuse a malformed `completions` list (`fail(where, what)` raises)."""
    if not isinstance(rules, list):
        fail("completions", "expected a list of rules")
    for index, rule in enumerate(rules):
        where = f"completions[{index}]"
        if not isinstance(rule, dict):
            fail(where, "expected an object")
        unknown = sorted(set(rule) - RULE_KEYS)
        if unknown:
            fail(where, f"unknown key(s) {unknown}")
        if not isinstance(rule.get("text"), str):
            fail(f"{where}.text", "expected a string")


def rule_for(rules: list[dict], prompt: str, suffix: str) -> dict | None:
    """The first rule that fits the request, or None."""
    for rule in rules:
        if prompt.endswith(rule.get("prefix_endswith", "")) and suffix.startswith(rule.get("suffix_startswith", "")):
            return rule
    return None


def answer(rules: list[dict], body: dict) -> tuple[int, dict]:
    """The HTTP status and body answering one completions request."""
    prompt, suffix = body.get("prompt"), body.get("suffix") or ""
    if isinstance(prompt, list):
        prompt = prompt[0] if prompt else ""
    if not isinstance(prompt, str) or not isinstance(suffix, str):
        return 400, _error("scripted model: a completions request needs a string prompt (and suffix)")
    rule = rule_for(rules, prompt, suffix)
    if rule is None:
        return 400, _error(f"scripted model: no completion rule fits the prompt ending {prompt[-40:]!r}")
    if rule.get("delay_s"):
        time.sleep(float(rule["delay_s"]))
    text = rule["text"]
    usage = rule.get("usage") or {"prompt_tokens": max(1, (len(prompt) + len(suffix)) // 4),
                                  "completion_tokens": max(1, len(text) // 4)}
    usage = {**usage, "total_tokens": usage["prompt_tokens"] + usage["completion_tokens"]}
    return 200, {"id": f"cmpl-scripted-{int(time.time() * 1000)}", "object": "text_completion",
                 "created": int(time.time()), "model": str(body.get("model", "scripted")),
                 "choices": [{"index": 0, "text": text, "finish_reason": "stop", "logprobs": None}],
                 "usage": usage}


def _error(message: str) -> dict:
    return {"error": {"message": message, "type": "invalid_request_error", "code": 400}}
