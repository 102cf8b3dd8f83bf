"""Turn requests stored as deltas, and read back whole.

A task's conversation grows by a few messages a turn; storing each turn's whole request wrote the
conversation again every turn (O(turns²) bytes and JSON work). A turn row now holds what its
request gained over the previous turn's: ``{"delta": {"keep": k, "messages": [...]}, "tools": [...]}``
— the first ``k`` messages of the previous request, then these — with ``"sameTools": true`` in place
of the tool schemas when they did not change. Compaction (agent/compaction.py) rewrites older
messages: ``keep`` is then the shorter common prefix, and the row still rebuilds exactly.

Rows written before deltas hold the whole request (``{"messages", "tools"}``) and read as they are.
`rebuild` turns a task's rows, in order, back into whole requests; readers of `Store.turns()`
(replay, export) never see a delta.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class DeltaEncoder:
    """One task's turn requests → delta payloads, in the order they are stored.

    Messages are compared by identity: the loop appends to its conversation and never mutates a
    message it has sent (redaction happens before the first send), and compaction replaces
    entries with new objects. Identity makes the encoding O(new messages) per turn.
    Call `reset` when a row could not be stored, so that the next row is whole again.
    """

    def __init__(self) -> None:
        self._messages: list[dict] = []
        self._tools: Any = None
        self._started = False

    def encode(self, messages: list[dict], tools: Any) -> dict[str, Any]:
        """The payload to store for this request; remembers it as the base of the next."""
        prev = self._messages
        keep, limit = 0, min(len(prev), len(messages))
        while keep < limit and messages[keep] is prev[keep]:
            keep += 1
        payload: dict[str, Any] = {"delta": {"keep": keep, "messages": list(messages[keep:])}}
        if self._started and (tools is self._tools or tools == self._tools):
            payload["sameTools"] = True
        else:
            payload["tools"] = tools
        self._messages, self._tools, self._started = list(messages), tools, True
        return payload

    def reset(self) -> None:
        """Forget the base: the next payload holds the whole request."""
        self._messages, self._tools, self._started = [], None, False


def rebuild(requests: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """A task's stored request payloads, in turn order, as whole requests ``{"messages", "tools"}``.

    Whole (pre-delta) payloads are returned unchanged and become the base of a following delta.
    """
    messages: list[dict] = []
    tools: Any = None
    out: list[dict[str, Any]] = []
    for request in requests:
        delta = request.get("delta") if isinstance(request, dict) else None
        if not isinstance(delta, dict):
            out.append(request)
            messages = list(request.get("messages") or []) if isinstance(request, dict) else []
            tools = request.get("tools") if isinstance(request, dict) else None
            continue
        messages = messages[: int(delta.get("keep", 0))] + list(delta.get("messages") or [])
        if not request.get("sameTools"):
            tools = request.get("tools")
        out.append({"messages": messages, "tools": tools})
    return out
