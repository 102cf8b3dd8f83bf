"""`textDocument/codeAction` and `textDocument/codeLens` latency while 3 tasks stream and one runs a shell command.

The real server (`python -m gdm`), the scripted model in its own process, the editor model of the
end-to-end tests. Three tasks stream long replies; a fourth calls `run_command` (policy `allow`)
with a command that prints a line every 20 ms for ~6 s. Code action and code lens requests are
timed from the client side while all four run. Goal (issue 7): p99 < 10 ms.

    .venv/bin/python benchmarks/latency_under_load.py [--requests 300]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]

from code_action_latency import CHUNK_DELAY_S, STREAM_CHARS, TABLE_HEADER, bench_editor, measure, row  # noqa: E402
from code_action_latency import script as stream_script  # noqa: E402


SHELL_COMMAND = "for i in $(seq 1 300); do echo line $i; sleep 0.02; done"


async def measure_until(editor, uri: str, limit: int, finished) -> tuple[list[float], list[float]]:
    """Code action and code lens timings, pair by pair, until `finished()` or `limit` pairs."""
    actions: list[float] = []
    lenses: list[float] = []
    while not finished() and len(actions) < limit:
        a, c = await measure(editor, uri, 1)
        actions += a
        lenses += c
    return actions or [0.0], lenses or [0.0]


def script(tasks: int) -> dict:
    conversations = stream_script(tasks)["conversations"]
    conversations.append({"match": "shell load", "turns": [
        {"reply": {"tool_calls": [{"name": "run_command", "arguments": {"command": SHELL_COMMAND}}]}},
        {"reply": {"content": "done"}}]})
    return {"conversations": conversations}


async def main(tasks: int, requests: int) -> None:
    async with bench_editor(script(tasks), shell="allow") as (editor, uri):
        await editor.wait_for(lambda: editor.notes["gdm/costUpdate"])
        # Warm-up round (litellm's import and first calls), not measured.
        warm = [(await editor.command("gdm.ask", {"prompt": f"stream {i}"}))["taskId"] for i in range(tasks)]
        for t in warm:
            await editor.wait_done(t, 300)
        idle = await measure(editor, uri, requests)
        ids = [(await editor.command("gdm.ask", {"prompt": f"stream {i}"}))["taskId"] for i in range(tasks)]
        shell = (await editor.command("gdm.ask", {"prompt": "shell load"}))["taskId"]
        await editor.wait_for(lambda: all(editor.events(t, "response") for t in ids)
                              and editor.events(shell, "toolCall"), 60)
        all_ids = [*ids, shell]
        t0 = time.perf_counter()
        busy = await measure_until(editor, uri, requests, lambda: any(editor.events(t, "done") for t in all_ids))
        busy_s = time.perf_counter() - t0
        shell_running = not editor.events(shell, "toolResult")
        streaming = sum(1 for t in ids if not editor.events(t, "done"))
        ends = await measure_until(editor, uri, 100_000, lambda: all(editor.events(t, "done") for t in all_ids))
        for t in all_ids:
            await editor.wait_done(t, 300)
    print(f"gdm code action / code lens latency under load, client side, {requests} requests each\n"
          f"({tasks} tasks streaming ~{STREAM_CHARS // 8} chunks each, one every {CHUNK_DELAY_S * 1000:g} ms, "
          f"and one task running `{SHELL_COMMAND}`)\n")
    print(TABLE_HEADER)
    print(row("codeAction, idle", idle[0]))
    print(row("codeLens, idle", idle[1]))
    print(row(f"codeAction, {tasks} streaming + shell", busy[0]))
    print(row(f"codeLens, {tasks} streaming + shell", busy[1]))
    print(row("codeAction, while the tasks end", ends[0]))
    print(row("codeLens, while the tasks end", ends[1]))
    print(f"\nbusy measurement ({len(busy[0])} pairs) took {busy_s:.1f} s, until the first task ended; then the "
          f"shell command was {'still running' if shell_running else 'finished'} and {streaming} of {tasks} tasks "
          f"still streaming. 'while the tasks end' spans the rest (stream reassembly, store writes, done).")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=3)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(main(args.tasks, args.requests))
