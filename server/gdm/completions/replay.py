"""Inline completions replayed offline: the recorded calls of a session (models/replay.py's
`Recording.completions`) answered by `ReplayCompletions`, a completion model client (`fill` for
fill in the middle, `complete` for the chat hole filler) that hands back the reply recorded for the
same request, and `check`, which asks each recorded request again through it and cleans the answer
as the engine does: the same suggestion must come out (no network, no cost).
"""

from __future__ import annotations

import json

from gdm.completions.clean import clean
from gdm.completions.prompt import HOLE, Window, window
from gdm.models.llm import LLMError, ModelReply, Usage


class ReplayCompletions:
    """Answers completion requests from recorded calls: the call with the same request, else none."""

    def __init__(self, recorded: list[dict]) -> None:
        self._by_request = {_key(c["mode"], c["request"]): c for c in recorded}
        self.asked = 0

    async def fill(self, prompt: str, suffix: str, stop: list[str] | None = None) -> ModelReply:
        """The recorded fill-in-the-middle reply to this prompt and suffix."""
        return self._reply("fim", {"prompt": prompt, "suffix": suffix, "stop": stop})

    async def complete(self, messages: list[dict], tools: list[dict] | None = None, on_text: object = None) -> ModelReply:
        """The recorded hole-filler reply to these messages."""
        return self._reply("chat", {"messages": messages})

    def _reply(self, mode: str, request: dict) -> ModelReply:
        self.asked += 1
        call = self._by_request.get(_key(mode, request))
        if call is None:
            raise LLMError("bad_response", "Replay: this completion request was not recorded.", False, model="replay")
        raw = call["response"]
        choice = (raw.get("choices") or [{}])[0]
        text = choice.get("text") if mode == "fim" else (choice.get("message") or {}).get("content")
        return ModelReply(text or "", [], Usage(call["tokens_in"], call["tokens_out"]), call["model"],
                          call["cost_usd"], choice.get("finish_reason"), raw)


def _key(mode: str, request: dict) -> str:
    return mode + json.dumps(request, sort_keys=True)


def recorded_window(call: dict) -> Window:
    """The window a recorded call was asked at (what cleaning needs: the line around the cursor and
    what follows it), from its request."""
    request = call["request"]
    if call["mode"] == "fim":
        prefix, suffix = request["prompt"], request.get("suffix") or ""
    else:
        user = request["messages"][-1]["content"]
        file = user if user.startswith("File ") else user[user.index("\n\nFile ") + 2:]
        prefix, _hole, suffix = file.split(":\n", 1)[1].partition(HOLE)
    return window(prefix + suffix, len(prefix), len(prefix) + 1, len(suffix) + 1)


async def check(recorded: list[dict]) -> list[str]:
    """Ask every recorded completion again (offline); how the replay differs (empty: the same)."""
    client = ReplayCompletions(recorded)
    problems = []
    for index, call in enumerate(recorded, 1):
        request = call["request"]
        try:
            if call["mode"] == "fim":
                reply = await client.fill(request["prompt"], request.get("suffix") or "", request.get("stop"))
            else:
                reply = await client.complete(request["messages"])
        except LLMError as error:
            problems.append(f"completion {index}: {error.message}")
            continue
        suggestion = clean(reply.text, recorded_window(call), chat=call["mode"] == "chat")
        text = suggestion.text if suggestion is not None else ""
        if text != call["text"]:
            problems.append(f"completion {index}: suggested {text!r}, recorded {call['text']!r}")
    return problems
