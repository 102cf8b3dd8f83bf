"""The sqlmodel tables behind gdm's store.

One row type per thing written as it happens: sessions, tasks, model turns, tool calls,
patches, cost entries and audit records. Payloads that other layers own (messages sent to the
model, raw replies, whole patches, audit details) are kept as JSON text so that the store never
imports those layers.

Timestamps are ISO-8601 UTC strings with milliseconds (``2025-01-02T03:04:05.678+00:00``): one
fixed format, so they sort as text and read the same from SQLite and PostgreSQL.
Only ``store/`` imports this module (and sqlmodel).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel import Field, SQLModel

from gdm.store.days import utc_day


def utc_now() -> str:
    """Return the current time as the store's timestamp string (ISO-8601, UTC, ms)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


TASK_STATUSES = ("running", "done", "cancelled", "error", "budget", "interrupted")
"""The states a task can be in; every state but "running" is final. "interrupted": its server was
killed while it ran (set when a server on the same database next opens it, store/liveness.py)."""

PATCH_STATUSES = ("pending", "partial", "accepted", "rejected")
"""The states a patch can be in; "partial" means some of its hunks were accepted."""


class SessionRow(SQLModel, table=True):
    """One server session in one workspace; status is "active" or "ended"."""

    __tablename__ = "sessions"

    id: str = Field(primary_key=True)
    started_at: str = Field(default_factory=utc_now)
    workspace: str
    model: str | None = None
    status: str = "active"
    user: str | None = Field(default=None, index=True)  # Settings.effective_user(); NULL before migration 0002
    host: str | None = None  # the server process: host name and pid, to tell a killed server's tasks
    pid: int | None = None


class TaskRow(SQLModel, table=True):
    """One user request; status is running, done, cancelled, error or budget; `commit_id` the git
    commit its accepted changes went into (NULL: not committed)."""

    __tablename__ = "tasks"

    id: str = Field(primary_key=True)
    session_id: str = Field(index=True)
    prompt: str
    uri: str | None = None
    range_json: str | None = None
    status: str = Field(default="running", index=True)
    error: str | None = None
    created_at: str = Field(default_factory=utc_now)
    finished_at: str | None = None
    commit_id: str | None = None  # the git commit `gdm.task.commit` made of it (migration 0004)


class TurnRow(SQLModel, table=True):
    """One model call of a task: what was sent and the raw reply, for replay."""

    __tablename__ = "turns"

    id: int | None = Field(default=None, primary_key=True)
    task_id: str = Field(index=True)
    index: int
    model: str
    request_json: str
    response_json: str
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float | None = None
    created_at: str = Field(default_factory=utc_now)


class ToolCallRow(SQLModel, table=True):
    """One tool call the model made, with its raw arguments text and the result it got."""

    __tablename__ = "tool_calls"

    id: int | None = Field(default=None, primary_key=True)
    task_id: str = Field(index=True)
    turn_index: int
    call_id: str
    name: str
    arguments: str
    result: str
    is_error: bool = False
    created_at: str = Field(default_factory=utc_now)


class PatchRow(SQLModel, table=True):
    """A proposed change; status is pending, partial, accepted or rejected."""

    __tablename__ = "patches"

    id: str = Field(primary_key=True)
    task_id: str = Field(index=True)
    session_id: str = Field(index=True)
    path: str
    status: str = "pending"
    risk_score: float | None = None
    risk_tier: str | None = None
    data_json: str
    created_at: str = Field(default_factory=utc_now)
    updated_at: str = Field(default_factory=utc_now)


class CostRow(SQLModel, table=True):
    """The cost of one model call; usd is NULL when the model has no known price."""

    __tablename__ = "costs"

    id: int | None = Field(default=None, primary_key=True)
    session_id: str = Field(index=True)
    task_id: str | None = Field(default=None, index=True)
    model: str
    tokens_in: int = 0
    tokens_out: int = 0
    usd: float | None = None
    day: str = Field(default_factory=utc_day, index=True)
    created_at: str = Field(default_factory=utc_now)
    user: str | None = Field(default=None, index=True)  # who is charged: the day budget is per user
    kind: str | None = Field(default=None, index=True)  # "completion" for inline completions; NULL: a task's call


COMPLETION_STATUSES = ("unused", "shown", "partial", "accepted")
"""What became of an inline completion: never shown (typed over before it arrived), shown, accepted
in part (a word, or its first characters typed), accepted whole."""


class CompletionRow(SQLModel, table=True):
    """One inline completion's model call (migration 0005): what was asked and answered, for replay,
    and whether the user took it (counted in the store only: no telemetry)."""

    __tablename__ = "completions"

    id: str = Field(primary_key=True)
    session_id: str = Field(index=True)
    user: str | None = Field(default=None, index=True)
    day: str = Field(default_factory=utc_day, index=True)
    model: str
    mode: str  # "fim" (a text completion with a suffix) or "chat" (the hole-filler prompt)
    path: str | None = None
    request_json: str
    response_json: str
    text: str = ""
    lines: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float | None = None
    status: str = "unused"
    accepted_chars: int = 0
    accepted_lines: int = 0
    created_at: str = Field(default_factory=utc_now)
    updated_at: str = Field(default_factory=utc_now)


class AuditRow(SQLModel, table=True):
    """A record of a decision (an approval, a denial, an auto-apply) and its details."""

    __tablename__ = "audit"

    id: int | None = Field(default=None, primary_key=True)
    session_id: str
    task_id: str | None = None
    kind: str
    detail_json: str
    created_at: str = Field(default_factory=utc_now)


class ConversationTaskRow(SQLModel, table=True):
    """A task's place in a conversation: the first ask (seq 0), then each follow-up (issue 17).

    A table of its own rather than a column of `tasks` (migration 0003 adds it to older databases);
    `workspace` scopes listing to one workspace's conversations.
    """

    __tablename__ = "conversation_tasks"

    task_id: str = Field(primary_key=True)
    conversation_id: str = Field(index=True)
    workspace: str = Field(index=True)
    seq: int = 0
    created_at: str = Field(default_factory=utc_now)


ALL_TABLES = (SessionRow, TaskRow, TurnRow, ToolCallRow, PatchRow, CostRow, AuditRow, ConversationTaskRow,
              CompletionRow)
"""Every table of the store, in creation order."""


def row_dict(row: SQLModel) -> dict[str, Any]:
    """The row's columns in table order (model_dump's order is not the table's)."""
    return {c.name: getattr(row, c.name) for c in row.__table__.columns}  # type: ignore[attr-defined]
