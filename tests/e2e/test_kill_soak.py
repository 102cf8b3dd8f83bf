"""A small seeded kill -9 soak (benchmarks/kill_soak.py runs the long one): the server SIGKILLed at
random points of tasks and restarted on the same database, on SQLite and on PostgreSQL — every
proposed patch still listed and acceptable, every model call counted once and none lost, every
task final (the killed ones "interrupted"), SQLite's integrity check ok."""

from __future__ import annotations

import importlib.util

from tests.conftest import REPO

_spec = importlib.util.spec_from_file_location("kill_soak", REPO / "benchmarks" / "kill_soak.py")
kill_soak = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(kill_soak)  # type: ignore[union-attr]


async def test_kill_9_at_random_points_loses_nothing(tmp_path, db_url):
    stats, _seconds = await kill_soak.soak(3, 7, db_url, tmp_path)
    for bad in ("patches lost", "patches not acceptable", "costs lost", "costs double", "turns twice",
                "costs more than calls served", "integrity failures", "tasks running"):
        assert stats[bad] == 0, (bad, dict(stats))
    assert stats["patches accepted after restart"] >= 1
    assert stats["tasks interrupted"] + stats["tasks done"] == 3, dict(stats)
