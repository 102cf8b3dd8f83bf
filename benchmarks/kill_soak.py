"""kill -9 at random points of tasks: nothing proposed is lost, no cost is lost or counted twice.

Each trial starts a real server (`python -m gdm`, driven like the end-to-end tests' editor) on
one shared database, first checks what the previous (killed) server left — every patch it
proposed and nobody accepted is listed by `gdm.patch.list` and accepted cleanly (the editor gets
the edit), its task no longer "running" — then runs a task (an edit, a shell command, a streamed
reply) and SIGKILLs the server at a random point: at start, after the edit, mid-tool (the shell
command running), mid-stream, or mid-accept (right after `gdm.patch.accept` is sent). A last
server checks the last trial. Then, over the whole store:
- a model call is counted once: one cost row per stored turn, no (task, turn) twice, never more
  cost rows than the scripted model served to that task;
- no cost is lost: a turn that the next request (or the task's `done`) proves the server had
  processed has its row;
- every task has a final status (killed ones "interrupted"); SQLite's `PRAGMA integrity_check` is ok.

    .venv/bin/python benchmarks/kill_soak.py [--trials 100] [--seed 1] [--database-url URL]

Without --database-url: a fresh SQLite file. With a PostgreSQL URL (scripts/ci/postgres.sh starts
a throwaway server: `bash scripts/ci/postgres.sh sh -c '.venv/bin/python benchmarks/kill_soak.py
--database-url "$GDM_TEST_POSTGRES_URL"'`) the database should be empty.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import os
import random
import re
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "server"))

from sqlalchemy import create_engine, text  # noqa: E402

from gdm.scripted import ScriptedModel  # noqa: E402
from tests.e2e.editor import server_env, start_editor  # noqa: E402

PRICES = {"openai/scripted": {"inputPerMTok": 2.0, "outputPerMTok": 8.0}}
PHASES = ("start", "edit", "tool", "stream", "accept")
STREAMED = "A reply streamed slowly, so that the server can be killed while it arrives. " * 4


def conversation(trial: int) -> dict[str, Any]:
    """Trial `trial`'s task: edit its own file, run a shell command, stream a reply."""
    return {"match": f"kill trial {trial}.", "turns": [
        {"reply": {"tool_calls": [{"name": "edit_file", "arguments": {
            "path": f"f{trial}.py", "old_text": "x = 0\n", "new_text": f"x = {trial + 1}\n"}}]}},
        {"reply": {"tool_calls": [{"name": "run_command", "arguments": {"command": "sleep 0.5; echo slept"}}]}},
        {"fault": {"chunk_delay_s": 0.01, "times": 1_000_000}, "reply": {"content": STREAMED}},
    ]}


def _settings(model: ScriptedModel, url: str) -> dict[str, Any]:
    return {"model": "openai/scripted", "apiBase": model.base_url, "prices": PRICES, "databaseUrl": url,
            "shell": "allow", "user": "soak", "dayBudgetUsd": 1e6, "taskBudgetUsd": 1e6}


def _kill(editor: Any) -> None:
    server = editor.client._server  # noqa: SLF001 - pygls keeps the subprocess there
    if server is not None and server.returncode is None:
        # Killed already and reaped by asyncio's child watcher thread, whose returncode reaches this
        # loop a moment later: the process is gone, which is what the kill is for.
        with contextlib.suppress(ProcessLookupError):
            os.kill(server.pid, signal.SIGKILL)


async def _close(editor: Any) -> None:
    with contextlib.suppress(Exception):
        await asyncio.wait_for(editor.client.stop(), 10)


async def _events(editor: Any, kind: str, task_id: str, name: str | None = None) -> list[dict]:
    return [e for e in editor.events(task_id, kind) if name is None or e.get("name") == name]


async def _check_left(editor: Any, left: dict[str, Any], stats: collections.Counter) -> None:
    """What the killed server left: its unaccepted patches listed, and each accepted cleanly."""
    listed = {p["patchId"]: p for p in (await editor.command("gdm.patch.list"))["patches"]}
    for patch_id in left.get("proposed", []):
        status = left["stored"].get(patch_id)
        if patch_id in listed:
            result = await editor.command("gdm.patch.accept", {"patchId": patch_id})
            stats["patches accepted after restart"] += 1
            if not result.get("applied"):
                stats["patches not acceptable"] += 1
                print(f"patch {patch_id} not acceptable: {result}", file=sys.stderr)
        elif status not in ("accepted",):
            stats["patches lost"] += 1
            print(f"lost patch {patch_id} (stored as {status})", file=sys.stderr)


def _stored_patches(url: str, task_id: str) -> dict[str, str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return dict(conn.execute(text("SELECT id, status FROM patches WHERE task_id = :t"), {"t": task_id}).all())
    finally:
        engine.dispose()


async def trial(n: int, rng: random.Random, model: ScriptedModel, workspace: Path, tmp: Path, url: str,
                left: dict[str, Any], stats: collections.Counter) -> dict[str, Any]:
    """One trial: check what the last server left, run a task, kill the server at a random point."""
    t0 = time.monotonic()
    editor, _ = await start_editor(workspace, tmp, init_options=_settings(model, url), env=server_env(tmp))
    try:
        await editor.command("gdm.patch.list")
        if os.environ.get("GDM_SOAK_VERBOSE"):
            print(f"trial {n}: server up in {time.monotonic() - t0:.1f} s", file=sys.stderr)
        await _check_left(editor, left, stats)
        if n < 0:
            return {}
        phase = PHASES[rng.randrange(len(PHASES))]
        stats[f"killed at {phase}"] += 1
        task_id = (await editor.command("gdm.ask", {"prompt": f"kill trial {n}. Edit f{n}.py"}))["taskId"]
        if phase == "start":
            await asyncio.sleep(rng.uniform(0, 0.5))
        elif phase == "edit":
            await editor.wait_for(lambda: [p for p in editor.notes["gdm/patchProposed"] if p["taskId"] == task_id], 60)
            await asyncio.sleep(rng.uniform(0, 0.1))
        elif phase == "tool":
            await editor.wait_for(lambda: [e for e in editor.events(task_id, "toolCall") if e["name"] == "run_command"], 60)
            await asyncio.sleep(rng.uniform(0, 0.5))
        elif phase == "stream":
            await editor.wait_for(lambda: editor.events(task_id, "response"), 60)
            await asyncio.sleep(rng.uniform(0, 0.5))
        else:
            await editor.wait_done(task_id, 90)
            patch_id = [p for p in editor.notes["gdm/patchProposed"] if p["taskId"] == task_id][0]["patchId"]
            accepting = asyncio.ensure_future(editor.command("gdm.patch.accept", {"patchId": patch_id}))
            accepting.add_done_callback(lambda f: f.cancelled() or f.exception())  # the kill fails it
            await asyncio.sleep(rng.uniform(0, 0.05))
        done = bool(editor.events(task_id, "done"))
        _kill(editor)
        proposed = list(dict.fromkeys(p["patchId"] for p in editor.notes["gdm/patchProposed"] if p["taskId"] == task_id))
        return {"task": task_id, "done": done, "proposed": proposed}
    finally:
        _kill(editor)
        await _close(editor)


def _trial_of(text_: str) -> int | None:
    found = re.search(r"kill trial (\d+)\.", text_)
    return int(found.group(1)) if found else None


def check_store(url: str, model: ScriptedModel, done: dict[str, bool]) -> collections.Counter:
    """Costs once, none lost, every task final; integrity on SQLite."""
    out: collections.Counter = collections.Counter()
    served: collections.Counter = collections.Counter()
    for request in model.requests:
        prompt = next((m["content"] for m in request["messages"] if m["role"] == "user"), "")
        served[(_trial_of(prompt), sum(m["role"] == "assistant" for m in request["messages"]))] += 1
    engine = create_engine(url)
    with engine.connect() as conn:
        turns = collections.Counter(conn.execute(text('SELECT task_id, "index" FROM turns')).all())
        costs = dict(conn.execute(text("SELECT task_id, COUNT(*) FROM costs GROUP BY task_id")).all())
        tasks = conn.execute(text("SELECT id, prompt, status FROM tasks")).all()
    engine.dispose()
    for task_id, prompt, status in tasks:
        out[f"tasks {status}"] += 1
        key = _trial_of(prompt)
        indices = [i for (t, i) in turns if t == task_id]
        out["turns twice"] += sum(turns[(task_id, i)] > 1 for i in indices)
        out["costs double"] += max(0, costs.get(task_id, 0) - len(indices))
        out["costs more than calls served"] += max(0, costs.get(task_id, 0) - sum(
            n for (k, _i), n in served.items() if k == key))
        out["costs recorded"] += costs.get(task_id, 0)
        for turn in range(3):  # turn k is proven processed by a request of turn k+1, or the task's done
            proven = served.get((key, turn + 1), 0) > 0 or (turn == 2 and done.get(task_id, False))
            if proven and (task_id, turn) not in turns:
                out["costs lost"] += 1
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            out["integrity failures"] += db.execute("PRAGMA integrity_check").fetchone()[0] != "ok"
    return out


async def soak(trials: int, seed: int, url: str | None, tmp: Path) -> tuple[collections.Counter, float]:
    """Run `trials` trials; returns the figures and the seconds taken."""
    workspace = tmp / "ws"
    shutil.copytree(REPO / "fixtures" / "workspaces" / "calc", workspace)
    for n in range(trials):
        (workspace / f"f{n}.py").write_text("x = 0\n")
    url = url or f"sqlite:///{tmp / 'gdm.db'}"
    rng, stats = random.Random(seed), collections.Counter()
    started = time.monotonic()
    done: dict[str, bool] = {}
    with ScriptedModel({"conversations": [conversation(n) for n in range(trials)]}) as model:
        left: dict[str, Any] = {}
        for n in [*range(trials), -1]:  # -1: the last server only checks
            if left:
                left["stored"] = _stored_patches(url, left["task"])
            left = await trial(n, rng, model, workspace, tmp, url, left, stats)
            if left:
                done[left["task"]] = left["done"]
        stats.update(check_store(url, model, done))
    return stats, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="gdm-kill-soak-"))
    try:
        stats, seconds = asyncio.run(soak(args.trials, args.seed, args.database_url, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    backend = "PostgreSQL" if args.database_url and args.database_url.startswith("postgres") else "SQLite"
    print(f"\n{args.trials} trials on {backend}, seed {args.seed}; {seconds:.0f} s\n")
    goals = ["patches lost", "patches not acceptable", "costs lost", "costs double", "turns twice"]
    for goal in goals + (["integrity failures"] if backend == "SQLite" else []):
        stats[goal] += 0  # the figures whose goal is 0 are shown when they are 0, too
    print("| figure | value |\n|---|---|")
    for key in sorted(stats):
        print(f"| {key} | {stats[key]} |")


if __name__ == "__main__":
    main()
