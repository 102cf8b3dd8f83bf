"""Start-up time and memory: spawn a language server, wait for its `initialize` result, then for
its first code action, over stdio.

Compares gdm (`python -m gdm`) with a featureless pygls 2 server (`bare_pygls_server.py`),
jedi-language-server and python-lsp-server, all run by this same Python with the same
`initialize` params (a small VS Code-like capabilities dict, a temp folder as rootUri) and the
same environment. Per run: the time to the `initialize` result; the time to "ready", the answer
to the first `textDocument/codeAction` sent right after `initialized` + `didOpen` (gdm answers it
once its session is open: store, settings, budgets; a server without code actions answers at once
with an error, which counts too); the resident memory at the initialize result (VmRSS) and the
peak once ready (VmHWM), read from /proc. Runs are interleaved across servers (after one unmeasured warm-up each) so
that a slow moment of the machine does not land on one server only. After each run the client
sends shutdown and exit, and kills the server if it lingers.

Then, in a separate process, checks that `import gdm.server` does not import litellm (the
heaviest import, which must wait for the first model call); and where the ready server's memory
goes: the resident memory of fresh processes that each import (and use) one more layer of what a
ready gdm holds, beside the stack's floor (pygls + one pydantic model + SQLAlchemy, no gdm code).

Usage: python benchmarks/startup.py [--runs 10] [--timeout 30]
Only the standard library is used here.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import selectors
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from measures import percentile, proc_status_mb

HERE = Path(__file__).resolve().parent
BARE = "bare pygls"
MAIN_PY = "def hello():\n    return 'world'\n"


@dataclass
class Sample:
    """One measured start of a server."""

    initialize_ms: float
    ready_ms: float
    rss_initialize_mb: float
    rss_peak_mb: float
    after_map: tuple[float, bool, int] | None = None  # gdm: peak RSS after a gdm.map, numpy loaded, threads


@dataclass
class Server:
    """A server to measure: how to start it and which module must exist for it to run."""

    name: str
    argv: list[str]
    needs_module: str
    empty: bool = False  # its workspace holds no file and opens none (the code action asks of main.py anyway)
    samples: list[Sample] = field(default_factory=list)
    failure: str | None = None

    def installed(self) -> bool:
        """True when the module the server needs can be found by this Python."""
        try:
            return importlib.util.find_spec(self.needs_module) is not None
        except ModuleNotFoundError:  # a parent package is missing
            return False


def servers() -> list[Server]:
    """The servers compared, gdm first."""
    py = sys.executable
    return [
        Server("gdm", [py, "-m", "gdm"], "gdm.__main__"),
        Server("gdm, empty workspace", [py, "-m", "gdm"], "gdm.__main__", empty=True),
        Server(BARE, [py, str(HERE / "bare_pygls_server.py")], "pygls.lsp.server"),
        Server(
            "jedi-language-server",
            [py, "-c", "import sys; from jedi_language_server.cli import cli; sys.exit(cli())"],
            "jedi_language_server.cli",
        ),
        Server("python-lsp-server (pylsp)", [py, "-m", "pylsp"], "pylsp.__main__"),
    ]


def initialize_params(root: Path) -> dict[str, Any]:
    """What VS Code sends, cut down to the parts that matter for a start-up."""
    return {
        "processId": os.getpid(),
        "clientInfo": {"name": "Visual Studio Code", "version": "1.100.3"},
        "locale": "en",
        "rootPath": str(root),
        "rootUri": root.as_uri(),
        "workspaceFolders": [{"uri": root.as_uri(), "name": root.name}],
        "trace": "off",
        "capabilities": {
            "general": {"positionEncodings": ["utf-16"]},
            "workspace": {
                "applyEdit": True,
                "workspaceEdit": {
                    "documentChanges": True,
                    "resourceOperations": ["create", "rename", "delete"],
                    "failureHandling": "textOnlyTransactional",
                    "changeAnnotationSupport": {"groupsOnLabel": True},
                },
                "configuration": True,
                "workspaceFolders": True,
                "didChangeConfiguration": {"dynamicRegistration": True},
                "executeCommand": {"dynamicRegistration": True},
                "codeLens": {"refreshSupport": True},
            },
            "textDocument": {
                "synchronization": {"dynamicRegistration": True, "didSave": True, "willSave": True},
                "publishDiagnostics": {"relatedInformation": True, "versionSupport": False},
                "codeAction": {
                    "dynamicRegistration": True,
                    "isPreferredSupport": True,
                    "dataSupport": True,
                    "resolveSupport": {"properties": ["edit"]},
                    "codeActionLiteralSupport": {
                        "codeActionKind": {
                            "valueSet": ["", "quickfix", "refactor", "refactor.rewrite", "source"]
                        }
                    },
                },
                "codeLens": {"dynamicRegistration": True},
            },
            "window": {
                "workDoneProgress": True,
                "showMessage": {"messageActionItem": {"additionalPropertiesSupport": True}},
                "showDocument": {"support": True},
            },
        },
    }


class Connection:
    """JSON-RPC over a child's stdio with Content-Length framing, reads bounded by a deadline."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdin is not None and proc.stdout is not None
        self.proc = proc
        self._fd = proc.stdout.fileno()
        self._buf = b""
        self._sel = selectors.DefaultSelector()
        self._sel.register(self._fd, selectors.EVENT_READ)

    def close(self) -> None:
        """Forget the child's stdout (the caller ends the process)."""
        self._sel.close()

    def send(self, message: dict[str, Any]) -> None:
        """Write one framed message."""
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def _fill(self, deadline: float) -> None:
        remaining = deadline - time.perf_counter()
        if remaining <= 0 or not self._sel.select(remaining):
            raise TimeoutError("no answer in time")
        chunk = os.read(self._fd, 65536)
        if not chunk:
            raise EOFError(f"server closed stdout (exit code {self.proc.poll()})")
        self._buf += chunk

    def receive(self, deadline: float) -> dict[str, Any]:
        """Read one framed message, waiting until ``deadline`` (perf_counter seconds)."""
        while b"\r\n\r\n" not in self._buf:
            self._fill(deadline)
        head, self._buf = self._buf.split(b"\r\n\r\n", 1)
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        while len(self._buf) < length:
            self._fill(deadline)
        body, self._buf = self._buf[:length], self._buf[length:]
        return json.loads(body)

    def response_to(self, request_id: int, deadline: float) -> dict[str, Any]:
        """Read until the response to ``request_id``; answer server requests with null."""
        while True:
            msg = self.receive(deadline)
            if "method" not in msg and msg.get("id") == request_id:
                return msg
            if "method" in msg and "id" in msg:  # e.g. window/workDoneProgress/create
                self.send({"id": msg["id"], "result": None})


def measure_once(server: Server, root: Path, env: dict[str, str], timeout: float) -> Sample:
    """Spawn ``server``, measure its start (see the module docstring), then shut it down.

    A failure is raised as RuntimeError carrying the last line the server wrote to stderr.
    """
    with tempfile.TemporaryFile() as errors:
        start = time.perf_counter()
        try:
            proc = subprocess.Popen(
                server.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors, cwd=root, env=env
            )
        except OSError as exc:
            raise RuntimeError(f"cannot start {server.argv[0]}: {exc}") from exc
        conn = Connection(proc)
        try:
            return _talk(conn, root, start, timeout, server.needs_module == "gdm.__main__")
        except (OSError, TimeoutError, EOFError, ValueError) as exc:
            _end(proc)
            errors.seek(0)
            last = (errors.read().decode(errors="replace").strip().splitlines() or ["(no stderr)"])[-1]
            raise RuntimeError(f"{type(exc).__name__}: {exc}; stderr: {last}") from exc
        finally:
            _end(proc)
            conn.close()


def _talk(conn: Connection, root: Path, start: float, timeout: float, gdm: bool) -> Sample:
    """initialize (timed from ``start``), initialized, didOpen, codeAction (ready), shutdown, exit."""
    conn.send({"id": 1, "method": "initialize", "params": initialize_params(root)})
    reply = conn.response_to(1, start + timeout)
    initialize_ms = (time.perf_counter() - start) * 1000
    if "error" in reply:
        raise ValueError(f"initialize failed: {reply['error']}")
    rss_initialize = proc_status_mb(conn.proc.pid, "VmRSS")
    uri = (root / "main.py").as_uri()
    conn.send({"method": "initialized", "params": {}})
    if (root / "main.py").exists():  # an empty workspace stays empty: no buffer either
        conn.send({"method": "textDocument/didOpen", "params": {"textDocument": {
            "uri": uri, "languageId": "python", "version": 1, "text": MAIN_PY}}})
    conn.send({"id": 2, "method": "textDocument/codeAction", "params": {
        "textDocument": {"uri": uri}, "context": {"diagnostics": []},
        "range": {"start": {"line": 0, "character": 0}, "end": {"line": 1, "character": 0}}}})
    conn.response_to(2, start + timeout)  # a result or an error (no code actions): either is an answer
    ready_ms = (time.perf_counter() - start) * 1000
    rss_peak = proc_status_mb(conn.proc.pid, "VmHWM")
    after_map = _after_map(conn, timeout) if gdm else None
    conn.send({"id": 3, "method": "shutdown"})
    conn.response_to(3, time.perf_counter() + 5)
    conn.send({"method": "exit"})
    return Sample(initialize_ms, ready_ms, rss_initialize, rss_peak, after_map)


def _after_map(conn: Connection, timeout: float) -> tuple[float, bool, int]:
    """gdm's peak RSS once a `gdm.map` was answered (its first index done), whether numpy is
    mapped into the process then, and its threads (/proc/PID/task)."""
    conn.send({"id": 4, "method": "workspace/executeCommand", "params": {"command": "gdm.map", "arguments": [{}]}})
    conn.response_to(4, time.perf_counter() + timeout)
    pid = conn.proc.pid
    numpy = "_multiarray_umath" in Path(f"/proc/{pid}/maps").read_text()
    return proc_status_mb(pid, "VmHWM"), numpy, len(os.listdir(f"/proc/{pid}/task"))


def _end(proc: subprocess.Popen[bytes]) -> None:
    """Let the server exit on its own for a moment, then kill it; safe to call twice."""
    try:
        proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None:
            try:
                pipe.close()
            except BrokenPipeError:  # the server is gone; nothing left to flush
                pass


def run_all(candidates: list[Server], runs: int, timeout: float) -> None:
    """One warm-up each, then ``runs`` rounds interleaved across servers."""
    with tempfile.TemporaryDirectory(prefix="gdm-bench-") as tmp:
        root = Path(tmp) / "workspace"
        root.mkdir()
        (root / "main.py").write_text(MAIN_PY)
        empty = Path(tmp) / "empty"
        empty.mkdir()
        env = dict(os.environ)
        # Keep every server's data and caches (gdm's store, jedi's cache) out of the user's home.
        for var in ("XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
            env[var] = str(Path(tmp) / var.lower())
        live = [s for s in candidates if s.installed()]
        for round_no in range(runs + 1):
            for server in live:
                if server.failure is not None:
                    continue
                try:
                    sample = measure_once(server, empty if server.empty else root, env, timeout)
                except RuntimeError as exc:
                    server.failure = str(exc)
                    continue
                if round_no > 0:  # round 0 warms the disk cache and .pyc files
                    server.samples.append(sample)


def table(candidates: list[Server]) -> str:
    """The result table, then one line per server that failed saying why."""
    bare = next((s for s in candidates if s.name == BARE and s.samples), None)
    base = statistics.median(x.initialize_ms for x in bare.samples) if bare else None
    base_ready = statistics.median(x.ready_ms for x in bare.samples) if bare else None
    notes: list[str] = []
    head = ["server", "initialize median ms", "p90 ms", "min ms", "ratio vs bare pygls",
            "ready median ms", "ready ratio", "RSS at initialize MB", "peak RSS ready MB",
            "peak RSS after a map MB", "numpy loaded", "threads"]
    rows = [head]
    for s in candidates:
        blank = [""] * (len(head) - 2)
        if not s.installed():
            rows.append([s.name, "not installed", *blank])
        elif s.failure is not None or not s.samples:
            rows.append([s.name, "failed", *blank])
            notes.append(f"{s.name} failed: {s.failure or 'no runs'}")
        else:
            init = [x.initialize_ms for x in s.samples]
            ready = statistics.median(x.ready_ms for x in s.samples)
            med = statistics.median(init)
            rows.append([s.name, f"{med:.0f}", f"{percentile(init, 0.9):.0f}", f"{min(init):.0f}",
                         f"{med / base:.2f}x" if base else "n/a", f"{ready:.0f}",
                         f"{ready / base_ready:.2f}x" if base_ready else "n/a",
                         f"{statistics.median(x.rss_initialize_mb for x in s.samples):.0f}",
                         f"{statistics.median(x.rss_peak_mb for x in s.samples):.0f}", *_map_cells(s.samples)])
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(rows[0]), rule, *(line(r) for r in rows[1:]), *notes])


def _map_cells(samples: list[Sample]) -> list[str]:
    """gdm's after-a-map columns (medians; numpy: in how many runs), blank for the others."""
    after = [x.after_map for x in samples if x.after_map is not None]
    if not after:
        return ["", "", ""]
    return [f"{statistics.median(a[0] for a in after):.0f}", f"{sum(a[1] for a in after)}/{len(after)}",
            f"{statistics.median(a[2] for a in after):.0f}"]


def litellm_check() -> str:
    """Whether `import gdm.server` pulls litellm in, asked of a fresh process."""
    code = "import gdm.server, sys; print('litellm' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return f"litellm imported by `import gdm.server`: could not check ({last})"
    return f"litellm imported by `import gdm.server`: {done.stdout.strip()}"


# Each row runs every snippet up to its own in one fresh process, then reads VmRSS (URL: a store made beforehand).
LAYERS: list[tuple[str, str]] = [
    ("Python alone", "pass"),
    ("+ pygls and lsprotocol (a bare pygls server)", "import pygls.lsp.server, lsprotocol.types"),
    ("+ gdm.server (all gdm imports before the initialize answer)", "import gdm.server"),
    ("+ the settings resolved (pydantic)", "from gdm.config import resolve; resolve([{}])"),
    ("+ SQLAlchemy core", "import sqlalchemy"),
    ("+ the store open on a SQLite file at the newest schema (sqlmodel, sqlalchemy.orm; no alembic)",
     "from gdm.store import open_store; store = open_store(URL)"),
    ("+ the session (engine, tools, model loop; no litellm)", "import gdm.agent.factory"),
    ("+ one buffer parsed for the code map (tree-sitter)",
     "from gdm.context.repomap import treesitter as t; t.parse(t.Grammars(), 'python', b'def f(): pass')"),
]
FLOOR = ("the stack's floor: pygls + one pydantic model + SQLAlchemy, no gdm code",
         "import pygls.lsp.server, lsprotocol.types, pydantic, sqlalchemy\n"
         "class Model(pydantic.BaseModel):\n    name: str = ''\nModel()")
_READ_RSS = "\nimport gc; gc.collect(); print(open('/proc/self/status').read().split('VmRSS:')[1].split()[0])"


def _rss_of(code: str) -> float:
    done = subprocess.run([sys.executable, "-c", code + _READ_RSS], capture_output=True, text=True, timeout=120,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError((done.stderr.strip().splitlines() or ["no output"])[-1])
    return int(done.stdout.split()[-1]) / 1024


def layers(repeat: int = 3) -> str:
    """Resident memory by layer (median of `repeat` fresh processes each), and the stack's floor.
    The store is one made beforehand, as a ready server's usually is (creating one imports alembic)."""
    rows, before, code = [], None, ""
    with tempfile.TemporaryDirectory(prefix="gdm-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'gdm.db'}"
        _rss_of(f"from gdm.store import open_store; open_store({url!r})")
        for name, snippet in LAYERS:
            code += snippet.replace("URL", repr(url)) + "\n"
            try:
                rss = statistics.median(_rss_of(code) for _ in range(repeat))
            except RuntimeError as exc:
                rows.append(f"| {name} | failed: {exc} | |")
                break
            rows.append(f"| {name} | {rss:.1f} | {'' if before is None else f'+{rss - before:.1f}'} |")
            before = rss
    floor = statistics.median(_rss_of(FLOOR[1]) for _ in range(repeat))
    rows.append(f"| {FLOOR[0]} | {floor:.1f} | |")
    return "\n".join(["| layer (cumulative) | RSS MB | added MB |", "|---|---|---|", *rows])


def main() -> None:
    """Measure, then print the table and the litellm line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="measured runs per server (default 10)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for initialize")
    parser.add_argument("--only", help="only the servers whose name holds this (e.g. gdm), and no layer table")
    args = parser.parse_args()
    candidates = [s for s in servers() if not args.only or args.only in s.name or s.name == BARE]
    run_all(candidates, args.runs, args.timeout)
    print(f"Spawn -> initialize result -> first code action over stdio, {args.runs} runs each after 1 warm-up, Python "
          f"{sys.version.split()[0]} ({sys.executable})")  # fmt: skip
    print(table(candidates))
    print(litellm_check())
    if not args.only:
        print("Resident memory by layer, fresh processes, median of 3:")
        print(layers())


if __name__ == "__main__":
    main()
