"""Running cost totals (store/ledger.py): no store query per model call, and a day total that stays
honest when another gdm process (a second editor window) spends on the same database."""

from __future__ import annotations


import pytest

from gdm.store.ledger import DAY_REFRESH_S, Ledger
from gdm.store.repo import Store

DAY = "2025-06-07"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingStore:
    """Counts the store reads the ledger makes."""

    def __init__(self, store: Store) -> None:
        self.store, self.reads = store, 0

    def totals(self, **kwargs):
        self.reads += 1
        return self.store.totals(**kwargs)

    def day_usd(self, day=None):
        self.reads += 1
        return self.store.day_usd(day)


@pytest.fixture
def url(db_url: str) -> str:
    """A fresh store database, on SQLite and on PostgreSQL (tests/store_fixtures.py)."""
    return db_url


def charge(ledger: Ledger, store: Store, task: str | None, usd: float | None, session: str = "s1") -> None:
    ledger.charge(lambda: store.add_cost(session, task, "m", 100, 10, usd, day=DAY), task, 100, 10, usd)


def test_seeded_from_the_store_then_counted_in_memory(url: str) -> None:
    with Store(url) as store:
        store.add_cost("s1", "t0", "m", 5, 5, 0.5, day=DAY)  # a resumed session's earlier spending
        store.add_cost("s-other", None, "m", 5, 5, 0.25, day=DAY)
        counting = CountingStore(store)
        ledger = Ledger(counting, "s1", clock=Clock(), today=lambda: DAY)
        assert (ledger.session_usd, ledger.day_usd()) == (0.5, 0.75)
        ledger.start_task("t1")
        reads = counting.reads
        for _ in range(10):
            charge(ledger, store, "t1", 0.01)
            assert ledger.day_usd(budget=100.0, estimate=0.01) > 0 and ledger.task_usd("t1") > 0
        assert counting.reads == reads  # ten calls, budget checks included, without a query
        charge(ledger, store, "t1", None)  # unpriced
        assert ledger.task_usd("t1") == pytest.approx(0.1)
        assert ledger.session_usd == pytest.approx(0.6) and ledger.day_usd() == pytest.approx(0.85)
        assert (ledger.tokens_in, ledger.tokens_out, ledger.unpriced_calls) == (1105, 115, 1)
        # The running totals are what the store says.
        assert store.totals(session_id="s1", task_id="t1", day=DAY)["taskUsd"] == pytest.approx(ledger.task_usd("t1"))
        assert store.day_usd(DAY) == pytest.approx(ledger.day_usd())
        assert ledger.task_usd("t0") == 0.5  # an older task: from the store


def test_another_window_spending_is_seen(url: str) -> None:
    clock = Clock()
    with Store(url) as mine, Store(url) as theirs:
        ledger = Ledger(mine, "s1", clock=clock, today=lambda: DAY)
        theirs.add_cost("s2", "t9", "m", 1, 1, 2.0, day=DAY)  # the other window, after we opened
        assert ledger.day_usd() == 0.0  # not read yet (this is what saves the query per call)
        ledger.start_task("t1")  # a task starts: read again
        assert ledger.day_usd() == 2.0
        theirs.add_cost("s2", "t9", "m", 1, 1, 3.0, day=DAY)
        clock.now += DAY_REFRESH_S + 1  # a while later: read again
        assert ledger.day_usd() == 5.0
        theirs.add_cost("s2", "t9", "m", 1, 1, 4.0, day=DAY)
        # Within the interval, but the call would bring the day near its budget: read again, exact.
        assert ledger.day_usd(budget=10.0, estimate=3.0) == 9.0
        assert ledger.day_usd(budget=100.0, estimate=1.0) == 9.0


def test_a_new_day_starts_from_the_store(url: str) -> None:
    days = iter(["2025-06-07"] * 3 + ["2025-06-08"] * 10)
    with Store(url) as store:
        store.add_cost("s1", None, "m", 1, 1, 1.5, day="2025-06-07")
        ledger = Ledger(store, "s1", clock=Clock(), today=lambda: next(days))
        assert ledger.day_usd() == 1.5
        assert ledger.day_usd() == 1.5
        assert ledger.day_usd() == 0.0  # midnight UTC passed
        assert ledger.session_usd == 1.5


def test_a_failed_write_is_not_counted(url: str) -> None:
    with Store(url) as store:
        ledger = Ledger(store, "s1", clock=Clock(), today=lambda: DAY)

        def failing() -> None:
            raise OSError("disk full")
        with pytest.raises(OSError):
            ledger.charge(failing, "t1", 10, 10, 1.0)
        assert (ledger.task_usd("t1"), ledger.session_usd, ledger.day_usd()) == (0.0, 0.0, 0.0)
