"""`session/load`: a stored gdm session replayed to the client as session updates.

Per task, in the order they started: the prompt (`user_message_chunk`), each model turn's text
(`agent_message_chunk`) followed by the tool calls it made, with their results, and each patch as
an edit tool call with its whole-file diff (as proposed: base text → new text) and its review
state in the title; then one `usage_update` with the session's total cost. Read from the store,
the same rows `gdm replay` reads.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from acp import helpers

from gdm.acp import mapping
from gdm.agent import events as ev
from gdm.agent.compaction import DEFAULT_CONTEXT_TOKENS
from gdm.models import replay
from gdm.patches.model import FilePatch

log = logging.getLogger(__name__)

Send = Callable[[Any], Awaitable[None]]


def updates(store: Any, session_id: str, root: Path) -> list[Any]:
    """Every update that retells the session (KeyError when the store has no such session)."""
    recording = replay.Recording.from_store(store, session_id)
    patches = store.patches(session_id=session_id)
    out: list[Any] = []
    last_tokens = 0
    for task in recording.tasks:
        out.append(helpers.update_user_message_text(task.prompt))
        calls: dict[int, list[dict]] = {}
        for row in store.tool_calls(task.task_id):
            calls.setdefault(row["turn_index"], []).append(row)
        for index, turn in enumerate(task.turns):
            reply = replay.reply_from_raw(turn)
            last_tokens = reply.usage.tokens_in + reply.usage.tokens_out
            if reply.text:
                out.append(mapping.message(reply.text))
            for row in calls.get(index, []):
                out += _tool_call(root, task.task_id, row)
        for data in patches:
            if (data.get("taskId") or data.get("task_id")) == task.task_id:
                out += _patch(root, data)
    totals = store.totals(session_id=session_id, task_id=None)
    out.append(mapping.usage(last_tokens, DEFAULT_CONTEXT_TOKENS, totals["sessionUsd"]))
    return out


def _tool_call(root: Path, task_id: str, row: dict) -> list[Any]:
    try:
        args: Any = json.loads(row["arguments"]) if row["arguments"].strip() else {}
    except ValueError:
        args = row["arguments"]
    call_id = f"{task_id}-{row['call_id']}"  # call ids repeat across tasks (call_0_0…)
    ok = not row["is_error"]
    return [mapping.start(root, ev.ToolCall(task_id, call_id, row["name"], args)),
            mapping.finish(root, ev.ToolResult(task_id, call_id, row["name"], ok, row["result"] or ""))]


def _patch(root: Path, data: dict) -> list[Any]:
    try:
        patch = FilePatch.from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        log.error("stored patch %s could not be read: %s", data.get("id"), exc)
        return []
    call_id = f"{patch.id}-call"
    start = mapping.start(root, ev.ToolCall(patch.task_id, call_id, "edit_file", {"path": patch.path}))
    update = mapping.patch_update(root, call_id, patch, patch.base_text, patch.new_text)
    update.title = f"{update.title} ({patch.status.value})"
    update.status = "completed"
    return [start, update]


async def send_all(send: Send, items: list[Any]) -> None:
    """Send the updates in order."""
    for item in items:
        await send(item)
