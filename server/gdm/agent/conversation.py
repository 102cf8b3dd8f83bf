"""Conversations: a chain of tasks — the first ask, then each follow-up (DESIGN.md, "Conversations").

The engine-level API every front end uses (LSP `gdm.ask {followUp}`, `gdm ask --continue`, ACP's
consecutive `session/prompt`s): run a task with `TaskSpec(conversation_id=…)` and it continues that
conversation. `Conversations.resolve` turns a task id into its conversation id, refusing what
cannot be continued (unknown, running, another workspace's).

What a follow-up's model sees is rebuilt from the store, so it survives a restart: the latest
task's last request (the earlier messages, as compacted as that task left them, minus the system
prompt, which is the new task's own), that turn's reply, and its tool results. Each task's turn
requests are stored as deltas (store/turns.py); rebuilding reads one task's rows.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gdm.agent import prompts

if TYPE_CHECKING:
    from gdm.store.repo import Store

NOT_RUN = "(not run: the task ended before this tool call ran)"
FOLLOW_UP_NOTE = ("This continues the conversation above. Your earlier proposed changes that are still pending "
                  "review are in the files as read_file shows them; edits you make now extend them.")


class FollowUpRefused(ValueError):
    """A follow-up that cannot start (unknown task, still running, another workspace); says why."""


@dataclass
class Link:
    """What a task continuing a conversation starts from."""

    conversation_id: str
    task_ids: list[str] = field(default_factory=list)  # the earlier tasks, in order
    history: list[dict] = field(default_factory=list)  # the earlier messages, no system prompt
    spent_usd: float = 0.0  # what the earlier tasks cost
    paths: set[str] = field(default_factory=set)  # files the earlier tasks proposed changes to


def assistant_message(response: dict[str, Any]) -> dict[str, Any]:
    """The assistant message of a stored (chat.completion-shaped) reply, as the loop sent it back."""
    choices = response.get("choices") or [{}]
    message = choices[0].get("message") or {}
    out: dict[str, Any] = {"role": "assistant", "content": message.get("content") or None}
    calls = [{"id": str(c.get("id") or f"call_{i}"), "type": "function",
              "function": {"name": str((c.get("function") or {}).get("name") or ""),
                           "arguments": (c.get("function") or {}).get("arguments") or ""}}
             for i, c in enumerate(message.get("tool_calls") or [])]
    if calls:
        out["tool_calls"] = calls
    return out


def task_history(turns: list[dict], tool_calls: list[dict]) -> list[dict]:
    """One task's conversation as it ended, from its stored turns (requests whole) and tool calls:
    its last request without the system prompt, the last reply, and that turn's tool results
    (a call that never ran, e.g. on cancel, gets a stub result: providers reject a call without one)."""
    if not turns:
        return []
    last = turns[-1]
    messages = [m for m in (last["request"].get("messages") or []) if m.get("role") != "system"]
    reply = assistant_message(last["response"])
    messages.append(reply)
    results = {row["call_id"]: row["result"] for row in tool_calls if row["turn_index"] == last["index"]}
    for call in reply.get("tool_calls") or ():
        messages.append({"role": "tool", "tool_call_id": call["id"], "content": results.get(call["id"], NOT_RUN)})
    return messages


def follow_up_message(prompt: str, focus: prompts.Focus | None) -> str:
    """The user message of a follow-up: the request (and its focus) as for any task, marked as a follow-up."""
    first = prompts.task_message(prompt, focus)
    return f"Follow-up {first[0].lower()}{first[1:]}\n\n{FOLLOW_UP_NOTE}"


class Conversations:
    """Conversations of one workspace in the store: resolving follow-ups, linking tasks, history."""

    def __init__(self, store: Store, workspace: str) -> None:
        self.store = store
        self.workspace = workspace

    def resolve(self, task_id: str, running: Collection[str] = ()) -> str:
        """The conversation a follow-up of `task_id` continues; FollowUpRefused when it cannot be
        (no such task, another workspace's, or a task of the conversation still running — the
        caller names the running tasks, the store cannot know them).

        A task made before conversations existed becomes the first task of a new conversation."""
        task = self.store.get_task(task_id)
        if task is None:
            raise FollowUpRefused(f"followUp: there is no task {task_id!r} (gdm.conversation.list names this "
                                  f"workspace's conversations and their tasks)")
        row = self.store.conversation_of(task_id)
        workspace = row["workspace"] if row else self.store.session_workspace(task["session_id"])
        if workspace != self.workspace:
            raise FollowUpRefused(f"followUp: task {task_id!r} belongs to another workspace ({workspace}), not "
                                  f"{self.workspace}; start a new task here instead")
        if row is None and task_id not in running:
            conversation_id = f"c-{task_id.removeprefix('t-')}"
            self.store.add_conversation_task(conversation_id, task_id, self.workspace)
            return conversation_id
        members = {t["id"] for t in self.store.conversation_tasks(row["conversation_id"])} if row else set()
        busy = [t for t in running if t == task_id or t in members]
        if busy:
            raise FollowUpRefused(f"followUp: task {busy[0]!r} of this conversation is still running; send the "
                                  f"follow-up when it is done, or cancel it (gdm.cancel)")
        assert row is not None
        return str(row["conversation_id"])

    def link(self, conversation_id: str, task_id: str) -> Link:
        """Add `task_id` to the conversation (a new one when the id is new) and return what it
        starts from: the earlier tasks, their messages, their cost and the files they changed."""
        earlier = [t for t in self.store.conversation_tasks(conversation_id) if t["id"] != task_id]
        self.store.add_conversation_task(conversation_id, task_id, self.workspace)
        ids = [t["id"] for t in earlier]
        link = Link(conversation_id, ids, self.history(earlier))
        link.spent_usd = sum(self.store.task_usd(ids).values())
        link.paths = {p["path"] for p in self.store.patches_of_tasks(ids) if p.get("path")}
        return link

    def history(self, tasks: list[dict]) -> list[dict]:
        """The messages of a conversation's tasks (oldest first): the latest task that reached the
        model carries all before it; the prompts of later ones that never did follow it."""
        for i in range(len(tasks) - 1, -1, -1):
            turns = self.store.turns(tasks[i]["id"])
            if turns:
                messages = task_history(turns, self.store.tool_calls(tasks[i]["id"]))
                break
        else:
            i, messages = -1, []
        for task in tasks[i + 1:]:
            messages.append({"role": "user", "content": prompts.task_message(task["prompt"], None)})
        return messages
