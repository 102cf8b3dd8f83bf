"""The scripted-conversation format: loading, validation, and stateless turn selection.

A script is a list of conversations, each a list of turns (see fixtures/scripts/README.md).
Everything here is pure logic on dicts so the HTTP layer stays thin and the selection rules
can be tested without a socket.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from gdm.scripted import completions

_TOP_KEYS = {"conversations", "completions"}
_CONVERSATION_KEYS = {"match", "turns", "name"}
_TURN_KEYS = {"expect", "reply", "usage", "fault"}
_EXPECT_KEYS = {"tool_results_contain", "messages_contain"}
_REPLY_KEYS = {"content", "tool_calls", "finish_reason"}
_TOOL_CALL_KEYS = {"name", "arguments", "arguments_raw"}
_USAGE_KEYS = {"prompt_tokens", "completion_tokens"}
_FAULT_KEYS = {"status", "retry_after", "times", "garbage", "empty_choices", "delay_s", "cut_stream", "model", "chunk_delay_s"}


class ScriptError(ValueError):
    """A script that does not follow the format; the message names the offending place."""


class ScriptMismatch(Exception):
    """A request the script cannot answer (no conversation, exhausted, expectation failed)."""


@dataclass(frozen=True)
class Selection:
    """Which turn of which conversation answers a request."""

    conversation: int
    turn: int
    spec: dict


def load_script(path_or_dict: dict | str | os.PathLike) -> dict:
    """Return a validated script from a dict or a JSON file path; raise ScriptError if malformed."""
    if isinstance(path_or_dict, dict):
        script = path_or_dict
    else:
        try:
            with open(path_or_dict, encoding="utf-8") as handle:
                script = json.load(handle)
        except OSError as exc:
            raise ScriptError(f"cannot read script {os.fspath(path_or_dict)!r}: {exc.strerror}") from exc
        except json.JSONDecodeError as exc:
            raise ScriptError(f"script {os.fspath(path_or_dict)!r} is not valid JSON: {exc}") from exc
    _validate_script(script)
    return script


def _fail(where: str, what: str) -> None:
    raise ScriptError(f"bad script at {where}: {what}")


def _check_keys(obj: Any, allowed: set[str], where: str) -> None:
    if not isinstance(obj, dict):
        _fail(where, f"expected an object, got {type(obj).__name__}")
    unknown = sorted(set(obj) - allowed)
    if unknown:
        _fail(where, f"unknown key(s) {unknown}; allowed: {sorted(allowed)}")


def _check_str_list(value: Any, where: str) -> None:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        _fail(where, "expected a list of strings")


def _validate_script(script: Any) -> None:
    _check_keys(script, _TOP_KEYS, "top level")
    if "completions" in script:
        completions.validate(script["completions"], _fail, _check_keys, _validate_fault)
        script.setdefault("conversations", [])
        if not script["conversations"]:
            return  # a script of text completions only
    conversations = script.get("conversations")
    if not isinstance(conversations, list) or not conversations:
        _fail("conversations", "expected a non-empty list")
    for c_index, conversation in enumerate(conversations):
        where = f"conversations[{c_index}]"
        _check_keys(conversation, _CONVERSATION_KEYS, where)
        if "match" in conversation and not isinstance(conversation["match"], str):
            _fail(f"{where}.match", "expected a string")
        turns = conversation.get("turns")
        if not isinstance(turns, list) or not turns:
            _fail(f"{where}.turns", "expected a non-empty list")
        for t_index, turn in enumerate(turns):
            _validate_turn(turn, f"{where}.turns[{t_index}]")


def _validate_turn(turn: Any, where: str) -> None:
    _check_keys(turn, _TURN_KEYS, where)
    if "expect" in turn:
        _check_keys(turn["expect"], _EXPECT_KEYS, f"{where}.expect")
        for key, value in turn["expect"].items():
            _check_str_list(value, f"{where}.expect.{key}")
    reply = turn.get("reply", {})
    _check_keys(reply, _REPLY_KEYS, f"{where}.reply")
    if "content" in reply and not isinstance(reply["content"], str):
        _fail(f"{where}.reply.content", "expected a string")
    if "finish_reason" in reply and not isinstance(reply["finish_reason"], str):
        _fail(f"{where}.reply.finish_reason", "expected a string")
    calls = reply.get("tool_calls", [])
    if not isinstance(calls, list):
        _fail(f"{where}.reply.tool_calls", "expected a list")
    for i, call in enumerate(calls):
        _validate_tool_call(call, f"{where}.reply.tool_calls[{i}]")
    if "usage" in turn:
        _check_keys(turn["usage"], _USAGE_KEYS, f"{where}.usage")
        for key, value in turn["usage"].items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                _fail(f"{where}.usage.{key}", "expected a non-negative integer")
    if "fault" in turn:
        _validate_fault(turn["fault"], f"{where}.fault")


def _validate_tool_call(call: Any, where: str) -> None:
    _check_keys(call, _TOOL_CALL_KEYS, where)
    if not isinstance(call.get("name"), str) or not call["name"]:
        _fail(f"{where}.name", "expected a non-empty string")
    if "arguments" in call and "arguments_raw" in call:
        _fail(where, "give either 'arguments' (an object) or 'arguments_raw' (text), not both")
    if "arguments" in call and not isinstance(call["arguments"], dict):
        _fail(f"{where}.arguments", "expected an object (use 'arguments_raw' for raw text)")
    if "arguments_raw" in call and not isinstance(call["arguments_raw"], str):
        _fail(f"{where}.arguments_raw", "expected a string")


def _validate_fault(fault: Any, where: str) -> None:
    _check_keys(fault, _FAULT_KEYS, where)
    status = fault.get("status")
    if status is not None and (not isinstance(status, int) or not 400 <= status <= 599):
        _fail(f"{where}.status", "expected an HTTP error status (400-599)")
    for key in ("retry_after", "delay_s"):
        value = fault.get(key)
        if value is not None and (not isinstance(value, (int, float)) or value < 0):
            _fail(f"{where}.{key}", "expected a non-negative number")
    times = fault.get("times", 1)
    if not isinstance(times, int) or times < 1:
        _fail(f"{where}.times", "expected a positive integer")
    if "model" in fault and not isinstance(fault["model"], str):
        _fail(f"{where}.model", "expected a string")


def message_text(message: dict) -> str:
    """All the text of one chat message: content (string or parts) plus tool-call names and arguments."""
    pieces: list[str] = []
    content = message.get("content")
    if isinstance(content, str):
        pieces.append(content)
    elif isinstance(content, list):
        pieces.extend(part.get("text", "") for part in content if isinstance(part, dict))
    for call in message.get("tool_calls") or []:
        function = call.get("function") or {}
        pieces.append(f"{function.get('name', '')} {function.get('arguments', '')}")
    return "\n".join(pieces)


def first_user_text(messages: list[dict]) -> str:
    """The text of the first user message, or '' when there is none."""
    for message in messages:
        if message.get("role") == "user":
            return message_text(message)
    return ""


def select_turn(script: dict, messages: list[dict]) -> Selection:
    """Pick the conversation and turn for a request, statelessly; raise ScriptMismatch if none fits.

    The turn index is the number of assistant messages already in the request, so concurrent
    conversations and retried requests land on the same turn without any server-side state.
    """
    first_user = first_user_text(messages)
    for c_index, conversation in enumerate(script["conversations"]):
        if conversation.get("match", "") not in first_user:
            continue
        turn = sum(1 for message in messages if message.get("role") == "assistant")
        turns = conversation["turns"]
        if turn >= len(turns):
            raise ScriptMismatch(f"scripted model: script exhausted after {len(turns)} turns")
        return Selection(c_index, turn, turns[turn])
    raise ScriptMismatch(
        f"scripted model: no conversation matches the first user message {first_user[:80]!r}"
    )


def check_expectations(spec: dict, messages: list[dict]) -> list[str]:
    """Return one description per unmet expectation of a turn (empty when all hold)."""
    expect = spec.get("expect") or {}
    problems: list[str] = []
    everything = "\n".join(message_text(message) for message in messages)
    for needle in expect.get("messages_contain", []):
        if needle not in everything:
            problems.append(f"messages do not contain {needle!r}")
    tool_results = "\n".join(message_text(message) for message in _trailing_tool_messages(messages))
    for needle in expect.get("tool_results_contain", []):
        if needle not in tool_results:
            problems.append(f"tool results do not contain {needle!r}")
    return problems


def _trailing_tool_messages(messages: list[dict]) -> list[dict]:
    """The tool messages after the last assistant message: the answers to the previous turn."""
    last_assistant = max(
        (i for i, message in enumerate(messages) if message.get("role") == "assistant"), default=-1
    )
    return [m for m in messages[last_assistant + 1 :] if m.get("role") == "tool"]
