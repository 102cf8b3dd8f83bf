"""A team on one PostgreSQL (issue 16): 2 to 8 gdm store writers at once, each a separate process
writing as a server's task does — every model call one `record_turn` (the turn's request delta and
reply, and its cost row, in one transaction, store/repo.py) — to one database.

Per writer count: total writes per second, median and p99 latency of one write (as the writer saw
it), and what the database holds afterwards against what the writers reported written: turns lost,
cost rows lost or doubled, USD summed by the store vs by the writers (goal: 0 lost, 0 doubled).

    bash scripts/ci/postgres.sh .venv/bin/python benchmarks/store_load.py   # a throwaway cluster
    .venv/bin/python benchmarks/store_load.py --database-url postgresql+psycopg://…  # a server you name
    options: --writers 2,4,8  --writes 300 (per writer)

Each writer count runs on a fresh database (created and dropped on the server of the URL).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "server")]

REQUEST = {"messages": [{"role": "user", "content": "x" * 1500}], "tools": [], "delta": True}
RESPONSE = {"choices": [{"message": {"role": "assistant", "content": "y" * 400}}]}
USD = 0.000125  # per write: exact in binary, so sums compare exactly


def writer(url: str, number: int, writes: int, start, out) -> None:
    """One server's worth of writes: a session, a task, `writes` model calls recorded one by one."""
    from gdm.store import open_store

    store = open_store(url)
    session, task = f"s-load-{number}-{uuid.uuid4().hex[:6]}", f"t-load-{number}-{uuid.uuid4().hex[:6]}"
    store.start_session(session, "/work/load", "openai/scripted", user=f"user{number % 2}")
    store.start_task(task, session, "load")
    start.wait()  # every writer ready (imported, store open, session and task started): all start at once
    latencies, written, errors = [], 0, []
    began = time.perf_counter()
    for index in range(writes):
        t0 = time.perf_counter()
        try:
            store.record_turn(session, task, index, "openai/scripted", REQUEST, RESPONSE, 1000, 100, USD)
            written += 1
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}"[:200])
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - began
    store.finish_task(task, "done")
    store.close()
    out.put({"task": task, "written": written, "errors": errors, "latencies": latencies, "elapsed": elapsed})


def held(url: str, tasks: list[str]) -> tuple[int, int, float]:
    """Turn rows, cost rows and cost USD the database holds for `tasks`."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        turns = conn.execute(sa.text("SELECT count(*) FROM turns WHERE task_id = ANY(:t)"), {"t": tasks}).scalar()
        costs, usd = conn.execute(sa.text("SELECT count(*), coalesce(sum(usd), 0) FROM costs WHERE task_id = ANY(:t)"),
                                  {"t": tasks}).one()
    engine.dispose()
    return int(turns), int(costs), float(usd)


def run(url: str, writers: int, writes: int) -> dict:
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Barrier(writers + 1), ctx.Queue()
    procs = [ctx.Process(target=writer, args=(url, n, writes, start, out)) for n in range(writers)]
    for p in procs:
        p.start()
    start.wait(timeout=300)
    wall0 = time.perf_counter()
    results = [out.get(timeout=600) for _ in procs]
    wall = time.perf_counter() - wall0
    for p in procs:
        p.join(60)
    latencies = sorted(x for r in results for x in r["latencies"])
    written = sum(r["written"] for r in results)
    turns, costs, usd = held(url, [r["task"] for r in results])
    return {"writers": writers, "written": written, "wall": wall, "latencies": latencies,
            "turns_lost": written - turns, "costs_lost": max(0, written - costs), "costs_double": max(0, costs - written),
            "usd_diff": usd - written * USD, "errors": [e for r in results for e in r["errors"]],
            "exit": [p.exitcode for p in procs]}


def main() -> None:
    from tests.store_fixtures import fresh_postgres_database

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("GDM_TEST_POSTGRES_URL"),
                        help="a PostgreSQL server to create throwaway databases on (default: $GDM_TEST_POSTGRES_URL)")
    parser.add_argument("--writers", default="2,4,8")
    parser.add_argument("--writes", type=int, default=300, help="model calls recorded per writer")
    args = parser.parse_args()
    if not args.database_url:
        raise SystemExit("store_load.py: no PostgreSQL (bash scripts/ci/postgres.sh .venv/bin/python benchmarks/store_load.py)")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; {args.writes} writes per writer, "
          f"each a turn (~2 KB) and its cost row in one transaction\n")
    print("| writers | writes | writes/s | median ms | p99 ms | turns lost | costs lost | costs double | USD diff | errors |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    bad = False
    for count in [int(x) for x in args.writers.split(",")]:
        with fresh_postgres_database(args.database_url) as url:
            from gdm.store import open_store

            open_store(url).close()  # migrated once, before the writers (each also opens it: the lock is tested elsewhere)
            r = run(url, count, args.writes)
        lat = r["latencies"]
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
        print(f"| {count} | {r['written']} | {r['written'] / r['wall']:.0f} | {statistics.median(lat) * 1000:.1f} | "
              f"{p99:.1f} | {r['turns_lost']} | {r['costs_lost']} | {r['costs_double']} | {r['usd_diff']:.9f} | "
              f"{len(r['errors'])} |")
        if r["errors"] or r["turns_lost"] or r["costs_lost"] or r["costs_double"] or any(r["exit"]):
            bad = True
            print("  ", r["errors"][:3], r["exit"], file=sys.stderr)
    raise SystemExit(1 if bad else 0)


if __name__ == "__main__":
    main()
