"""The store's cost rows: one per model call, and the sums the cost meter, the budgets and the
reports read (by task, session, day, user and model).

A mixin of `Store` (store/repo.py), like conversations.py: it writes through the store's `_insert`
and reads through its `_session`, so repo.py remains where database work is done.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import case, func
from sqlmodel import Session, SQLModel, select

from gdm.store.tables import CostRow, utc_day


def of_user(query: Any, user: str | None) -> Any:
    """`query` on cost rows narrowed to ``user``'s (and the rows from before users); all when None."""
    if user is None:
        return query
    return query.where((CostRow.user == user) | CostRow.user.is_(None))  # type: ignore[union-attr]


def sum_or_zero(column: Any, zero: float = 0) -> Any:
    """SUM of a column that is ``zero`` rather than NULL when no row matches."""
    return func.coalesce(func.sum(column), zero)


def unpriced_count() -> Any:
    """How many cost rows have no USD figure (a model with no known price)."""
    return sum_or_zero(case((CostRow.usd.is_(None), 1), else_=0))  # type: ignore[union-attr]


class CostQueries:
    """Recording model calls' costs and summing them."""

    _users: dict[str, str | None]  # session id -> user (Store.start_session)

    def _session(self) -> AbstractContextManager[Session]:  # provided by Store
        raise NotImplementedError

    def _insert(self, *rows: tuple[type[SQLModel], dict[str, Any]]) -> None:  # provided by Store
        raise NotImplementedError

    def add_cost(
        self, session_id: str, task_id: str | None, model: str, tokens_in: int, tokens_out: int,
        usd: float | None, day: str | None = None,
    ) -> None:  # fmt: skip
        """Record one model call's cost; ``usd`` None means unpriced; ``day`` defaults to today UTC."""
        self._insert((CostRow, {
            "session_id": session_id, "task_id": task_id, "model": model, "tokens_in": tokens_in,
            "tokens_out": tokens_out, "usd": usd, "day": day or utc_day(), "user": self._users.get(session_id),
        }))  # fmt: skip

    def day_usd(self, day: str | None = None, user: str | None = None) -> float:
        """USD spent on ``day`` (default today UTC) by every session on this database, or by every
        session of ``user`` (rows from before users, NULL, count as anyone's)."""
        with self._session() as s:
            query = select(sum_or_zero(CostRow.usd, 0.0)).where(CostRow.day == (day or utc_day()))
            return float(s.exec(of_user(query, user)).one())

    def totals(self, *, session_id: str, task_id: str | None, day: str | None = None,
               user: str | None = None) -> dict[str, Any]:
        """USD spent by the task, the session and the day (all sessions, or ``user``'s), and the
        session's tokens.

        Returns ``{"taskUsd", "sessionUsd", "dayUsd", "tokensIn", "tokensOut", "unpricedCalls"}``;
        ``taskUsd`` is 0.0 when ``task_id`` is None; ``day`` defaults to today UTC.
        """
        usd = sum_or_zero(CostRow.usd, 0.0)
        with self._session() as s:
            session_q = select(
                usd, sum_or_zero(CostRow.tokens_in), sum_or_zero(CostRow.tokens_out), unpriced_count()
            ).where(CostRow.session_id == session_id)
            session_usd, tokens_in, tokens_out, unpriced_calls = s.exec(session_q).one()
            day_usd = s.exec(of_user(select(usd).where(CostRow.day == (day or utc_day())), user)).one()
            task_usd = 0.0
            if task_id is not None:
                task_usd = s.exec(select(usd).where(CostRow.task_id == task_id)).one()
        return {
            "taskUsd": float(task_usd),
            "sessionUsd": float(session_usd),
            "dayUsd": float(day_usd),
            "tokensIn": int(tokens_in),
            "tokensOut": int(tokens_out),
            "unpricedCalls": int(unpriced_calls),
        }

    def by_model(self, *, session_id: str | None = None, day: str | None = None,
                 user: str | None = None) -> list[dict[str, Any]]:
        """Per-model sums of tasks' calls, sorted by model: ``{"model", "calls", "usd", "tokensIn",
        "tokensOut", "unpricedCalls"}``; no filter means every session and every day. Inline
        completions are not in it: they are their own line (store/completions.py)."""
        query = select(
            CostRow.model, func.count(), sum_or_zero(CostRow.usd, 0.0), sum_or_zero(CostRow.tokens_in),
            sum_or_zero(CostRow.tokens_out), unpriced_count(),
        )  # fmt: skip
        query = query.where(CostRow.kind.is_(None) | (CostRow.kind != "completion"))  # type: ignore[union-attr]
        if session_id is not None:
            query = query.where(CostRow.session_id == session_id)
        if day is not None:
            query = query.where(CostRow.day == day)
        query = of_user(query, user)
        query = query.group_by(CostRow.model).order_by(CostRow.model)
        keys = ("model", "calls", "usd", "tokensIn", "tokensOut", "unpricedCalls")
        with self._session() as s:
            return [dict(zip(keys, row, strict=True)) for row in s.exec(query)]
