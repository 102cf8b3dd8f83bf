"""The scripted model's text completions: `POST /v1/completions` (prompt + suffix → text), the
fill-in-the-middle endpoint OpenAI-compatible servers (vLLM, llama.cpp, Ollama, DeepSeek) offer.

A script's optional `completions` list holds rules, the first that fits answers:

    {"prefix_ends_with": "def add(",      # the prompt ends with this (optional)
     "suffix_starts_with": "\\n\\ndef",     # the suffix starts with this (optional)
     "prompt_contains": ["from calc"],     # each string occurs in the prompt (optional)
     "text": "a, b):",                     # the answer, or:
     "continue_from": "…a whole file…",    # answer with what follows the prompt's end in this text
     "lines": 1,                           # with continue_from: how many lines (default 1)
     "usage": {...}, "fault": {...}}       # as for chat turns

`continue_from` makes an oracle for benchmarks and typing tests: the longest end of the prompt
found in the text is located and what follows it, to the end of the line, is the completion.
Pure logic on dicts, like script.py (which validates with these rules); the HTTP side is server.py.
"""

from __future__ import annotations

import time
from typing import Any

RULE_KEYS = {"prefix_ends_with", "suffix_starts_with", "prompt_contains", "text", "continue_from", "lines",
             "usage", "fault"}
_NEEDLES = (400, 200, 120, 80, 48, 32, 24, 16, 12, 8, 6, 4, 3, 2, 1)


def validate(rules: Any, fail: Any, check_keys: Any, validate_fault: Any) -> None:
    """Check the `completions` list (`fail`, `check_keys`, `validate_fault`: script.py's helpers)."""
    if not isinstance(rules, list) or not rules:
        fail("completions", "expected a non-empty list")
    for index, rule in enumerate(rules):
        where = f"completions[{index}]"
        check_keys(rule, RULE_KEYS, where)
        if ("text" in rule) == ("continue_from" in rule):
            fail(where, "give either 'text' or 'continue_from'")
        for key in ("prefix_ends_with", "suffix_starts_with", "text", "continue_from"):
            if key in rule and not isinstance(rule[key], str):
                fail(f"{where}.{key}", "expected a string")
        contains = rule.get("prompt_contains", [])
        if not isinstance(contains, list) or not all(isinstance(c, str) for c in contains):
            fail(f"{where}.prompt_contains", "expected a list of strings")
        lines = rule.get("lines", 1)
        if not isinstance(lines, int) or isinstance(lines, bool) or lines < 1:
            fail(f"{where}.lines", "expected a positive integer")
        if "fault" in rule:
            validate_fault(rule["fault"], f"{where}.fault")


def prompt_text(body: dict) -> str:
    """The request's prompt as one string (OpenAI allows a list of prompts: the first counts)."""
    prompt = body.get("prompt")
    if isinstance(prompt, list):
        prompt = prompt[0] if prompt else ""
    return prompt if isinstance(prompt, str) else ""


def select_rule(script: dict, prompt: str, suffix: str) -> tuple[int, dict] | None:
    """The first rule that fits, with its index; None when none does."""
    for index, rule in enumerate(script.get("completions") or []):
        if not prompt.endswith(rule.get("prefix_ends_with", "")):
            continue
        if not suffix.startswith(rule.get("suffix_starts_with", "")):
            continue
        if all(needle in prompt for needle in rule.get("prompt_contains", [])):
            return index, rule
    return None


def answer_text(rule: dict, prompt: str) -> str:
    """What a rule answers for this prompt."""
    if "text" in rule:
        return str(rule["text"])
    return continuation(str(rule["continue_from"]), prompt, int(rule.get("lines", 1)))


def continuation(target: str, prompt: str, lines: int = 1) -> str:
    """What follows the end of `prompt` in `target`, up to the end of `lines` lines ('' if not found)."""
    for size in _NEEDLES:
        if size > len(prompt):
            continue
        at = target.rfind(prompt[-size:])
        if at < 0:
            continue
        start = at + size
        end = start
        for line in range(lines):
            newline = target.find("\n", end + (1 if line else 0))
            if newline < 0:
                return target[start:]
            end = newline
        return target[start:end]
    return ""


def body(text: str, model: str, index: int, prompt: str, usage: dict | None) -> dict:
    """A `text_completion` response."""
    usage = dict(usage or {})
    usage.setdefault("prompt_tokens", max(1, len(prompt) // 4))
    usage.setdefault("completion_tokens", max(1, len(text) // 4) if text else 0)
    usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    return {"id": f"cmpl-scripted-{index}", "object": "text_completion", "created": int(time.time()),
            "model": model, "choices": [{"text": text, "index": 0, "logprobs": None, "finish_reason": "stop"}],
            "usage": usage}
