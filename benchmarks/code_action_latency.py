"""`textDocument/codeAction` and `textDocument/codeLens` latency, idle and while tasks stream.

Starts the real server (`python -m gdm`) with the editor model of the end-to-end tests, points it
at the scripted model, and starts N tasks whose model replies stream long texts (thousands of
SSE chunks each, parsed by litellm inside the server), then times code action and code lens
requests from the client side while they run. Prints a table; goal: code action p99 < 20 ms.

    .venv/bin/python benchmarks/code_action_latency.py [--tasks 3] [--requests 300]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import subprocess
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

from lsprotocol import types as lsp

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.e2e.editor import start_editor, stop_editor  # noqa: E402

STREAM_CHARS = 24_000  # ~3,000 SSE chunks of 8 characters per reply (a long answer)
CHUNK_DELAY_S = 0.002  # 500 chunks/s per stream: faster than real models (~50-200 tokens/s)


def script(tasks: int) -> dict:
    return {"conversations": [
        {"match": f"stream {i}", "turns": [{"reply": {"content": ("lorem ipsum " * (STREAM_CHARS // 12))},
                                            "usage": {"prompt_tokens": 100, "completion_tokens": 30000},
                                            "fault": {"chunk_delay_s": CHUNK_DELAY_S, "times": 1000}}]}
        for i in range(tasks)]}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


async def measure(editor, uri: str, count: int) -> tuple[list[float], list[float]]:
    action_ms, lens_ms = [], []
    params = lsp.CodeActionParams(text_document=lsp.TextDocumentIdentifier(uri=uri),
                                  range=lsp.Range(start=lsp.Position(line=8, character=0),
                                                  end=lsp.Position(line=10, character=0)),
                                  context=lsp.CodeActionContext(diagnostics=[]))
    lens_params = lsp.CodeLensParams(text_document=lsp.TextDocumentIdentifier(uri=uri))
    for _ in range(count):
        t0 = time.perf_counter()
        await editor.client.text_document_code_action_async(params)
        action_ms.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        await editor.client.text_document_code_lens_async(lens_params)
        lens_ms.append((time.perf_counter() - t0) * 1000)
        await asyncio.sleep(0.002)
    return action_ms, lens_ms


async def measure_while(editor, uri: str, finished) -> list[float]:
    samples: list[float] = []
    while not finished():
        action_ms, _ = await measure(editor, uri, 1)
        samples += action_ms
    return samples or [0.0]


def row(name: str, values: list[float]) -> str:
    return (f"| {name:<38} | {len(values):>5} | {statistics.median(values):>7.2f} | {pct(values, 0.90):>7.2f} | "
            f"{pct(values, 0.99):>7.2f} | {max(values):>7.2f} |")


TABLE_HEADER = ("| request                                | count |  p50 ms |  p90 ms |  p99 ms |  max ms |\n"
                "|----------------------------------------|-------|---------|---------|---------|---------|")


@contextlib.asynccontextmanager
async def bench_editor(script_data: dict, **settings: str) -> AsyncIterator[tuple]:
    """A copy of the calc workspace, the scripted model in its own process (so that its HTTP threads
    do not take the GIL from the measuring client), and the real server behind the tests' editor
    model with calc.py open: yields (editor, uri of calc.py)."""
    tmp = Path(tempfile.mkdtemp(prefix="gdm-bench-"))
    workspace = tmp / "calc"
    shutil.copytree(REPO / "fixtures" / "workspaces" / "calc", workspace)
    (tmp / "script.json").write_text(json.dumps(script_data))
    model = subprocess.Popen([sys.executable, "-m", "gdm.scripted", str(tmp / "script.json")],
                             stdout=subprocess.PIPE, text=True)
    try:
        options = {"model": "openai/scripted", "apiBase": model.stdout.readline().strip(),
                   "databaseUrl": f"sqlite:///{tmp / 'gdm.db'}", **settings}
        editor, _ = await start_editor(workspace, tmp, init_options=options)
        try:
            yield editor, await editor.open("calc.py")
        finally:
            await stop_editor(editor)
    finally:
        model.terminate()
        model.wait()
        shutil.rmtree(tmp, ignore_errors=True)


async def main(tasks: int, requests: int) -> None:
    async with bench_editor(script(tasks)) as (editor, uri):
        # One unmeasured round first: the first model call imports litellm's provider modules
        # on the event loop (a one-off stall of ~0.3 s, reported by the first-task line below).
        t0 = time.perf_counter()
        warm = [(await editor.command("gdm.ask", {"prompt": f"stream {i}"}))["taskId"] for i in range(tasks)]
        first = await measure_while(editor, uri, lambda: all(editor.events(t, "done") for t in warm))
        warm_s = time.perf_counter() - t0
        idle = await measure(editor, uri, requests)
        ids = [(await editor.command("gdm.ask", {"prompt": f"stream {i}"}))["taskId"] for i in range(tasks)]
        await editor.wait_for(lambda: all(editor.events(t, "response") for t in ids), 60)
        busy = await measure(editor, uri, requests)
        still_running = sum(1 for t in ids if not editor.events(t, "done"))
        deltas = sum(len([e for e in editor.events(t, "response") if e["delta"]]) for t in ids)
        for t in ids:
            await editor.wait_done(t, 300)
    print(f"gdm code action / code lens latency, client side, {requests} requests each "
          f"({tasks} tasks streaming ~{STREAM_CHARS // 8} chunks each, one every {CHUNK_DELAY_S * 1000:g} ms)\n")
    print(TABLE_HEADER)
    print(row("codeAction, idle", idle[0]))
    print(row("codeLens, idle", idle[1]))
    print(row(f"codeAction, {tasks} tasks streaming", busy[0]))
    print(row(f"codeLens, {tasks} tasks streaming", busy[1]))
    print(row(f"codeAction, first {tasks} tasks (cold)", first))
    print(f"\n(cold round: {warm_s:.1f} s, litellm imported and first calls made during it)")
    print(f"tasks still streaming when the busy measurement ended: {still_running} of {tasks}; "
          f"streamed text events seen by the client: {deltas}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=3)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(main(args.tasks, args.requests))
