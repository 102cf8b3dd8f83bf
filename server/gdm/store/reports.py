"""What a team's agents did and spent, read from the store: `gdm usage` and `gdm audit`.

Both read every session on the database (every window, machine and user). Costs are counted by
the UTC day they were charged to; a cost row from before migration 0002 has no user and takes its
session's (else "(unknown)").
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import String, case, cast, func, literal, or_, select

from gdm.store.completions import completion_outcomes
from gdm.store.costs import sum_or_zero, unpriced_count
from gdm.store.repo import Store
from gdm.store.tables import AuditRow, CompletionRow, CostRow, SessionRow, TaskRow

USAGE_BY = ("day", "model", "user", "task", "completions")
AUDIT_KINDS = ("shell", "accept", "reject", "undo", "mcp", "commit")
UNKNOWN_USER = "(unknown)"


def _who(cost_user: Any = None) -> Any:
    """The user a row is charged to: the cost's own, else its session's."""
    parts = [c for c in (cost_user, SessionRow.user) if c is not None]
    return func.coalesce(*parts, literal(UNKNOWN_USER))


def _measures() -> list[Any]:
    return [func.count(CostRow.id).label("calls"), sum_or_zero(CostRow.tokens_in).label("tokensIn"),
            sum_or_zero(CostRow.tokens_out).label("tokensOut"), sum_or_zero(CostRow.usd, 0.0).label("usd"),
            unpriced_count().label("unpricedCalls")]


def usage(store: Store, *, since: str | None = None, by: str = "day") -> list[dict[str, Any]]:
    """Model calls, tokens and USD grouped `by` day, model, user or task, from `since` (a UTC day,
    YYYY-MM-DD) on; by task also each task's user, status, start and prompt, newest first."""
    if by not in USAGE_BY:
        raise ValueError(f"--by must be one of {', '.join(USAGE_BY)}, not {by!r}")
    if by == "task":
        return _usage_by_task(store, since)
    if by == "completions":
        return _completions_by_day(store, since)
    key = {"day": CostRow.day, "model": CostRow.model, "user": _who(CostRow.user)}[by].label(by)
    query = (select(key, *_measures())
             .select_from(CostRow).join(SessionRow, SessionRow.id == CostRow.session_id, isouter=True))
    if since:
        query = query.where(CostRow.day >= since)
    query = query.group_by(key).order_by(key)
    return [_rounded(row) for row in store.rows(query)]


def _usage_by_task(store: Store, since: str | None) -> list[dict[str, Any]]:
    spent = (select(CostRow.task_id.label("task_id"), *_measures())  # type: ignore[union-attr]
             .where(CostRow.task_id.is_not(None)).group_by(CostRow.task_id).subquery())  # type: ignore[union-attr]
    query = (select(TaskRow.id.label("task"), _who().label("user"), TaskRow.status.label("status"),
                    TaskRow.created_at.label("started"), TaskRow.prompt.label("prompt"),
                    *[func.coalesce(spent.c[name], 0).label(name)
                      for name in ("calls", "tokensIn", "tokensOut", "usd", "unpricedCalls")])
             .select_from(TaskRow)
             .join(SessionRow, SessionRow.id == TaskRow.session_id, isouter=True)
             .join(spent, spent.c.task_id == TaskRow.id, isouter=True))
    if since:
        query = query.where(TaskRow.created_at >= since)
    query = query.order_by(TaskRow.created_at.desc(), TaskRow.id)  # type: ignore[attr-defined]
    out = []
    for row in store.rows(query):
        row["prompt"] = " ".join(str(row["prompt"]).split())[:60]
        out.append(_rounded(row))
    return out


def _completions_by_day(store: Store, since: str | None) -> list[dict[str, Any]]:
    """Inline completions per UTC day: calls, tokens, USD, and what became of them — shown, accepted
    partly, accepted, lines accepted — with the USD per accepted line (None before the first)."""
    query = select(CompletionRow.day.label("day"), func.count(CompletionRow.id).label("calls"),
                   sum_or_zero(CompletionRow.tokens_in).label("tokensIn"),
                   sum_or_zero(CompletionRow.tokens_out).label("tokensOut"),
                   sum_or_zero(CompletionRow.cost_usd, 0.0).label("usd"),
                   sum_or_zero(case((CompletionRow.cost_usd.is_(None), 1), else_=0)).label("unpricedCalls"),  # type: ignore[union-attr]
                   *completion_outcomes())
    if since:
        query = query.where(CompletionRow.day >= since)
    query = query.group_by(CompletionRow.day).order_by(CompletionRow.day)
    out = []
    for row in store.rows(query):
        row = _rounded(row)
        for name in ("shown", "acceptedPartly", "accepted", "acceptedLines"):
            row[name] = int(row[name])
        lines = row["acceptedLines"]
        row["usdPerAcceptedLine"] = round(row["usd"] / lines, 6) if lines else None
        out.append(row)
    return out


def audit(store: Store, *, since: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
    """Audit records oldest first, each with who and where: ``{time, user, session, task, kind,
    detail}``; `kind` keeps that kind and its sub-kinds (``mcp`` keeps ``mcp.call``…)."""
    if kind is not None and kind not in AUDIT_KINDS:
        raise ValueError(f"--kind must be one of {', '.join(AUDIT_KINDS)}, not {kind!r}")
    query = (select(AuditRow.created_at.label("time"), _who().label("user"), AuditRow.session_id.label("session"),
                    AuditRow.task_id.label("task"), AuditRow.kind.label("kind"), AuditRow.detail_json.label("detail"),
                    SessionRow.workspace.label("workspace"))
             .select_from(AuditRow).join(SessionRow, SessionRow.id == AuditRow.session_id, isouter=True))
    if since:
        query = query.where(AuditRow.created_at >= since)
    if kind is not None:
        query = query.where(or_(AuditRow.kind == kind, AuditRow.kind.like(cast(literal(kind + ".%"), String))))
    else:  # the decisions, not the bookkeeping rows (task.start, task.title, compaction…)
        query = query.where(AuditRow.kind.not_like("task.%"))  # type: ignore[attr-defined]
    query = query.order_by(AuditRow.created_at, AuditRow.id)  # type: ignore[arg-type]
    out = []
    for row in store.rows(query):
        try:
            row["detail"] = json.loads(row["detail"])
        except ValueError:
            pass
        out.append(row)
    return out


def _rounded(row: dict[str, Any]) -> dict[str, Any]:
    row["usd"] = round(float(row["usd"]), 6)
    for name in ("calls", "tokensIn", "tokensOut", "unpricedCalls"):
        row[name] = int(row[name])
    return row
