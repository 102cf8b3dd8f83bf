"""1,000 faulted model calls in one run: servers alive, no session lost, no cost missing.

Starts S real servers (`python -m gdm`, the end-to-end tests' editor model) sharing one SQLite
store, all pointed at one scripted model whose script gives every task its own conversation
with one fault: 500 then retried, 429 (Retry-After 0) then retried, a primary down with 503 (3
attempts, then the fallback), garbage, empty choices, a stream cut mid-reply, and malformed
tool-call JSON fed back to the model. Each server runs its tasks one after another (the order
keeps fewer than 5 consecutive failures, so the circuit breaker stays closed; it is tested on
its own), until the scripted model has served the wanted number of faulted calls.

Then it checks: every server still answers; the store holds every session, every task with a
final status, and a cost row (with a price) for every recorded model turn; every task got its
`done` event. Prints a table.

    .venv/bin/python benchmarks/fault_soak.py [--faults 1000] [--servers 4]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "server"))

from gdm.scripted import ScriptedModel  # noqa: E402
from tests.e2e.editor import start_editor, stop_editor  # noqa: E402

PRICES = {"openai/scripted": {"inputPerMTok": 2.0, "outputPerMTok": 8.0},
          "openai/scripted-fallback": {"inputPerMTok": 1.0, "outputPerMTok": 4.0}}
OK = {"reply": {"content": "fine"}}
# (kind, turns, expected final status, faulted requests per task), in the order each server runs them.
KINDS = [
    ("fallback", [{"fault": {"status": 503, "times": 3, "model": "scripted"}, **OK}], "done", 3),
    ("500-retried", [{"fault": {"status": 500, "times": 1}, **OK}], "done", 1),
    ("garbage", [{"fault": {"garbage": True, "times": 1}, **OK}], "error", 1),
    ("empty-choices", [{"fault": {"empty_choices": True, "times": 1}, **OK}], "error", 1),
    ("bad-tool-json", [{"reply": {"tool_calls": [{"name": "read_file", "arguments_raw": "{\"path\": "}]}},
                       {"expect": {"tool_results_contain": ["Invalid JSON"]}, **OK}], "done", 0),
    ("cut-stream", [{"fault": {"cut_stream": True, "times": 1},
                     "reply": {"content": "a reply cut in the middle of its stream"}}], "error", 1),
    ("429-retried", [{"fault": {"status": 429, "retry_after": 0, "times": 1}, **OK}], "done", 1),
]


def script(tasks_per_server: int, servers: int) -> dict:
    conversations = []
    for server in range(servers):
        for i in range(tasks_per_server):
            kind, turns, _status, _faults = KINDS[i % len(KINDS)]
            conversations.append({"match": f"soak {server}-{i} {kind}.", "turns": turns})
    return {"conversations": conversations}


async def one_server(index: int, tasks: int, model: ScriptedModel, tmp: Path, db: Path) -> dict:
    workspace = tmp / f"ws{index}"
    shutil.copytree(REPO / "fixtures" / "workspaces" / "calc", workspace)
    options = {"model": "openai/scripted", "apiBase": model.base_url, "prices": PRICES,
               "fallbackModel": "openai/scripted-fallback", "databaseUrl": f"sqlite:///{db}",
               "taskBudgetUsd": 1000, "dayBudgetUsd": 1_000_000}
    editor, _ = await start_editor(workspace, tmp / f"home{index}", init_options=options)
    statuses: collections.Counter = collections.Counter()
    unexpected: list[str] = []
    task_ids = []
    try:
        await editor.open("calc.py")
        for i in range(tasks):
            kind, _turns, want, _faults = KINDS[i % len(KINDS)]
            result = await editor.command("gdm.ask", {"prompt": f"soak {index}-{i} {kind}.", "uri": editor.uri("calc.py")})
            done = await editor.wait_done(result["taskId"], timeout=60)
            task_ids.append(result["taskId"])
            statuses[done["status"]] += 1
            if done["status"] != want:
                unexpected.append(f"{kind}: {done['status']} {editor.events(result['taskId'], 'error')[-1:]}")
        alive = isinstance((await editor.command("gdm.cost", {}))["sessionUsd"], float)
    finally:
        await stop_editor(editor)
    return {"statuses": statuses, "unexpected": unexpected, "alive": alive, "tasks": task_ids}


def store_checks(db: Path, task_ids: list[str], servers: int) -> dict:
    con = sqlite3.connect(db)
    q = lambda sql, *a: con.execute(sql, a).fetchall()  # noqa: E731
    sessions = q("select count(*) from sessions")[0][0]
    rows = dict(q("select id, status from tasks"))
    missing_tasks = [t for t in task_ids if t not in rows]
    unfinished = [t for t, s in rows.items() if s == "running"]
    turns = q("select count(*) from turns")[0][0]
    costs = q("select count(*) from costs")[0][0]
    unpriced = q("select count(*) from costs where usd is null")[0][0]
    # A cost row per turn: same task, same count.
    per_task = q("select t.task_id, count(*) from turns t group by t.task_id")
    cost_per_task = dict(q("select task_id, count(*) from costs group by task_id"))
    missing_costs = sum(max(0, n - cost_per_task.get(task, 0)) for task, n in per_task)
    con.close()
    return {"sessions": sessions, "sessions_lost": servers - sessions, "tasks": len(rows),
            "tasks_missing": len(missing_tasks), "tasks_unfinished": len(unfinished), "turns": turns,
            "costs": costs, "costs_missing": missing_costs, "costs_unpriced": unpriced}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faults", type=int, default=1000)
    parser.add_argument("--servers", type=int, default=4)
    args = parser.parse_args()
    per_cycle = sum(k[3] for k in KINDS)
    tasks = -(-args.faults * len(KINDS) // (per_cycle * args.servers))
    with tempfile.TemporaryDirectory(prefix="gdm-soak-") as tmp_name:
        tmp = Path(tmp_name)
        db = tmp / "gdm.db"
        with ScriptedModel(script(tasks, args.servers)) as model:
            t0 = time.perf_counter()
            results = await asyncio.gather(*(one_server(i, tasks, model, tmp, db) for i in range(args.servers)))
            elapsed = time.perf_counter() - t0
            faulted = sum(model._fault_counts.values())
            requests = len(model.requests)
        checks = store_checks(db, [t for r in results for t in r["tasks"]], args.servers)
    statuses = sum((r["statuses"] for r in results), collections.Counter())
    unexpected = [u for r in results for u in r["unexpected"]]
    print(f"{args.servers} servers, {tasks} tasks each, one shared SQLite store; {elapsed:.0f} s")
    print()
    print("| figure | value |")
    print("|---|---|")
    for name, value in [
        ("model requests served", requests), ("faulted requests", faulted),
        ("tasks done / error / other", f"{statuses['done']} / {statuses['error']} / "
                                        f"{sum(statuses.values()) - statuses['done'] - statuses['error']}"),
        ("tasks ending other than expected", len(unexpected)),
        ("servers alive at the end", f"{sum(r['alive'] for r in results)} of {args.servers}"),
        ("sessions stored / lost", f"{checks['sessions']} / {checks['sessions_lost']}"),
        ("tasks stored / missing / left running", f"{checks['tasks']} / {checks['tasks_missing']} / "
                                                   f"{checks['tasks_unfinished']}"),
        ("model turns stored", checks["turns"]),
        ("cost rows / missing / without a price", f"{checks['costs']} / {checks['costs_missing']} / "
                                                   f"{checks['costs_unpriced']}"),
    ]:
        print(f"| {name} | {value} |")
    for line in unexpected[:10]:
        print(f"unexpected: {line}")


if __name__ == "__main__":
    asyncio.run(main())
