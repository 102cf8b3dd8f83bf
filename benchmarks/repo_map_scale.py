"""The code map at scale, through the real server: the first index of a large tree, the maps after
it and after a one-file edit, with code actions timed throughout (issue 18, the Linux kernel figure).

Usage:
    apt-get install linux-source-6.1 && tar xJf /usr/src/linux-source-6.1.tar.xz -C ~/.cache/gdm-bench/kernel
    sed -i '/^# Debian packaging: ignore everything at the top level/,$d' \
        ~/.cache/gdm-bench/kernel/linux-source-6.1/.gitignore   # see below
    .venv/bin/python benchmarks/repo_map_scale.py --source ~/.cache/gdm-bench/kernel/linux-source-6.1 \\
        --edit kernel/sched/core.c            # [--tokens 1024] [--maps 5]

Starts `python -m gdm` behind the end-to-end tests' editor model (`tests/e2e/editor.py`) with the
tree as its workspace and a fresh cache (cold), opens the `--edit` file, and from `initialized`
until the index's `$/progress` ends sends a `textDocument/codeAction` on that file every 50 ms and
times each answer. Then `gdm.map` `--maps` times (client-side time and the server's own `ms`), each
focused on a file not asked before (the `--edit` file first, then files of its suffix spread evenly
over the tree's sorted paths: a kept answer never makes a map look quick), then the first focus once
more (a repeated focus, which may reuse a kept answer), then the open buffer is edited (a function
appended, `didChange`) and the map asked again while code actions keep being timed. Then a second server on the same cache (warm) does the same.
Memory: the largest VmHWM of the server and the largest of its children (the parsing workers),
sampled from /proc every 200 ms. Nothing is written into the tree (the cache is a temp folder).

Debian's linux-source appends `/*` and `!/debian/` to the kernel's .gitignore ("ignore everything at
the top level, since it isn't included in our repository"): honoured as git would, it leaves nothing
to map (git check-ignore agrees), so the sed above cuts that block, giving upstream's .gitignore.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Self

from lsprotocol import types as lsp

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests" / "e2e")]

from editor import Editor, server_env, start_editor, stop_editor
from measures import percentile, proc_status_mb

INDEX_TOKEN = "gdm-index"
ACTION_EVERY_S = 0.05
INDEXED = b"gdm.agent.knowledge: code map:"  # the server's log line when the first index is done


class ServerLog:
    """Stands in for sys.stderr, where pytest-lsp forwards the server's: notes when the first index
    is logged as done (with no `$/progress` for a warm index, that line is the only sign), passes
    warnings on and drops the INFO lines the server writes at GDM_LOG_LEVEL=INFO."""

    def __init__(self) -> None:
        self.indexed: list[str] = []
        self.buffer = self

    def write(self, line: bytes | str) -> int:
        data = line.encode() if isinstance(line, str) else line
        if INDEXED in data:
            self.indexed.append(data.decode(errors="replace").strip())
        elif b" INFO " not in data:
            sys.__stderr__.buffer.write(data)
        return len(line)

    def flush(self) -> None:
        sys.__stderr__.flush()


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


class Memory:
    """The peak VmHWM of a process and of the largest of its children, sampled in the background."""

    def __init__(self, pid: int) -> None:
        self.pid, self.server_mb, self.child_mb, self._task = pid, 0.0, 0.0, None

    async def _sample(self) -> None:
        while True:
            self.server_mb = max(self.server_mb, proc_status_mb(self.pid, "VmHWM"))
            for child in _children(self.pid):
                self.child_mb = max(self.child_mb, proc_status_mb(child, "VmHWM"))
            await asyncio.sleep(0.2)

    def __enter__(self) -> Self:
        self._task = asyncio.ensure_future(self._sample())
        return self

    def __exit__(self, *_exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


class Actions:
    """Code actions on one document every 50 ms until stopped; each answer's time in ms."""

    def __init__(self, editor: Editor, uri: str) -> None:
        self.editor, self.uri, self.ms, self.errors = editor, uri, [], 0
        self._task: asyncio.Task[None] | None = None
        self._stop = False

    async def _loop(self) -> None:
        params = lsp.CodeActionParams(text_document=lsp.TextDocumentIdentifier(uri=self.uri),
                                      range=lsp.Range(start=lsp.Position(line=0, character=0),
                                                      end=lsp.Position(line=1, character=0)),
                                      context=lsp.CodeActionContext(diagnostics=[]))
        while not self._stop:
            t0 = time.perf_counter()
            try:
                await self.editor.client.text_document_code_action_async(params)
                self.ms.append((time.perf_counter() - t0) * 1000)
            except Exception:  # noqa: BLE001 - counted: an error is a result of this benchmark
                self.errors += 1
            await asyncio.sleep(ACTION_EVERY_S)

    def start(self) -> Actions:
        self._task = asyncio.ensure_future(self._loop())
        return self

    async def stop(self) -> list[float]:
        """Let the request in flight finish (cancelling it would leave pygls a response to a cancelled
        future, which pytest-lsp reports as a server error failing every pending request)."""
        assert self._task is not None
        self._stop = True
        await self._task
        return self.ms


def _index_ended(editor: Editor) -> bool:
    reports = editor.client.progress_reports.get(INDEX_TOKEN) or []
    return bool(reports) and getattr(reports[-1], "kind", None) == "end"


async def _gdm_map(editor: Editor, tokens: int, focus: list[str]) -> tuple[float, float, int]:
    t0 = time.perf_counter()
    result = await editor.command("gdm.map", {"maxTokens": tokens, "focus": focus})
    return (time.perf_counter() - t0) * 1000, float(result["ms"]), len(result["files"])


def spread_focuses(source: Path, edit: str, maps: int) -> list[str]:
    """`edit`, then `maps - 1` other files of its suffix, evenly spaced over the sorted paths."""
    others = sorted(str(p.relative_to(source)) for p in source.rglob(f"*{Path(edit).suffix}")
                    if p.is_file() and str(p.relative_to(source)) != edit)
    step = max(1, len(others) // max(1, maps - 1))
    return [edit, *others[step // 2::step][:maps - 1]]


async def one_server(source: Path, tmp: Path, edit: str, tokens: int, focuses: list[str], label: str,
                     server_log: ServerLog) -> dict:
    """One server's run (see the module docstring); its figures."""
    env = {**server_env(tmp), "GDM_LOG_LEVEL": "INFO"}
    logged = len(server_log.indexed)
    start = time.perf_counter()
    editor, _ = await start_editor(source, tmp, init_options={"databaseUrl": f"sqlite:///{tmp / 'gdm.db'}"},
                                   env=env)
    pid = editor.client._server.pid  # pygls keeps the child process there
    figures: dict = {"run": label}
    try:
        with Memory(pid) as memory:
            uri = await editor.open(edit)
            during = Actions(editor, uri).start()
            began = None
            while not _index_ended(editor) and len(server_log.indexed) == logged:
                if began is None and editor.client.progress_reports.get(INDEX_TOKEN):
                    began = time.perf_counter()
                await asyncio.sleep(0.05)
                if time.perf_counter() - start > 3 * 3600:
                    raise TimeoutError("the first index did not end in 3 hours")
            figures["index_s"] = time.perf_counter() - start
            figures["progress_shown"] = began is not None
            if len(server_log.indexed) == logged:  # the progress ended: the log line follows
                await asyncio.sleep(0.5)
            figures["logged"] = server_log.indexed[logged:][:1]
            figures["during_index"] = await during.stop()
            figures["errors"] = during.errors
            after = Actions(editor, uri).start()
            figures["maps"] = [await _gdm_map(editor, tokens, [path]) for path in focuses]
            figures["again"] = await _gdm_map(editor, tokens, [edit])
            await editor.type(edit, 0, 0, "int gdm_bench_added(int a) { return a + 1; }\n")
            await asyncio.sleep(0.3)  # the incremental re-parse of the buffer runs in a worker thread
            figures["after_edit"] = await _gdm_map(editor, tokens, [edit])
            figures["after_edit_second"] = await _gdm_map(editor, tokens, [edit])
            figures["after_index"] = await after.stop()
            figures["errors"] += after.errors
            figures["server_mb"], figures["worker_mb"] = memory.server_mb, memory.child_mb
    finally:
        await stop_editor(editor)
    return figures


def report(runs: list[dict], source: Path, files: int) -> str:
    """The two tables: the index and maps; code action latency."""
    out = [f"gdm code map at scale: {source} ({files} files), {sys.executable}", "",
           ("| run | spawn → first index done s | maps after it, each a new focus: client ms (median / max) | "
            "server ms (median) | first map: client ms / server ms | the first focus again: client ms / server ms | "
            "after edit: client ms / server ms | files in map | peak RSS server MB | peak RSS worker MB |"),
           "|---|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        client = [m[0] for m in r["maps"]]
        server = [m[1] for m in r["maps"]]
        out.append(f"| {r['run']} | {r['index_s']:.1f} | {statistics.median(client):.0f} / {max(client):.0f} | "
                   f"{statistics.median(server):.0f} | {client[0]:.0f} / {server[0]:.0f} | "
                   f"{r['again'][0]:.0f} / {r['again'][1]:.0f} | {r['after_edit'][0]:.0f} / {r['after_edit'][1]:.0f} | "
                   f"{r['maps'][0][2]} | {r['server_mb']:.0f} | {r['worker_mb']:.0f} |")
    out += ["", "| run | code actions | while | count | p50 ms | p99 ms | max ms | errors |", "|---|---|---|---|---|---|---|---|"]
    for r in runs:
        for what, values in (("first index", r["during_index"]), ("maps and edit", r["after_index"])):
            out.append(f"| {r['run']} | textDocument/codeAction | {what} | {len(values)} | "
                       f"{percentile(values, 0.5):.1f} | {percentile(values, 0.99):.1f} | {max(values, default=math.nan):.1f} | "
                       f"{r['errors']} |")
    out.append(f"\n$/progress shown during the first index: {', '.join(str(r['progress_shown']) for r in runs)}")
    out += [f"server log ({r['run']}): {r['logged'][0] if r['logged'] else '(no index line)'}" for r in runs]
    return "\n".join(out)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="the tree to map")
    parser.add_argument("--edit", required=True, help="the file opened, and edited for the after-edit map")
    parser.add_argument("--tokens", type=int, default=1024)
    parser.add_argument("--maps", type=int, default=5)
    args = parser.parse_args()
    source = args.source.expanduser().resolve()
    files = sum(1 for p in source.rglob("*") if p.is_file())
    server_log = ServerLog()
    sys.stderr = server_log  # type: ignore[assignment]
    try:
        with tempfile.TemporaryDirectory(prefix="gdm-scale-") as tmp:
            focuses = spread_focuses(source, args.edit, args.maps)
            runs = [await one_server(source, Path(tmp), args.edit, args.tokens, focuses, label, server_log)
                    for label in ("cold", "warm")]
    finally:
        sys.stderr = sys.__stderr__
    print(report(runs, source, files))
    print(f"map focuses: {', '.join(focuses)}")


if __name__ == "__main__":
    asyncio.run(main())
