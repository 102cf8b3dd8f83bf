"""The store: the only code that opens database sessions.

Every write commits before the method returns, so a server killed right after a call loses
nothing (SQLite in WAL mode with synchronous=NORMAL survives a process kill; only a power loss
can cost the last commits). The store takes and returns plain dicts; payloads other layers own
are kept as JSON. Rows come back as dicts keyed by column name (snake_case); cost summaries use
the camelCase names the editor sees (``taskUsd``…).

One ``Store`` is shared by the asyncio loop thread and worker threads: the engine is
thread-safe and each call uses its own short-lived session. The writes made every model turn
(turn, cost, tool call) go through SQLAlchemy Core inserts in one transaction (`_insert`): an ORM
session costs ~0.4 ms a commit, Core ~0.1 ms (benchmarks/turn_overhead.py). Turn requests are
stored as deltas and read back whole (store/turns.py).
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlmodel import Session, SQLModel, select

from gdm.store.completions import CompletionQueries
from gdm.store.conversations import ConversationQueries
from gdm.store.costs import CostQueries, sum_or_zero
from gdm.store.engine import (
    SQLITE_BUSY_TIMEOUT_MS,
    default_database_url,
    make_engine,
    shown_url,
)
from gdm.store.errors import StoreError, is_transient
from gdm.store.liveness import INTERRUPTED_ERROR
from gdm.store.migrations import SchemaTooNew, migrate
from gdm.store.tables import (
    PATCH_STATUSES,
    TASK_STATUSES,
    AuditRow,
    CostRow,
    PatchRow,
    SessionRow,
    TaskRow,
    ToolCallRow,
    TurnRow,
    row_dict,
    utc_day,
    utc_now,
)
from gdm.store.turns import rebuild

__all__ = ["SQLITE_BUSY_TIMEOUT_MS", "Store", "StoreError", "default_database_url"]


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


class Store(ConversationQueries, CostQueries, CompletionQueries):
    """Sessions, tasks, turns, tool calls, patches, costs and audit records in one database.

    ``url`` is a SQLAlchemy URL (``sqlite:///path``, ``postgresql+psycopg://…``); None means
    :func:`default_database_url`. Tables are created if missing. Raises :class:`StoreError`
    when the URL is malformed, its driver is missing or the database cannot be opened.
    """

    def __init__(self, url: str | None = None) -> None:
        self.url: str = default_database_url() if url is None else url
        self._closed = False
        self._users: dict[str, str | None] = {}  # session id -> user, for the cost rows it writes
        self.fallback_reason: str | None = None  # set by whoever opened this store in place of another
        try:
            self._engine = make_engine(self.url)
            self.migration = migrate(self._engine, shown_url(self.url))
        except SchemaTooNew as exc:
            self._engine.dispose()
            raise StoreError(str(exc), transient=False) from exc
        except (ArgumentError, SQLAlchemyError, ImportError, OSError) as exc:
            raise StoreError(f"cannot open the database {shown_url(self.url)}: {exc}",
                             transient=is_transient(exc)) from exc

    def local_files(self) -> list[Path]:
        """The database's files on this machine (SQLite: the file, its journal and WAL), else none."""
        parsed = make_url(self.url)
        if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
            return []
        db = Path(parsed.database).expanduser()
        return [db, *(db.with_name(db.name + suffix) for suffix in ("-wal", "-shm", "-journal"))]

    def status(self) -> dict[str, Any]:
        """Which store this is, for the editor: ``{"url"`` (password hidden), ``"backend"`` (sqlite,
        postgresql), ``"fallback"`` (why the configured store was not used, else None)``}``."""
        return {"url": shown_url(self.url), "backend": self._engine.dialect.name, "fallback": self.fallback_reason}

    def close(self) -> None:
        """Release every connection; the store refuses calls afterwards."""
        if not self._closed:
            self._closed = True
            self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        """A session that commits on success; database failures become StoreError."""
        if self._closed:
            raise StoreError(f"the store {shown_url(self.url)} is closed")
        try:
            with Session(self._engine, expire_on_commit=False) as session:
                yield session
                session.commit()
        except SQLAlchemyError as exc:
            raise StoreError(f"database error on {shown_url(self.url)}: {exc}") from exc

    def _insert(self, *rows: tuple[type[SQLModel], dict[str, Any]]) -> None:
        """Insert new rows ``(table class, column values)`` in one transaction, stamped with
        ``created_at`` now. Core, no ORM session or model objects: this is the per-turn hot path."""
        if self._closed:
            raise StoreError(f"the store {shown_url(self.url)} is closed")
        now = utc_now()
        try:
            with self._engine.begin() as conn:
                for table, values in rows:
                    conn.execute(insert(table.__table__), {"created_at": now, **values})  # type: ignore[attr-defined]
        except SQLAlchemyError as exc:
            raise StoreError(f"database error on {shown_url(self.url)}: {exc}") from exc

    # -- sessions -------------------------------------------------------------------------

    def start_session(self, session_id: str, workspace: str, model: str | None, user: str | None = None) -> None:
        """Record a session as active, run by `user` in this process; starting a known id again
        resumes it. The session's costs are charged to `user` (the day budget is per user)."""
        host, pid = socket.gethostname(), os.getpid()
        self._users[session_id] = user
        with self._session() as s:
            row = s.get(SessionRow, session_id)
            if row is None:
                s.add(SessionRow(id=session_id, workspace=workspace, model=model, user=user, host=host, pid=pid))
            else:
                row.workspace, row.model, row.status = workspace, model, "active"
                row.user, row.host, row.pid = user, host, pid
                s.add(row)

    def end_session(self, session_id: str) -> None:
        """Mark a session ended; an unknown id is a StoreError."""
        with self._session() as s:
            row = s.get(SessionRow, session_id)
            if row is None:
                raise StoreError(f"no session {session_id!r}")
            row.status = "ended"
            s.add(row)

    def sessions(self) -> list[dict[str, Any]]:
        """Every session, newest first."""
        with self._session() as s:
            rows = s.exec(select(SessionRow).order_by(SessionRow.started_at.desc()))  # type: ignore[attr-defined]
            return [row_dict(r) for r in rows]

    # -- tasks ----------------------------------------------------------------------------

    def start_task(
        self,
        task_id: str,
        session_id: str,
        prompt: str,
        uri: str | None = None,
        range_json: str | dict[str, Any] | None = None,
    ) -> None:
        """Record a running task; ``range_json`` is JSON text or a dict to be dumped."""
        if range_json is not None and not isinstance(range_json, str):
            range_json = _dumps(range_json)
        with self._session() as s:
            s.add(TaskRow(id=task_id, session_id=session_id, prompt=prompt, uri=uri, range_json=range_json))

    def finish_task(self, task_id: str, status: str, error: str | None = None) -> None:
        """Set a task's final status and finish time; an unknown id is a StoreError."""
        if status not in TASK_STATUSES:
            raise ValueError(f"task status must be one of {TASK_STATUSES}, not {status!r}")
        with self._session() as s:
            row = s.get(TaskRow, task_id)
            if row is None:
                raise StoreError(f"no task {task_id!r}")
            row.status, row.error, row.finished_at = status, error, utc_now()
            s.add(row)

    def interrupt_orphaned_tasks(self, alive: Callable[[str | None, int | None], bool]) -> list[str]:
        """Mark "interrupted" the running tasks whose server is gone (``alive(host, pid)`` False,
        store/liveness.py); returns their ids. Safe when several servers do it at once."""
        query = (select(TaskRow.id, SessionRow.host, SessionRow.pid)
                 .join(SessionRow, SessionRow.id == TaskRow.session_id, isouter=True)  # type: ignore[arg-type]
                 .where(TaskRow.status == "running"))
        with self._session() as s:
            dead = [task_id for task_id, host, pid in s.exec(query) if not alive(host, pid)]
            if dead:
                s.exec(update(TaskRow).where(TaskRow.id.in_(dead), TaskRow.status == "running")  # type: ignore[call-overload, attr-defined]
                       .values(status="interrupted", error=INTERRUPTED_ERROR, finished_at=utc_now()))
        return dead

    def get_task(self, task_id: str) -> dict[str, Any] | None:
        """The task's row as a dict plus ``range`` (``range_json`` decoded), or None."""
        with self._session() as s:
            row = s.get(TaskRow, task_id)
            if row is None:
                return None
            out = row_dict(row)
            out["range"] = json.loads(row.range_json) if row.range_json else None
            return out

    # -- turns and tool calls -------------------------------------------------------------

    def add_turn(
        self, task_id: str, index: int, model: str, request: dict[str, Any], response: dict[str, Any],
        tokens_in: int, tokens_out: int, cost_usd: float | None,
    ) -> None:  # fmt: skip
        """Record one model call: the request sent (whole, or a delta from store/turns.py) and the raw reply."""
        self._insert(_turn_row(task_id, index, model, request, response, tokens_in, tokens_out, cost_usd))

    def record_turn(
        self, session_id: str, task_id: str, index: int, model: str, request: dict[str, Any],
        response: dict[str, Any], tokens_in: int, tokens_out: int, usd: float | None, day: str | None = None,
    ) -> None:  # fmt: skip
        """`add_turn` and `add_cost` of one model call in one transaction: both are stored, or neither."""
        self._insert(
            _turn_row(task_id, index, model, request, response, tokens_in, tokens_out, usd),
            (CostRow, {"session_id": session_id, "task_id": task_id, "model": model, "tokens_in": tokens_in,
                       "tokens_out": tokens_out, "usd": usd, "day": day or utc_day(),
                       "user": self._users.get(session_id)}),
        )  # fmt: skip

    def turns(self, task_id: str) -> list[dict[str, Any]]:
        """A task's turns in order, each row dict plus ``request`` (always whole: deltas are
        rebuilt) and ``response`` decoded."""
        query = select(TurnRow).where(TurnRow.task_id == task_id).order_by(TurnRow.index, TurnRow.id)  # type: ignore[arg-type]
        with self._session() as s:
            out = [{**row_dict(row), "request": json.loads(row.request_json),
                    "response": json.loads(row.response_json)} for row in s.exec(query)]
        for item, request in zip(out, rebuild([item["request"] for item in out]), strict=True):
            item["request"] = request
        return out

    def add_tool_call(
        self, task_id: str, turn_index: int, call_id: str, name: str, arguments: str, result: str, is_error: bool
    ) -> None:
        """Record one tool call with its raw arguments text and its result."""
        self._insert((ToolCallRow, {
            "task_id": task_id, "turn_index": turn_index, "call_id": call_id, "name": name,
            "arguments": arguments, "result": result, "is_error": is_error,
        }))  # fmt: skip

    def tool_calls(self, task_id: str) -> list[dict[str, Any]]:
        """A task's tool calls in the order they were made."""
        query = (
            select(ToolCallRow)
            .where(ToolCallRow.task_id == task_id)
            .order_by(ToolCallRow.turn_index, ToolCallRow.id)  # type: ignore[arg-type]
        )
        with self._session() as s:
            return [row_dict(r) for r in s.exec(query)]

    # -- patches --------------------------------------------------------------------------

    def save_patch(
        self, patch_id: str, task_id: str, session_id: str, path: str, status: str,
        risk_score: float | None, risk_tier: str | None, data: dict[str, Any],
    ) -> None:  # fmt: skip
        """Insert a patch or replace the saved one with the same id (``created_at`` kept)."""
        if status not in PATCH_STATUSES:
            raise ValueError(f"patch status must be one of {PATCH_STATUSES}, not {status!r}")
        fields = {
            "task_id": task_id, "session_id": session_id, "path": path, "status": status,
            "risk_score": risk_score, "risk_tier": risk_tier, "data_json": _dumps(data),
        }  # fmt: skip
        with self._session() as s:
            row = s.get(PatchRow, patch_id)
            if row is None:
                row = PatchRow(id=patch_id, **fields)
            else:
                row.sqlmodel_update({**fields, "updated_at": utc_now()})
            s.add(row)

    def get_patch(self, patch_id: str) -> dict[str, Any] | None:
        """The patch's data as saved, with ``status`` set to its stored status; None if unknown."""
        with self._session() as s:
            row = s.get(PatchRow, patch_id)
            return None if row is None else _patch_data(row)

    def patches(self, status: list[str] | None = None, session_id: str | None = None) -> list[dict[str, Any]]:
        """Saved patches' data (status overlaid), oldest first, filtered by status and session."""
        query = select(PatchRow)
        if status is not None:
            query = query.where(PatchRow.status.in_(status))  # type: ignore[attr-defined]
        if session_id is not None:
            query = query.where(PatchRow.session_id == session_id)
        query = query.order_by(PatchRow.created_at, PatchRow.id)  # type: ignore[arg-type]
        with self._session() as s:
            return [_patch_data(r) for r in s.exec(query)]

    # -- reports --------------------------------------------------------------------------

    def rows(self, statement: Any) -> list[dict[str, Any]]:
        """Run a read-only SELECT (store/reports.py builds them); each row a dict keyed by label."""
        with self._session() as s:
            return [dict(row._mapping) for row in s.connection().execute(statement)]

    # -- audit ----------------------------------------------------------------------------

    def add_audit(self, session_id: str, task_id: str | None, kind: str, detail: dict[str, Any]) -> None:
        """Record a decision (an approval, a denial…) with its details."""
        self._insert((AuditRow, {"session_id": session_id, "task_id": task_id, "kind": kind,
                                 "detail_json": _dumps(detail)}))

    def audit_records(self, session_id: str | None = None) -> list[dict[str, Any]]:
        """Audit rows oldest first (all sessions when None), each plus ``detail`` decoded."""
        query = select(AuditRow)
        if session_id is not None:
            query = query.where(AuditRow.session_id == session_id)
        query = query.order_by(AuditRow.created_at, AuditRow.id)  # type: ignore[arg-type]
        with self._session() as s:
            return [{**row_dict(r), "detail": json.loads(r.detail_json)} for r in s.exec(query)]


    # -- task history (gdm.task.list, gdm.task.undo, gdm.task.commit) -----------------------

    def tasks_of_sessions(self, session_ids: list[str], limit: int) -> list[dict[str, Any]]:
        """The newest ``limit`` tasks of these sessions, newest first, each row dict plus ``costUsd``."""
        query = (select(TaskRow).where(TaskRow.session_id.in_(session_ids))  # type: ignore[attr-defined]
                 .order_by(TaskRow.created_at.desc(), TaskRow.id.desc()).limit(limit))  # type: ignore[attr-defined]
        with self._session() as s:
            rows = [row_dict(r) for r in s.exec(query)]
            ids = [r["id"] for r in rows]
            costs = dict(s.exec(select(CostRow.task_id, sum_or_zero(CostRow.usd, 0.0))  # type: ignore[call-overload]
                                .where(CostRow.task_id.in_(ids)).group_by(CostRow.task_id)).all()) if ids else {}  # type: ignore[union-attr]
        return [{**r, "costUsd": float(costs.get(r["id"], 0.0))} for r in rows]

    def task_patches(self, task_ids: list[str]) -> list[dict[str, Any]]:
        """Saved patches of these tasks' (data, status overlaid), oldest first."""
        query = (select(PatchRow).where(PatchRow.task_id.in_(task_ids))  # type: ignore[attr-defined]
                 .order_by(PatchRow.created_at, PatchRow.id))  # type: ignore[arg-type]
        with self._session() as s:
            return [_patch_data(r) for r in s.exec(query)]

    def set_task_commit(self, task_ids: list[str], commit_id: str | None) -> None:
        """Record the git commit these tasks' accepted changes went into (None: none)."""
        with self._session() as s:
            s.exec(update(TaskRow).where(TaskRow.id.in_(task_ids)).values(commit_id=commit_id))  # type: ignore[call-overload, attr-defined]

    def task_audit(self, task_ids: list[str], kinds: list[str]) -> list[dict[str, Any]]:
        """Audit rows of these tasks and kinds, oldest first, each plus ``detail`` decoded."""
        query = (select(AuditRow).where(AuditRow.task_id.in_(task_ids), AuditRow.kind.in_(kinds))  # type: ignore[union-attr,attr-defined]
                 .order_by(AuditRow.created_at, AuditRow.id))  # type: ignore[arg-type]
        with self._session() as s:
            return [{**row_dict(r), "detail": json.loads(r.detail_json)} for r in s.exec(query)]

def _turn_row(task_id: str, index: int, model: str, request: dict[str, Any], response: dict[str, Any],
              tokens_in: int, tokens_out: int, cost_usd: float | None) -> tuple[type[SQLModel], dict[str, Any]]:
    return (TurnRow, {"task_id": task_id, "index": index, "model": model, "request_json": _dumps(request),
                      "response_json": _dumps(response), "tokens_in": tokens_in, "tokens_out": tokens_out,
                      "cost_usd": cost_usd})


def _patch_data(row: PatchRow) -> dict[str, Any]:
    """A patch's saved data with the status column, which is the truth, laid over it."""
    data: dict[str, Any] = json.loads(row.data_json)
    data["status"] = row.status
    return data
