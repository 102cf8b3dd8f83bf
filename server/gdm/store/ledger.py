"""Running cost totals of one session: task, session and day, kept in memory beside the store.

The budget check before every model call and the `gdm/costUpdate` after it need the task, session
and day totals. Three SUM queries a turn cost ~1 ms and grow with the table; the ledger keeps the
sums in memory instead, seeded from the store when the session opens, and adds each call's cost
as it is written (the write and the addition happen under one lock, so a re-read never counts a
cost twice or misses one of ours).

The day total is shared by every gdm process on the same database (two editor windows) and is the
day of one user (`user`: `Settings.effective_user()`) when the ledger is given one. The
ledger's day figure is the store's day sum as last read plus this session's costs since; it is
read again from the store
- when a task starts (`refresh_day`),
- when the last read is older than `DAY_REFRESH_S`,
- before a call that would bring the day total past `DAY_NEAR_FRACTION` of the day budget,
- when the UTC day changes.
So another process's spending can be missed only for a few seconds, and never when the day is
close to its budget: there the check re-reads the store and is exact.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from gdm.store.days import utc_day  # not tables: this is imported before the store opens

DAY_REFRESH_S = 10.0
DAY_NEAR_FRACTION = 0.8


class _CostStore(Protocol):
    """The store calls the ledger makes (gdm.store.repo.Store has them)."""

    def totals(self, *, session_id: str, task_id: str | None, day: str | None = None,
               user: str | None = None) -> dict[str, Any]: ...
    def day_usd(self, day: str | None = None, user: str | None = None) -> float: ...


class Ledger:
    """Task, session and day totals of one session; thread-safe (costs are written from worker threads)."""

    def __init__(self, store: _CostStore, session_id: str, *, clock: Callable[[], float] = time.monotonic,
                 today: Callable[[], str] = utc_day, user: str | None = None) -> None:
        self._store, self._session_id = store, session_id
        self._user = user  # the day is this user's, across every session on the database
        self._clock, self._today = clock, today
        self._lock = threading.Lock()
        self._tasks: dict[str, float] = {}
        self._day = today()
        seed = (store.totals(session_id=session_id, task_id=None, day=self._day) if user is None
                else store.totals(session_id=session_id, task_id=None, day=self._day, user=user))
        self.session_usd: float = seed["sessionUsd"]
        self.tokens_in: int = seed["tokensIn"]
        self.tokens_out: int = seed["tokensOut"]
        self.unpriced_calls: int = seed.get("unpricedCalls", 0)
        self._day_usd: float = seed["dayUsd"]
        self._day_read_at = clock()
        self.day_reads = 1  # how often the day total was read from the store (tests, benchmarks)

    def charge(self, write: Callable[[], None], task_id: str | None, tokens_in: int, tokens_out: int,
               usd: float | None) -> None:
        """Run `write` (the store write of this cost) and, once it succeeded, add the cost to the totals."""
        with self._lock:
            write()
            spent = usd or 0.0
            if task_id is not None:
                self._tasks[task_id] = self._tasks.get(task_id, 0.0) + spent
            self.session_usd += spent
            self._day_usd += spent
            self.tokens_in += tokens_in
            self.tokens_out += tokens_out
            self.unpriced_calls += usd is None

    def start_task(self, task_id: str) -> None:
        """A new task: its total starts at 0 and the day total is read again (other windows spend too)."""
        with self._lock:
            self._tasks.setdefault(task_id, 0.0)
        self.refresh_day()

    def task_usd(self, task_id: str | None) -> float:
        """What a task spent: from memory for this session's tasks, from the store for older ones."""
        if task_id is None:
            return 0.0
        with self._lock:
            if task_id in self._tasks:
                return self._tasks[task_id]
        return float(self._store.totals(session_id=self._session_id, task_id=task_id)["taskUsd"])

    def day_usd(self, *, budget: float | None = None, estimate: float = 0.0) -> float:
        """Today's total over every session on the database; read again from the store when stale,
        on a new day, or when `estimate` more would bring it near `budget`."""
        with self._lock:
            stale = (self._today() != self._day or self._clock() - self._day_read_at > DAY_REFRESH_S
                     or (budget is not None and self._day_usd + estimate >= DAY_NEAR_FRACTION * budget))
            if not stale:
                return self._day_usd
        return self.refresh_day()

    def refresh_day(self) -> float:
        """Read today's total from the store now."""
        with self._lock:
            self._day = self._today()
            self._day_usd = float(self._store.day_usd(self._day) if self._user is None
                                  else self._store.day_usd(self._day, user=self._user))
            self._day_read_at = self._clock()
            self.day_reads += 1
            return self._day_usd
