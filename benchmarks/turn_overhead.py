"""gdm's own time per agent turn, with litellm's share shown apart.

Runs real tasks through the engine (Session → loop → tools → store), in process, against the
scripted model. Each task is a conversation of N turns, each turn one `read_file` tool call,
then a final answer. Two model paths:

- `litellm`: LLMClient → litellm → HTTP → the scripted model (zero think time, loopback), streamed
  as the language server does. The time inside `complete()` (litellm, HTTP, the scripted server)
  and inside `count_tokens()` (litellm's tokenizer, for the budget check) is litellm's share.
- `replay`: the recorded replies of the first run handed back in process (models/replay.py):
  no litellm, no HTTP; what is left is gdm alone.

gdm's own time per turn = wall time of the task / turns − litellm's share. It is also split into
the store writes and reads (SQLite, WAL: every Store method the engine calls, STORE_METHODS) and
the rest (loop, tools, compaction check, events, thread hops).
Goal: < 3 ms of gdm's own per turn.

    .venv/bin/python benchmarks/turn_overhead.py [--turns 20] [--tasks 10]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "server"))

from gdm.agent.session import Session, TaskSpec  # noqa: E402
from gdm.config import resolve  # noqa: E402
from gdm.context.workspace import NoBuffers  # noqa: E402
from gdm.models import replay  # noqa: E402
from gdm.scripted import ScriptedModel  # noqa: E402
from gdm.store import open_store  # noqa: E402

STORE_METHODS = ("start_task", "finish_task", "add_turn", "add_cost", "record_turn", "add_tool_call", "totals",
                 "day_usd", "add_audit")


def script(turns: int) -> dict:
    reads = [{"reply": {"tool_calls": [{"name": "read_file", "arguments": {"path": "calc.py"}}]},
              "usage": {"prompt_tokens": 1000, "completion_tokens": 20}} for _ in range(turns - 1)]
    return {"conversations": [{"match": "overhead", "turns": [*reads, {"reply": {"content": "Done."}}]}]}


class Timed:
    """Wraps a model client and adds up the time spent in it (litellm's share)."""

    def __init__(self, inner: Any, clock: dict) -> None:
        self.inner, self.clock, self.config = inner, clock, inner.config

    async def complete(self, messages: list[dict], tools: list[dict] | None = None, on_text: Any = None) -> Any:
        t0 = time.perf_counter()
        try:
            return await self.inner.complete(messages, tools, on_text=on_text)
        finally:
            self.clock["model"] += time.perf_counter() - t0

    def count_tokens(self, messages: list[dict]) -> int:
        t0 = time.perf_counter()
        try:
            return self.inner.count_tokens(messages)
        finally:
            self.clock["tokens"] += time.perf_counter() - t0


def time_store(store: Any, clock: dict) -> None:
    """Time the store calls the engine makes (instance attributes shadow the methods)."""
    for name in STORE_METHODS:
        method = getattr(store, name)

        def timed(*args: Any, _method: Any = method, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return _method(*args, **kwargs)
            finally:
                clock["store"] += time.perf_counter() - t0
        setattr(store, name, timed)


async def run_tasks(tmp: Path, settings: dict, tasks: int, make_client: Any) -> list[dict]:
    """Run `tasks` tasks; per task the wall time and each share, in seconds."""
    workspace = tmp / f"ws-{time.monotonic_ns()}"
    shutil.copytree(REPO / "fixtures" / "workspaces" / "calc", workspace)
    s = resolve([{**settings, "databaseUrl": f"sqlite:///{workspace}.db"}]).settings
    store = open_store(s.database_url)
    session = Session(root=workspace, settings=s, store=store, buffers=NoBuffers())
    results = []
    for i in range(tasks):
        clock = {"model": 0.0, "tokens": 0.0, "store": 0.0}
        time_store(store, clock)
        task_id = f"t-{i:08x}"
        t0 = time.perf_counter()
        turns = 0
        async for event in session.run_task(task_id, TaskSpec("overhead", "calc.py", 0, 3),
                                            llm_factory=lambda c, p, clock=clock: Timed(make_client(session, c, p), clock)):
            turns += type(event).__name__ == "CostRecorded"
        results.append({"wall": time.perf_counter() - t0, "turns": turns, **clock, "task_id": task_id,
                        "session": session.id, "url": s.database_url})
        for name in STORE_METHODS:
            delattr(store, name)
    store.close()
    return results


def row(mode: str, results: list[dict]) -> str:
    per_turn = [{k: r[k] / r["turns"] * 1000 for k in ("wall", "model", "tokens", "store")} for r in results]
    med = {k: statistics.median(p[k] for p in per_turn) for k in per_turn[0]}
    own = [p["wall"] - p["model"] - p["tokens"] for p in per_turn]
    own_med = statistics.median(own)
    return (f"| {mode:<33} | {results[0]['turns']:>5} | {med['wall']:>8.2f} | {med['model']:>8.2f} | "
            f"{med['tokens']:>8.2f} | {own_med:>8.2f} | {med['store']:>8.2f} | {own_med - med['store']:>9.2f} |")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=20)
    parser.add_argument("--tasks", type=int, default=10)
    args = parser.parse_args()
    prices = {"openai/scripted": {"inputPerMTok": 2.0, "outputPerMTok": 8.0}}
    with tempfile.TemporaryDirectory(prefix="gdm-bench-") as tmp_name, ScriptedModel(script(args.turns)) as model:
        tmp = Path(tmp_name)
        settings = {"model": "openai/scripted", "apiBase": model.base_url, "prices": prices, "maxTurns": 500,
                    "taskBudgetUsd": 1000, "dayBudgetUsd": 100000}
        # Warm-up: litellm's import, its provider modules and tokenizer, SQLite files.
        await run_tasks(tmp, settings, 1, lambda s, c, p: s.llm_client(c, p))
        real = await run_tasks(tmp, settings, args.tasks, lambda s, c, p: s.llm_client(c, p))
        with open_store(real[0]["url"]) as store:
            recording = replay.Recording.from_store(store, real[0]["session"])
        recorded = recording.tasks[0]
        replayed = await run_tasks(tmp, settings, args.tasks, lambda s, c, p: replay.ReplayClient(recorded))
    print(f"{args.tasks} tasks of {args.turns} turns each (one read_file per turn); medians per turn, ms")
    print()
    print("| model path                        | turns | wall/turn | litellm+HTTP | tokenizer | gdm own | of which store | gdm excl. store |")
    print("|-----------------------------------|-------|----------|----------|----------|----------|----------|-----------|")
    print(row("litellm → HTTP → scripted (stream)", real))
    print(row("replay (in process, no litellm)", replayed))


if __name__ == "__main__":
    asyncio.run(main())
