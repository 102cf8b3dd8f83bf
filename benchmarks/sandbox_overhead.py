"""What the sandbox costs: the start overhead per command, and the test gate's whole time, beside
the same work unsandboxed in the same run (issue 28; goal: overhead < 15 ms per command).

1. Start overhead: `true` and `python -c pass` through gdm's one door (tools/shell.py's
   `run_process`), sandboxed (shell policy: the workspace writable, the home rebuilt, seccomp, a
   pids cgroup where one can be made) and unsandboxed, interleaved, --repeat times each; medians and
   p95, and the difference.
2. The test gate on a scratch copy (agent/testrun.py's `run_on_scratch`: copy, patches on top, the
   test command, the copy removed), with and without the sandbox: on the calc fixture and on a real
   project's own suite (the sdist of a PyPI release, fetched with `pip download` into --cache on
   first use: more-itertools' 1,000+ tests by default).

    .venv/bin/python benchmarks/sandbox_overhead.py [--repeat 200] [--gate-repeat 5] [--package more-itertools==10.5.0]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "server"))
sys.path.insert(0, str(REPO / "benchmarks"))

from apply_real_diffs import fetch  # noqa: E402
from measures import percentile  # noqa: E402

from gdm.agent.testrun import run_on_scratch  # noqa: E402
from gdm.context.secrets import scrub_env  # noqa: E402
from gdm.context.workspace import NoBuffers, WorkspaceView  # noqa: E402
from gdm.patches.book import PatchBook  # noqa: E402
from gdm.patches.risk import RiskContext  # noqa: E402
from gdm.sandbox import UNSANDBOXED, Sandbox, shell_policy  # noqa: E402
from gdm.tools.base import ToolContext, counter_ids  # noqa: E402
from gdm.tools.shell import run_process  # noqa: E402


async def start_overhead(repeat: int) -> list[tuple[str, list[float], list[float]]]:
    ws = Path(tempfile.mkdtemp(prefix="gdm-bench-sandbox-"))
    (ws / ".git").mkdir()
    sandboxed = await Sandbox().jail(shell_policy(ws, ws, False))
    env = scrub_env(os.environ)
    rows = []
    for command in ("true", f"{sys.executable} -S -c pass"):
        times: dict[bool, list[float]] = {True: [], False: []}
        for i in range(repeat * 2):
            jail = sandboxed if i % 2 == 0 else UNSANDBOXED
            start = time.perf_counter()
            result = await run_process(command, ws, 30, env, jail=jail)
            times[jail is sandboxed].append((time.perf_counter() - start) * 1000)
            assert result.exit_code == 0, result
        rows.append((command.replace(sys.executable, "python"), times[True], times[False]))
    return rows


def project(spec: str, cache: Path) -> Path:
    name, version = spec.split("==")
    sdist = fetch(cache, name, version)
    target = Path(tempfile.mkdtemp(prefix="gdm-bench-gate-"))
    with tarfile.open(sdist) as tar:
        tar.extractall(target, filter="data")
    [root] = [p for p in target.iterdir() if p.is_dir()]
    return root


async def gate(root: Path, command: str, repeat: int) -> dict[bool, list[float]]:
    times: dict[bool, list[float]] = {True: [], False: []}
    for i in range(repeat * 2):
        on = i % 2 == 0
        book = PatchBook()
        ctx = ToolContext("t1", WorkspaceView(root, NoBuffers(), book), book, RiskContext(), counter_ids("p"),
                          sandbox=Sandbox(enabled=on))
        start = time.perf_counter()
        run = await run_on_scratch(ctx, command, None)
        times[on].append(time.perf_counter() - start)
        assert run.passed, run.result.output[-2000:]
    return times


def table(rows: list[tuple[str, list[float], list[float]]]) -> None:
    print("| command | sandboxed median / p95 | unsandboxed median / p95 | overhead (median) |")
    print("|---|---|---|---|")
    for command, on, off in rows:
        print(f"| `{command}` | {statistics.median(on):.1f} / {percentile(on, 0.95):.1f} ms | "
              f"{statistics.median(off):.1f} / {percentile(off, 0.95):.1f} ms | "
              f"{statistics.median(on) - statistics.median(off):+.1f} ms |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--gate-repeat", type=int, default=5)
    parser.add_argument("--package", default="more-itertools==10.5.0")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "gdm-bench" / "sdists")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores, {args.repeat} runs each\n")
    table(asyncio.run(start_overhead(args.repeat)))
    pytest = f"{sys.executable} -m pytest -q -x -p no:cacheprovider"
    cases = [("calc fixture (pytest, 2 tests)", REPO / "fixtures" / "workspaces" / "calc", pytest),
             (f"{args.package} (its own suite, pytest)", project(args.package, args.cache), pytest)]
    print(f"\n| test gate, {args.gate_repeat} runs each | sandboxed median | unsandboxed median | ratio |")
    print("|---|---|---|---|")
    for name, root, command in cases:
        times = asyncio.run(gate(root, command, args.gate_repeat))
        on, off = statistics.median(times[True]), statistics.median(times[False])
        print(f"| {name} | {on:.2f} s | {off:.2f} s | {on / off:.2f}× |")


if __name__ == "__main__":
    main()
