"""Conversations (issue 17): gdm's own time to rebuild a conversation from the store after a
restart, and the context tokens of a 10-message conversation with and without compaction.

Rebuild: real tasks run through the engine (Session → loop → tools → store, litellm → HTTP → the
scripted model), a first ask and then follow-ups, each `read_file`-ing real source files (gdm's own
agent/ modules, 2–17 KB each), until the conversation holds `--messages` messages. Then the store is
closed and opened again (a restart), and what a follow-up pays before its first model call is timed:
resolving the task id to its conversation, the conversation's tasks, the earlier messages rebuilt from
the latest task's turns (store/turns.py deltas) and tool calls, the earlier cost and patched paths.
Also timed: the panel's `gdm.conversation.get` payload (agent/conversation_view.py). The first call
after the restart ("cold", a new engine and connection) and `--runs` more ("warm").
Goal: < 50 ms for 100 messages.

Tokens: a 10-message conversation (system, ask, three read_file calls with their results, the answer,
a follow-up) of the same real files, counted by litellm's `token_counter` (gpt-4o's tokenizer) and by
gdm's estimate (characters / 4, agent/compaction.py), as sent without compaction and as compaction
leaves it (the older tool results stubbed, a summary after the first ask: the summary text is a
fixed 480-character stand-in for what a model writes).

    .venv/bin/python benchmarks/conversation.py [--messages 100] [--runs 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "server"))
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from gdm.agent import compaction, conversation_view, prompts  # noqa: E402
from gdm.agent.conversation import Conversations  # noqa: E402
from gdm.agent.session import Session, TaskSpec  # noqa: E402
from gdm.config import resolve  # noqa: E402
from gdm.context.workspace import NoBuffers  # noqa: E402
from gdm.scripted import ScriptedModel  # noqa: E402
from gdm.store import open_store  # noqa: E402

FILES = sorted(p.name for p in (REPO / "server" / "gdm" / "agent").glob("*.py") if p.name != "__init__.py")
READS_PER_TASK = 9  # each task: its prompt, 9 read_file calls and results, the answer = 20 messages
SUMMARY = ("The user asked for a review of the agent package. Read so far: compaction.py (the policy and "
           "Compactor), conversation.py (follow-ups rebuilt from the store), events.py (event dataclasses), "
           "loop.py (the model-tool loop), prompts.py (system prompt, task message), recording.py "
           "(Recorder and Budget). No change proposed yet; next: session.py and testrun.py for the same review.")


def script(tasks: int) -> dict:
    turns = []
    for _ in range(tasks):
        turns += [{"reply": {"tool_calls": [{"name": "read_file", "arguments": {"path": FILES[i % len(FILES)]}}]}}
                  for i in range(READS_PER_TASK)]
        turns.append({"reply": {"content": "Read them; nothing to change."}})
    summary = {"match": "Summarize this coding session so far", "turns": [{"reply": {"content": SUMMARY}}]}
    return {"conversations": [summary, {"match": "Rebuild benchmark", "turns": turns}]}


async def build(workspace: Path, db: str, tasks: int) -> tuple[str, str]:
    """Run the conversation; returns (its id, its last task id)."""
    with ScriptedModel(script(tasks)) as model:
        settings = resolve([{"model": "openai/scripted", "apiBase": model.base_url, "databaseUrl": db,
                             "maxTurns": READS_PER_TASK + 2}]).settings
        session = Session(root=workspace, settings=settings, store=open_store(db), buffers=NoBuffers(), stream=False)
        conversation_id = None
        task_id = ""
        for n in range(tasks):
            task_id = f"t-bench{n}"
            prompt = "Rebuild benchmark: read the agent package" if n == 0 else f"Follow-up {n}: read them again"
            async for event in session.run_task(task_id, TaskSpec(prompt, conversation_id=conversation_id)):
                if getattr(event, "kind", None) == "error":
                    raise SystemExit(f"task failed: {event}")
            conversation_id = session.conversation_of(task_id)
        session.model_loop.close()
        session.store.close()
        assert conversation_id is not None and not model.failures, model.failures
        return conversation_id, task_id


def follow_up_start(store, workspace: str, task_id: str) -> int:
    """What a follow-up of `task_id` reads before its first model call; returns the message count."""
    conversations = Conversations(store, workspace)
    conversation_id = conversations.resolve(task_id)
    tasks = store.conversation_tasks(conversation_id)
    history = conversations.history(tasks)
    ids = [t["id"] for t in tasks]
    store.task_usd(ids)
    store.patches_of_tasks(ids)
    return len(history)


def timed(fn, runs: int) -> tuple[float, list[float], list[float]]:
    """Wall ms of the first call, then wall and CPU (this process) ms of `runs` more."""
    start = time.perf_counter()
    fn()
    cold = (time.perf_counter() - start) * 1000
    wall, cpu = [], []
    for _ in range(runs):
        start, cstart = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - cstart) * 1000)
    return cold, wall, cpu


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(round(0.95 * len(ordered))) - 1)]


def ten_messages(workspace: Path) -> list[dict]:
    """System prompt, the ask, three read_file calls with their results, the answer, a follow-up."""
    messages = [{"role": "system", "content": prompts.SYSTEM},
                {"role": "user", "content": prompts.task_message("Review the agent package for dead code", None)}]
    for i, name in enumerate(FILES[:3]):
        call = {"id": f"c{i}", "type": "function", "function": {"name": "read_file", "arguments": f'{{"path": "{name}"}}'}}
        messages += [{"role": "assistant", "content": None, "tool_calls": [call]},
                     {"role": "tool", "tool_call_id": f"c{i}", "content": (workspace / name).read_text()}]
    return messages + [{"role": "assistant", "content": "Nothing is dead; the three modules are used."},
                       {"role": "user", "content": "Follow-up request: now read session.py too"}]


def token_rows(workspace: Path) -> list[tuple[str, int, int, int]]:
    import litellm  # noqa: PLC0415 - heavy, only for this figure

    base = ten_messages(workspace)
    rows = [("without compaction", base)]
    for keep in (2, 1):
        p = compaction.plan(base, budget=1, keep_recent=keep)
        assert p is not None
        rows.append((f"compacted, last {keep} turn(s) kept", compaction.apply(base, p, SUMMARY)))
    return [(label, len(messages), litellm.token_counter(model="gpt-4o", messages=messages),
             compaction.estimate_tokens(messages)) for label, messages in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    tasks = max(1, args.messages // (2 * READS_PER_TASK + 2))
    with tempfile.TemporaryDirectory(prefix="gdm-bench-conv-") as tmp:
        workspace = Path(tmp) / "ws"
        shutil.copytree(REPO / "server" / "gdm" / "agent", workspace)
        db = f"sqlite:///{tmp}/bench.db"
        _conversation_id, last = asyncio.run(build(workspace, db, tasks))
        root = str(workspace.resolve())
        start = time.perf_counter()
        store = open_store(db)  # the restart: a new engine on the same file
        opened = (time.perf_counter() - start) * 1000
        counts: list[int] = []
        cold, warm, cpu = timed(lambda: counts.append(follow_up_start(store, root, last)), args.runs)
        conversation_id = store.conversation_of(last)["conversation_id"]
        got: list[int] = []
        pcold, pwarm, pcpu = timed(lambda: got.append(len(conversation_view.messages(store, root, conversation_id)["messages"])),
                             args.runs)
        store.close()
        print(f"conversation: {tasks} tasks, {got[0]} messages (panel view), {counts[0]} messages rebuilt for the "
              f"model (no system prompt); store opened again in {opened:.1f} ms")
        print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print("| what | cold ms | warm median ms | warm p95 ms | warm median CPU ms |")
        print("|---|---|---|---|---|")
        print(f"| follow-up start: resolve + rebuild history | {cold:.1f} | {statistics.median(warm):.1f} | "
              f"{p95(warm):.1f} | {statistics.median(cpu):.1f} |")
        print(f"| gdm.conversation.get payload | {pcold:.1f} | {statistics.median(pwarm):.1f} | {p95(pwarm):.1f} | "
              f"{statistics.median(pcpu):.1f} |")
        print()
        print("| 10-message conversation | messages | tokens (litellm, gpt-4o) | tokens (gdm estimate) |")
        print("|---|---|---|---|")
        for label, n, tokens, estimate in token_rows(workspace):
            print(f"| {label} | {n} | {tokens} | {estimate} |")


if __name__ == "__main__":
    main()
