"""gdm's own time per turn over ACP vs over LSP, and prompt → first `agent_message_chunk`.

Both front ends run as real subprocesses (`gdm acp` with the SDK's client side, `python -m gdm`
with the end-to-end tests' editor), against the same scripted model in its own process (zero think
time, loopback HTTP), with the same conversation: N turns, each one `read_file calc.py`, then a
short streamed answer. Wall time per turn is measured at the client (request → done / answer).
gdm's own time per turn = wall per turn − the model's own time for a reply (a streaming request
straight to the scripted model, read to its end): everything else, litellm's client code included,
runs in gdm's process. The front ends run interleaved, task by task, so the machine's load falls on
them alike. Over ACP the client offers `fs/read_text_file`, so every read is a round
trip to it (the LSP editor has calc.py open: no round trip); the row without fs shows ACP alone.

First chunk: session/prompt → the first `agent_message_chunk` at the client, minus the model's own
first token (a streaming request straight to the scripted model, time to its first content chunk).
Goals (issue 13): own time within 10% of LSP's; first chunk < 50 ms beyond the model's first token.

    .venv/bin/python benchmarks/acp_overhead.py [--turns 10] [--tasks 5] [--firsts 20]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "server"), str(REPO / "benchmarks")]

from tests.e2e.acp_client import EditorClient, ask, new_session, start_agent  # noqa: E402
from tests.e2e.editor import start_editor, stop_editor  # noqa: E402

PRICES = {"openai/scripted": {"inputPerMTok": 2.0, "outputPerMTok": 8.0}}


def script(turns: int) -> dict:
    reads = [{"reply": {"tool_calls": [{"name": "read_file", "arguments": {"path": "calc.py"}}]},
              "usage": {"prompt_tokens": 1000, "completion_tokens": 20}} for _ in range(turns - 1)]
    return {"conversations": [
        {"match": "overhead", "turns": [*reads, {"reply": {"content": "Done reading."}}]},
        {"match": "first chunk", "turns": [{"reply": {"content": "The first words of an answer, streamed."}}]}]}


def settings(url: str, db: Path) -> dict:
    return {"model": "openai/scripted", "apiBase": url, "prices": PRICES, "databaseUrl": f"sqlite:///{db}",
            "maxTurns": 500, "taskBudgetUsd": 1000, "dayBudgetUsd": 100000, "testCommand": "true", "mapTokens": 0}


def workspace(tmp: Path, name: str) -> Path:
    target = tmp / name / "calc"
    shutil.copytree(REPO / "fixtures" / "workspaces" / "calc", target)
    return target


def model_ms(url: str, count: int, whole: bool = False) -> list[float]:
    """Time to the first content chunk (or to the end) of a streamed reply, straight from the model."""
    parsed = urlparse(url)
    body = json.dumps({"model": "scripted", "stream": True,
                       "messages": [{"role": "system", "content": "x"}, {"role": "user", "content": "first chunk"}]})
    out = []
    for _ in range(count):
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port)
        t0 = time.perf_counter()
        conn.request("POST", parsed.path.rstrip("/") + "/chat/completions", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        while line := response.readline():
            if not whole and b'"content"' in line and b'"content":null' not in line.replace(b" ", b""):
                break
        out.append((time.perf_counter() - t0) * 1000)
        conn.close()
    return out


class AcpFront:
    """`gdm acp` with a client that offers fs (or not), one session, warmed up."""

    def __init__(self, tmp: Path, url: str, fs: bool) -> None:
        self.tmp, self.url, self.fs = tmp, url, fs
        self.client = EditorClient()

    async def __aenter__(self) -> AcpFront:
        self._cm = start_agent(self.client, self.tmp, read=self.fs, write=self.fs)
        self.conn, _ = await self._cm.__aenter__()
        self.root = workspace(self.tmp, f"acp-{self.fs}")
        await ask(self.conn, await self.session(), "overhead warm-up", timeout=300)  # litellm's import, first calls
        return self

    async def session(self) -> str:
        """A new ACP session: each task a conversation of its own, as each `gdm.ask` is over LSP."""
        return await new_session(self.conn, self.root, settings(self.url, self.tmp / f"acp-{self.fs}.db"))

    async def __aexit__(self, *exc: object) -> None:
        await self._cm.__aexit__(None, None, None)

    async def task(self, i: int) -> float:
        sid = await self.session()
        t0 = time.perf_counter()
        await ask(self.conn, sid, f"overhead {i}", timeout=300)
        return time.perf_counter() - t0

    async def first(self) -> float:
        sid = await self.session()
        t0 = time.perf_counter()
        prompt = asyncio.ensure_future(ask(self.conn, sid, "first chunk"))
        await self.client.wait_for(lambda: self.client.of(sid, "agent_message_chunk"), 60)
        took = (time.perf_counter() - t0) * 1000
        await prompt
        return took


class LspFront:
    """`python -m gdm` behind the end-to-end tests' editor, calc.py open, warmed up."""

    def __init__(self, tmp: Path, url: str) -> None:
        self.tmp, self.url = tmp, url

    async def __aenter__(self) -> LspFront:
        self.editor, _ = await start_editor(workspace(self.tmp, "lsp"), self.tmp,
                                            init_options=settings(self.url, self.tmp / "lsp.db"))
        await self.editor.open("calc.py")
        warm = (await self.editor.command("gdm.ask", {"prompt": "overhead warm-up"}))["taskId"]
        await self.editor.wait_done(warm, 300)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await stop_editor(self.editor)

    async def task(self, i: int) -> float:
        t0 = time.perf_counter()
        task = (await self.editor.command("gdm.ask", {"prompt": f"overhead {i}"}))["taskId"]
        await self.editor.wait_done(task, 300)
        return time.perf_counter() - t0

    async def first(self) -> float:
        t0 = time.perf_counter()
        task = (await self.editor.command("gdm.ask", {"prompt": "first chunk"}))["taskId"]
        await self.editor.wait_for(lambda: self.editor.events(task, "response"), 60)
        took = (time.perf_counter() - t0) * 1000
        await self.editor.wait_done(task, 60)
        return took


def med(values: list[float]) -> float:
    return statistics.median(values)


async def main(turns: int, tasks: int, firsts: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="gdm-acp-bench-"))
    (tmp / "script.json").write_text(json.dumps(script(turns)))
    model = subprocess.Popen([sys.executable, "-m", "gdm.scripted", str(tmp / "script.json")],
                             stdout=subprocess.PIPE, text=True)
    names = ("LSP (python -m gdm)", "ACP, client fs reads (gdm acp)", "ACP, no client fs (gdm acp)")
    walls: dict[str, list[float]] = {n: [] for n in names}
    firsts_ms: dict[str, list[float]] = {n: [] for n in names}
    try:
        url = model.stdout.readline().strip()
        async with LspFront(tmp, url) as lsp_, AcpFront(tmp, url, True) as acp_fs, AcpFront(tmp, url, False) as acp_:
            fronts = dict(zip(names, (lsp_, acp_fs, acp_)))
            # Interleaved, so that the machine's load is shared alike.
            for i in range(tasks):
                for name, front in fronts.items():
                    walls[name].append(await front.task(i))
            for _ in range(firsts):
                for name, front in fronts.items():
                    firsts_ms[name].append(await front.first())
        own_token = med(model_ms(url, firsts))
        share = med(model_ms(url, firsts, whole=True)) / 1000
    finally:
        model.terminate()
        model.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{tasks} tasks of {turns} turns per front end (one read_file calc.py per turn), zero-latency scripted "
          f"model, interleaved; medians; the model's own time per reply: {share * 1000:.2f} ms\n")
    print("| front end                       | wall/turn ms | gdm own/turn ms | own vs LSP |")
    print("|---------------------------------|--------------|-----------------|------------|")
    lsp_own = med(walls[names[0]]) / turns - share
    for name in names:
        own = med(walls[name]) / turns - share
        print(f"| {name:<31} | {med(walls[name]) / turns * 1000:>12.2f} | {own * 1000:>15.2f} | "
              f"{(own / lsp_own - 1) * 100:>+9.1f}% |")
    print("\nper task (s): " + "; ".join(f"{n}: " + ", ".join(f"{w:.2f}" for w in walls[n]) for n in names))
    print(f"\nprompt → first streamed text at the client, {firsts} prompts each; the model's own first token "
          f"{own_token:.1f} ms\n")
    print("| front end                       | first chunk ms | beyond the model's first token ms |")
    print("|---------------------------------|----------------|-----------------------------------|")
    for name in names:
        print(f"| {name:<31} | {med(firsts_ms[name]):>14.1f} | {med(firsts_ms[name]) - own_token:>33.1f} |")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--tasks", type=int, default=5)
    parser.add_argument("--firsts", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.turns, args.tasks, args.firsts))
