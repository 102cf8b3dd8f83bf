"""gdm's own latency per inline completion, measured from outside (issue 29).

Starts the real server (`python -m gdm`) on a copy of a large project (default: Django 5.2's
sdist, ~2,900 files, which `benchmarks/repo_map.py` downloads into ~/.cache/gdm-bench once), has it
build the code map, opens a file and then, `--requests` times, types one character and asks for an
inline completion (trigger kind Invoked: no debounce, as a user's explicit request; every request
is at a new text, so neither the cache nor typing-through answers it). The scripted model runs in
this process, so one clock times the four moments of each completion:

    t0 the client sends textDocument/inlineCompletion
    t1 the model server has read the HTTP request     -> "in": t1 - t0 (gdm's work before the call)
    t2 the model server starts writing its answer
    t3 the client has the LSP answer                   -> "out": t3 - t2 (gdm's work after it)

"in" holds the JSON-RPC read, the prompt window, the code map's context (names at the cursor,
their definitions), redaction, the budget check, litellm building its request and the HTTP write;
"out" the HTTP read, litellm's response parsing, cleaning, the store write and the JSON-RPC answer.
The floor beside it: the same request with `completions: off` (the server answers at once), i.e.
what the stdio round trip and the Python client cost by themselves. Two peers in the same run, in
this process against the same model server: litellm's `atext_completion` alone (what gdm's model
adapter calls), and a plain HTTP POST (httpx), so that litellm's share of "in + out" is read off.
Goal: p95 of in + out < 5 ms.

    .venv/bin/python benchmarks/completion_latency.py [--requests 300] [--source DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import string
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from gdm.commands import Command  # noqa: E402
from gdm.scripted import ScriptedModel  # noqa: E402
from gdm.scripted import server as scripted_server  # noqa: E402
from measures import percentile  # noqa: E402
from tests.conftest import scripted_settings  # noqa: E402
from tests.e2e.editor import end_of, start_editor, stop_editor  # noqa: E402

TARGET = "django/db/models/query.py"  # a big file that names definitions from many others
SCRIPT = {"completions": [{"text": "XYZ)"}]}  # never what is typed next (lowercase): no typing-through


class Clock:
    """When the model server read each request (t1) and began each answer (t2)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.read: list[float] = []
        self.answered: list[float] = []

    def install(self, model: ScriptedModel) -> None:
        recorded = model.record_request
        send = scripted_server._Handler._send_json
        clock = self

        def record(body: dict) -> None:
            with clock.lock:
                clock.read.append(time.perf_counter())
            recorded(body)

        def send_json(handler, status, payload, headers=None):
            with clock.lock:
                clock.answered.append(time.perf_counter())
            send(handler, status, payload, headers)

        model.record_request = record
        scripted_server._Handler._send_json = send_json


async def run(workspace: Path, tmp: Path, requests: int, completions: str) -> dict:
    with ScriptedModel(SCRIPT) as model:
        clock = Clock()
        clock.install(model)
        settings = scripted_settings(model, tmp, completions=completions)
        editor, _ = await start_editor(workspace, tmp, init_options=settings)
        try:
            started = time.perf_counter()
            await editor.command(Command.MAP.identifier, {})  # the code map of the whole project, built
            map_s = time.perf_counter() - started
            await editor.open(TARGET)
            line, character = end_of(editor.text(TARGET))
            await editor.type(TARGET, line, character, "\n\ndef helper(queryset):\n    return queryset.filter(")
            ins, outs, totals = [], [], []
            keys = random.Random(1)  # no repeating text: the cache keys on the text around the cursor too
            for i in range(requests + 5):  # the first 5 warm litellm and the definition index up
                line, character = end_of(editor.text(TARGET))
                await editor.type(TARGET, line, character, keys.choice(string.ascii_lowercase))
                before = len(clock.read)
                t0 = time.perf_counter()
                answer = await editor.complete(TARGET, line, character + 1, invoked=True)
                t3 = time.perf_counter()
                if i < 5:
                    continue
                totals.append((t3 - t0) * 1000)
                if completions == "on":
                    assert answer is not None and answer.items, f"no suggestion for request {i}"
                    assert len(clock.read) == before + 1, f"request {i}: {len(clock.read) - before} model calls ({answer})"
                    ins.append((clock.read[-1] - t0) * 1000)
                    outs.append((t3 - clock.answered[-1]) * 1000)
            return {"map_s": map_s, "in": ins, "out": outs, "total": totals}
        finally:
            await stop_editor(editor)


async def peers(requests: int) -> dict[str, list[float]]:
    """litellm's text completion call alone and a raw HTTP POST, to the same scripted model."""
    import httpx  # noqa: PLC0415 - litellm's own HTTP client, installed with it
    import litellm  # noqa: PLC0415 - seconds to import: only for this row

    prompt = "def f(" + "x" * 7000
    out: dict[str, list[float]] = {"litellm": [], "http": []}
    with ScriptedModel(SCRIPT) as model:
        async with httpx.AsyncClient() as http:
            for i in range(requests + 5):
                t0 = time.perf_counter()
                await litellm.atext_completion(model="openai/scripted", api_base=model.base_url, api_key="sk-none",
                                               prompt=prompt + str(i), suffix="", max_tokens=256, num_retries=0,
                                               max_retries=0, timeout=15, drop_params=True)
                t1 = time.perf_counter()
                await http.post(model.base_url.rstrip("/") + "/completions",
                                json={"model": "scripted", "prompt": prompt + str(i), "suffix": "", "max_tokens": 256})
                t2 = time.perf_counter()
                if i >= 5:
                    out["litellm"].append((t1 - t0) * 1000)
                    out["http"].append((t2 - t1) * 1000)
    return out


def row(name: str, values: list[float]) -> str:
    return (f"| {name} | {percentile(values, 0.5):.2f} | {percentile(values, 0.95):.2f} | "
            f"{percentile(values, 0.99):.2f} | {max(values):.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--source", type=Path, help="the project (default: Django 5.2's sdist)")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "gdm-bench")
    args = parser.parse_args()
    source = args.source
    if source is None:
        from repo_map import django_source  # noqa: PLC0415 - downloads Django's sdist only when it is used

        source = django_source(args.cache)
    with tempfile.TemporaryDirectory(prefix="gdm-complat-") as scratch:
        workspace = Path(scratch) / "project"
        shutil.copytree(source, workspace, symlinks=True)
        files = sum(1 for p in workspace.rglob("*") if p.is_file())
        for tmp in ("on", "off"):
            (Path(scratch) / tmp).mkdir()
        on = asyncio.run(run(workspace, Path(scratch) / "on", args.requests, "on"))
        off = asyncio.run(run(workspace, Path(scratch) / "off", args.requests, "off"))
    peer = asyncio.run(peers(args.requests))
    in_out = [a + b for a, b in zip(on["in"], on["out"])]
    print(f"{source.name}: {files} files, code map built in {on['map_s']:.1f} s; {args.requests} completions "
          f"in {TARGET}, load average {__import__('os').getloadavg()[0]:.1f}\n")
    print("| ms | p50 | p95 | p99 | max |")
    print("|---|---:|---:|---:|---:|")
    print(row("in: request sent → model request read", on["in"]))
    print(row("out: model answer written → LSP answer read", on["out"]))
    print(row("**gdm's own (in + out)**", in_out))
    print(row("whole round trip (model server included)", on["total"]))
    print(row("floor: the same request, `completions: off`", off["total"]))
    print(row("peer: litellm.atext_completion alone (round trip)", peer["litellm"]))
    print(row("peer: a plain HTTP POST (httpx, round trip)", peer["http"]))


if __name__ == "__main__":
    main()
