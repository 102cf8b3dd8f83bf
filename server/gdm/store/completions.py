"""The store's inline completions (issue 29): one row per completion call, its cost a cost row of kind
``completion`` written in the same transaction, and whether the user took it — shown, accepted in part,
accepted — counted here and nowhere else (no telemetry).

A mixin of `Store` (store/repo.py), like costs.py: it writes through the store's `_insert` and reads
through its `_session`.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import case, func, update
from sqlmodel import Session, SQLModel, select

from gdm.store.costs import of_user, sum_or_zero, unpriced_count
from gdm.store.tables import COMPLETION_STATUSES, CompletionRow, CostRow, row_dict, utc_day, utc_now

COMPLETION_KIND = "completion"  # CostRow.kind of an inline completion's call


def _rank(status: str) -> int:
    return COMPLETION_STATUSES.index(status)


class CompletionQueries:
    """Recording completion calls and what became of them; the cost meter's `completions` line."""

    _users: dict[str, str | None]  # session id -> user (Store.start_session)

    def _session(self) -> AbstractContextManager[Session]:  # provided by Store
        raise NotImplementedError

    def _insert(self, *rows: tuple[type[SQLModel], dict[str, Any]]) -> None:  # provided by Store
        raise NotImplementedError

    def add_completion(self, completion_id: str, session_id: str, *, model: str, mode: str, path: str | None,
                       request: dict[str, Any], response: dict[str, Any], text: str, tokens_in: int,
                       tokens_out: int, usd: float | None, day: str | None = None) -> None:
        """Record one completion call and its cost (one transaction: the meter and the row agree)."""
        day, user = day or utc_day(), self._users.get(session_id)
        self._insert(
            (CompletionRow, {"id": completion_id, "session_id": session_id, "user": user, "day": day,
                             "model": model, "mode": mode, "path": path, "request_json": json.dumps(request),
                             "response_json": json.dumps(response), "text": text, "lines": text.count("\n") + 1,
                             "tokens_in": tokens_in, "tokens_out": tokens_out, "cost_usd": usd,
                             "status": "unused", "accepted_chars": 0, "accepted_lines": 0,
                             "updated_at": utc_now()}),
            (CostRow, {"session_id": session_id, "task_id": None, "model": model, "tokens_in": tokens_in,
                       "tokens_out": tokens_out, "usd": usd, "day": day, "user": user, "kind": COMPLETION_KIND}),
        )

    def mark_completion(self, completion_id: str, status: str, accepted_chars: int = 0,
                        accepted_lines: int = 0) -> bool:
        """Move a completion forward (unused → shown → partial → accepted; never back) with how much
        of it was taken; False when the id is unknown or it was already that far."""
        if status not in COMPLETION_STATUSES:
            raise ValueError(f"status must be one of {', '.join(COMPLETION_STATUSES)}")
        later = [s for s in COMPLETION_STATUSES if _rank(s) < _rank(status)]
        more = CompletionRow.accepted_chars < accepted_chars  # type: ignore[operator]
        statement = (update(CompletionRow).where(CompletionRow.id == completion_id)
                     .where(CompletionRow.status.in_(later) | ((CompletionRow.status == status) & more))  # type: ignore[attr-defined]
                     .values(status=status, accepted_chars=accepted_chars, accepted_lines=accepted_lines,
                             updated_at=utc_now()))
        with self._session() as s:
            return bool(s.connection().execute(statement).rowcount)

    def completion(self, completion_id: str) -> dict[str, Any] | None:
        """One completion row (``request``/``response`` decoded), or None."""
        with self._session() as s:
            row = s.get(CompletionRow, completion_id)
            return None if row is None else _decoded(row)

    def completions_of(self, session_id: str) -> list[dict[str, Any]]:
        """A session's completion calls, oldest first (what a replay hands back)."""
        query = (select(CompletionRow).where(CompletionRow.session_id == session_id)
                 .order_by(CompletionRow.created_at, CompletionRow.id))  # type: ignore[arg-type]
        with self._session() as s:
            return [_decoded(r) for r in s.exec(query)]

    def completion_line(self, *, day: str | None = None, user: str | None = None) -> dict[str, Any]:
        """The cost meter's `completions` line for a day (default today UTC) and user: calls, USD,
        tokens, and how many were shown, accepted in part and accepted, with the lines accepted."""
        day = day or utc_day()
        costs = of_user(select(func.count(CostRow.id), sum_or_zero(CostRow.usd, 0.0), sum_or_zero(CostRow.tokens_in),
                               sum_or_zero(CostRow.tokens_out), unpriced_count())
                        .where(CostRow.day == day, CostRow.kind == COMPLETION_KIND), user)
        outcomes = select(*completion_outcomes()).where(CompletionRow.day == day)
        if user is not None:
            outcomes = outcomes.where((CompletionRow.user == user) | CompletionRow.user.is_(None))  # type: ignore[union-attr]
        with self._session() as s:
            calls, usd, tokens_in, tokens_out, unpriced = s.exec(costs).one()
            shown, partly, accepted, lines = s.exec(outcomes).one()
        return {"calls": int(calls), "usd": round(float(usd), 6), "tokensIn": int(tokens_in),
                "tokensOut": int(tokens_out), "unpricedCalls": int(unpriced), "shown": int(shown),
                "acceptedPartly": int(partly), "accepted": int(accepted), "acceptedLines": int(lines)}


def completion_outcomes() -> list[Any]:
    """Sums over completion rows: shown (at least), accepted in part, accepted, lines accepted."""
    def count(*statuses: str) -> Any:
        return sum_or_zero(case((CompletionRow.status.in_(statuses), 1), else_=0))  # type: ignore[attr-defined]
    return [count("shown", "partial", "accepted").label("shown"), count("partial").label("acceptedPartly"),
            count("accepted").label("accepted"), sum_or_zero(CompletionRow.accepted_lines).label("acceptedLines")]


def _decoded(row: CompletionRow) -> dict[str, Any]:
    out = row_dict(row)
    out["request"] = json.loads(out.pop("request_json"))
    out["response"] = json.loads(out.pop("response_json"))
    return out
