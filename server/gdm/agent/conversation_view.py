"""What a panel lists and renders of conversations: the payloads of `gdm.conversation.list` and
`gdm.conversation.get` (DESIGN.md), built from the store alone, so they are the same after a restart.

A conversation's messages are each task's prompt, then per model call the assistant message (its
text, its tool calls, its cost) and the results of its tool calls, with the patches each produced.
They come from the turns' replies and the tool-call rows, not from the requests: compaction may
have stubbed old tool results in what a model saw later, but the panel shows what happened.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from gdm.agent.conversation import FollowUpRefused, assistant_message
from gdm.tools.facts import facts_of

if TYPE_CHECKING:
    from gdm.store.repo import Store

RESULT_CHARS = 2000  # of each tool result, as in `toolResult` task events
DEFAULT_LIMIT = 50


def listing(store: Store, workspace: str, limit: int | None = None) -> dict[str, Any]:
    """`{conversations: [{conversationId, title, prompt, taskIds, costUsd, updatedAt}]}`, newest first."""
    found = sorted(store.conversations(workspace), key=lambda c: c["updated_at"], reverse=True)
    found = found[: limit if limit is not None else DEFAULT_LIMIT]
    titles = store.task_titles([c["task_ids"][0] for c in found])
    return {"conversations": [{"conversationId": c["conversation_id"], "title": titles.get(c["task_ids"][0]),
                               "prompt": c["prompt"], "taskIds": c["task_ids"], "costUsd": round(c["cost_usd"], 6),
                               "updatedAt": c["updated_at"]} for c in found]}


def messages(store: Store, workspace: str, conversation_id: str) -> dict[str, Any]:
    """`{conversationId, costUsd, messages: [...]}`; FollowUpRefused for an unknown conversation or
    another workspace's."""
    tasks = store.conversation_tasks(conversation_id)
    if not tasks:
        raise FollowUpRefused(f"there is no conversation {conversation_id!r} (gdm.conversation.list names them)")
    if tasks[0]["workspace"] != workspace:
        raise FollowUpRefused(f"conversation {conversation_id!r} belongs to another workspace "
                              f"({tasks[0]['workspace']})")
    ids = [t["id"] for t in tasks]
    patch_ids = [p["id"] for p in store.patches_of_tasks(ids)]
    titles, costs = store.task_titles(ids), store.task_usd(ids)
    turns: dict[str, list[dict]] = {}
    for turn in store.turn_replies(ids):
        turns.setdefault(turn["task_id"], []).append(turn)
    calls: dict[str, list[dict]] = {}
    for row in store.tool_calls_of_tasks(ids):
        calls.setdefault(row["task_id"], []).append(row)
    out: list[dict[str, Any]] = []
    for task in tasks:
        out.append({"taskId": task["id"], "role": "user", "text": task["prompt"], "status": task["status"],
                    "title": titles.get(task["id"]), "costUsd": round(costs.get(task["id"], 0.0), 6)})
        out += _task_messages(task["id"], turns.get(task["id"], []), calls.get(task["id"], []), patch_ids)
    return {"conversationId": conversation_id, "costUsd": round(sum(costs.values()), 6), "messages": out}


def _task_messages(task_id: str, turns: list[dict], tool_calls: list[dict], patch_ids: list[str]) -> list[dict[str, Any]]:
    """One task's model calls and tool results, in order."""
    calls_by_turn: dict[int, dict[str, dict]] = {}
    for row in tool_calls:
        calls_by_turn.setdefault(row["turn_index"], {})[row["call_id"]] = row
    out: list[dict[str, Any]] = []
    for turn in turns:
        reply = assistant_message(turn["response"])
        calls = reply.get("tool_calls") or []
        message: dict[str, Any] = {"taskId": task_id, "role": "assistant", "text": reply.get("content"),
                                   "model": turn["model"], "costUsd": turn["cost_usd"]}
        if calls:
            message["toolCalls"] = [{"id": c["id"], "name": c["function"]["name"],
                                     "arguments": _parsed(c["function"]["arguments"])} for c in calls]
        out.append(message)
        ran = calls_by_turn.get(turn["index"], {})
        for call in calls:
            row = ran.get(call["id"])
            if row is None:
                continue
            result = row["result"]
            tool: dict[str, Any] = {"taskId": task_id, "role": "tool", "toolCallId": call["id"], "name": row["name"],
                                    "ok": not row["is_error"], "text": result[:RESULT_CHARS],
                                    "facts": facts_of(row["name"], not row["is_error"], result)}
            made = [p for p in patch_ids if re.search(re.escape(p) + r"(?![\w-])", result)]
            if made:
                tool["patchIds"] = made
            out.append(tool)
    return out


def _parsed(arguments: str) -> Any:
    """Tool-call arguments as the object the model meant, or the raw text when it is not JSON."""
    try:
        return json.loads(arguments) if arguments.strip() else {}
    except json.JSONDecodeError:
        return arguments
