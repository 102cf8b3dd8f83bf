"""The store's queries about conversations (issue 17): a chain of tasks — the first ask, then
each follow-up — recorded in `conversation_tasks`, and what a panel lists and renders of them.

A mixin of `Store` (store/repo.py), kept apart so repo.py stays one screenful per concern; it
uses the store's `_session`, so repo.py remains where database sessions are opened.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from gdm.store.costs import sum_or_zero
from gdm.store.tables import (
    AuditRow,
    ConversationTaskRow,
    CostRow,
    PatchRow,
    SessionRow,
    TaskRow,
    ToolCallRow,
    TurnRow,
    row_dict,
)


class ConversationQueries:
    """Conversation rows and the reads a follow-up and a panel need."""

    def _session(self) -> AbstractContextManager[Session]:  # provided by Store
        raise NotImplementedError

    def add_conversation_task(self, conversation_id: str, task_id: str, workspace: str) -> int:
        """Append a task to a conversation (a new conversation when the id is new); returns its
        place in it, 0 for the first task."""
        count = select(func.count()).select_from(ConversationTaskRow).where(
            ConversationTaskRow.conversation_id == conversation_id)
        with self._session() as s:
            seq = int(s.exec(count).one())
            s.add(ConversationTaskRow(task_id=task_id, conversation_id=conversation_id, workspace=workspace, seq=seq))
        return seq

    def conversation_of(self, task_id: str) -> dict[str, Any] | None:
        """The task's conversation row (``conversation_id``, ``workspace``, ``seq``), or None."""
        with self._session() as s:
            row = s.get(ConversationTaskRow, task_id)
            return None if row is None else row_dict(row)

    def conversation_tasks(self, conversation_id: str) -> list[dict[str, Any]]:
        """A conversation's tasks in order: each task row plus ``seq`` and ``workspace``."""
        query = (select(ConversationTaskRow, TaskRow)
                 .join(TaskRow, TaskRow.id == ConversationTaskRow.task_id)  # type: ignore[arg-type]
                 .where(ConversationTaskRow.conversation_id == conversation_id)
                 .order_by(ConversationTaskRow.seq))  # type: ignore[arg-type]
        with self._session() as s:
            return [{**row_dict(task), "seq": link.seq, "workspace": link.workspace} for link, task in s.exec(query)]

    def conversations(self, workspace: str) -> list[dict[str, Any]]:
        """The workspace's conversations, unsorted: ``{conversation_id, task_ids (in order),
        updated_at (the latest start or finish of its tasks), cost_usd, prompt (the first task's)}``."""
        link, task = ConversationTaskRow, TaskRow
        rows_q = (select(link.conversation_id, link.task_id, task.created_at, task.finished_at, task.prompt)
                  .join(task, task.id == link.task_id)  # type: ignore[arg-type]
                  .where(link.workspace == workspace).order_by(link.conversation_id, link.seq))  # type: ignore[arg-type]
        cost_q = (select(link.conversation_id, sum_or_zero(CostRow.usd, 0.0))
                  .join(CostRow, CostRow.task_id == link.task_id)  # type: ignore[arg-type]
                  .where(link.workspace == workspace).group_by(link.conversation_id))
        found: dict[str, dict[str, Any]] = {}
        with self._session() as s:
            for conversation_id, task_id, created, finished, prompt in s.exec(rows_q):
                item = found.setdefault(conversation_id, {"conversation_id": conversation_id, "task_ids": [],
                                                          "updated_at": "", "cost_usd": 0.0, "prompt": prompt})
                item["task_ids"].append(task_id)
                item["updated_at"] = max(item["updated_at"], finished or "", created or "")
            for conversation_id, usd in s.exec(cost_q):
                if conversation_id in found:
                    found[conversation_id]["cost_usd"] = float(usd)
        return list(found.values())

    def task_usd(self, task_ids: list[str]) -> dict[str, float]:
        """USD spent per task (model calls, titles, summaries), for the given tasks."""
        if not task_ids:
            return {}
        query = (select(CostRow.task_id, sum_or_zero(CostRow.usd, 0.0))
                 .where(CostRow.task_id.in_(task_ids)).group_by(CostRow.task_id))  # type: ignore[union-attr]
        with self._session() as s:
            return {task_id: float(usd) for task_id, usd in s.exec(query)}

    def task_titles(self, task_ids: list[str]) -> dict[str, str]:
        """The cheap model's title of each given task that has one."""
        if not task_ids:
            return {}
        query = (select(AuditRow).where(AuditRow.kind == "task.title")
                 .where(AuditRow.task_id.in_(task_ids)))  # type: ignore[union-attr]
        with self._session() as s:
            titles = {r.task_id: json.loads(r.detail_json).get("title") for r in s.exec(query)}
        return {k: v for k, v in titles.items() if k and v}

    def patches_of_tasks(self, task_ids: list[str]) -> list[dict[str, Any]]:
        """The given tasks' patches, oldest first, light: ``id``, ``task_id``, ``path``, ``status``
        (the whole patch data stays in the store; `Store.get_patch` reads it)."""
        if not task_ids:
            return []
        query = (select(PatchRow.id, PatchRow.task_id, PatchRow.path, PatchRow.status)
                 .where(PatchRow.task_id.in_(task_ids))  # type: ignore[attr-defined]
                 .order_by(PatchRow.created_at, PatchRow.id))  # type: ignore[arg-type]
        keys = ("id", "task_id", "path", "status")
        with self._session() as s:
            return [dict(zip(keys, row, strict=True)) for row in s.exec(query)]

    def turn_replies(self, task_ids: list[str]) -> list[dict[str, Any]]:
        """The given tasks' turns without their requests (what a panel shows), by task then turn:
        ``task_id``, ``index``, ``model``, ``cost_usd``, ``tokens_in``, ``tokens_out``, ``response``."""
        if not task_ids:
            return []
        query = (select(TurnRow.task_id, TurnRow.index, TurnRow.model, TurnRow.cost_usd, TurnRow.tokens_in,
                        TurnRow.tokens_out, TurnRow.response_json)
                 .where(TurnRow.task_id.in_(task_ids))  # type: ignore[attr-defined]
                 .order_by(TurnRow.task_id, TurnRow.index, TurnRow.id))  # type: ignore[arg-type]
        keys = ("task_id", "index", "model", "cost_usd", "tokens_in", "tokens_out")
        with self._session() as s:
            return [{**dict(zip(keys, row[:6], strict=True)), "response": json.loads(row[6])} for row in s.exec(query)]

    def tool_calls_of_tasks(self, task_ids: list[str]) -> list[dict[str, Any]]:
        """The given tasks' tool calls, by task then in the order they were made."""
        if not task_ids:
            return []
        query = (select(ToolCallRow).where(ToolCallRow.task_id.in_(task_ids))  # type: ignore[attr-defined]
                 .order_by(ToolCallRow.task_id, ToolCallRow.turn_index, ToolCallRow.id))  # type: ignore[arg-type]
        with self._session() as s:
            return [row_dict(r) for r in s.exec(query)]

    def session_workspace(self, session_id: str) -> str | None:
        """The workspace a session ran in, or None for an unknown session."""
        with self._session() as s:
            row = s.get(SessionRow, session_id)
            return None if row is None else row.workspace
