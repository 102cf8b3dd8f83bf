"""What checks after edits cost a task on a real project, and what the incremental scratch copy saves.

A real project: the sdist of a PyPI release (fetched with `pip download` into --cache on first use,
as apply_real_diffs.py does), unpacked into a temporary workspace. A real patch: one module gets an
unused import and a changed return type (a new ruff and a new mypy problem). The checks are the
ones gdm detects for the project (`detect_check_commands`: ruff, and mypy where configured).

Measured, each the median of --repeat runs, through gdm's own code (agent/scratch.py, agent/checks.py,
agent/testrun.py's TestGate):

- full copy: `Scratch` entered: the workspace copied (shutil.copytree) and the buffers written;
- incremental: `Scratch.apply`: only the files the task's patches touch rewritten;
- each check before (on the fresh copy, cold: no cache) and after the patch (on the same copy, its
  cache from the before run), and for comparison after on a second full copy at another path, with
  the very same cache (a snapshot taken after the before run): what two full copies would cost;
- the gate's whole first check (baseline + patch + after, parsed and compared) and a later round's
  (after only: the baseline is kept for the task), i.e. the time the checks add to a task.

    .venv/bin/python benchmarks/checks_overhead.py [--packages packaging,click] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "server"))
sys.path.insert(0, str(REPO / "benchmarks"))

from apply_real_diffs import PAIRS, fetch  # noqa: E402

from gdm.agent.checks import detect_check_commands, new_problems, parse_run, tool_of  # noqa: E402
from gdm.agent.scratch import Scratch  # noqa: E402
from gdm.agent.testrun import TestGate  # noqa: E402
from gdm.context.secrets import scrub_env  # noqa: E402
from gdm.context.workspace import NoBuffers, WorkspaceView  # noqa: E402
from gdm.patches.book import PatchBook  # noqa: E402
from gdm.patches.risk import RiskContext  # noqa: E402
from gdm.tools.base import ToolContext, counter_ids  # noqa: E402
from gdm.tools.edit import propose  # noqa: E402
from gdm.tools.shell import run_process  # noqa: E402

CHECK_OUTPUT = 2_000_000


def unpack(archive: Path, into: Path) -> Path:
    with tarfile.open(archive) as t:
        t.extractall(into, filter="data")
    [root] = [p for p in into.iterdir() if p.is_dir()]
    return root


def pick_module(root: Path) -> Path:
    """The package's largest public module (where a change is most likely)."""
    mods = [p for p in root.glob("src/**/*.py") if not p.name.startswith("_")] or [
        p for p in root.rglob("*.py") if "test" not in str(p) and "docs" not in str(p) and not p.name.startswith("_")]
    return max(mods, key=lambda p: p.stat().st_size)


def broken(text: str) -> str:
    """The module with an unused import and, at its end, a bool function that returns a str."""
    text = re.sub(r"^((?:def|class) \w+)", r"import fractions\n\n\n\1", text, count=1, flags=re.M)
    return text.rstrip("\n") + "\n\n\ndef gdm_bench_flag(value: int) -> bool:\n    return str(value)\n"


def ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1e3:,.0f}" if values else "n/a"


async def measure(name: str, root: Path, repeat: int) -> list[str]:
    book = PatchBook()
    ctx = ToolContext("t1", WorkspaceView(root, NoBuffers(), book), book, RiskContext(), counter_ids("p"))
    module = pick_module(root)
    rel = module.relative_to(root).as_posix()
    propose(ctx, rel, broken(module.read_text(encoding="utf-8")))
    commands, missing = detect_check_commands(root)
    # the project may pin a Python the installed mypy no longer supports (packaging: 3.8): this one's
    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    commands = [c.replace(" -O json", f" -O json --python-version {py}") if tool_of(c) == "mypy" else c
                for c in commands]
    files = sum(1 for _ in root.rglob("*") if _.is_file())
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    t: dict[str, list[float]] = {k: [] for k in ("copy", "apply", "gate1", "gate2")}
    found: dict[str, str] = {}
    for _ in range(repeat):
        t0 = time.perf_counter()
        async with Scratch(ctx) as s:
            t["copy"].append(time.perf_counter() - t0)
            env = {**scrub_env(os.environ, ()), "MYPY_CACHE_DIR": str(s.caches / "mypy")}
            before = {}
            for c in commands:
                t1 = time.perf_counter()
                before[c] = parse_run(c, await run_process(c, s.ws, 600, env, limit=CHECK_OUTPUT), s.ws)
                t.setdefault(f"{tool_of(c)} before", []).append(time.perf_counter() - t1)
            # the caches as the before run left them, for the second-copy comparison below
            snapshot = s.base / "caches-after-before"
            if (s.caches / "mypy").exists():
                shutil.copytree(s.caches / "mypy", snapshot / "mypy")
            t1 = time.perf_counter()
            s.apply("t1")
            t["apply"].append(time.perf_counter() - t1)
            for c in commands:
                t1 = time.perf_counter()
                after = parse_run(c, await run_process(c, s.ws, 600, env, limit=CHECK_OUTPUT), s.ws)
                t.setdefault(f"{tool_of(c)} after, same copy", []).append(time.perf_counter() - t1)
                new = new_problems(before[c].problems, after.problems)
                found[tool_of(c)] = (f"{len(before[c].problems)} before, {len(new)} new"
                                     + (f" ({new[0].code})" if new else "")
                                     + (f"; note: {after.note}" if after.note else ""))
            # the other way: a second full copy for the after run, with the cache the before run left
            async with Scratch(ctx) as s2:
                s2.apply("t1")
                env2 = {**env, "MYPY_CACHE_DIR": str(snapshot / "mypy")}
                for c in commands:
                    t1 = time.perf_counter()
                    await run_process(c, s2.ws, 600, env2, limit=CHECK_OUTPUT)
                    t.setdefault(f"{tool_of(c)} after, 2nd full copy", []).append(time.perf_counter() - t1)
        gate = TestGate(ctx, None, rounds=2, checks=commands)
        t1 = time.perf_counter()
        _ = [e async for e in gate.check("t1", [])]
        t["gate1"].append(time.perf_counter() - t1)
        t1 = time.perf_counter()
        _ = [e async for e in gate.check("t1", [])]
        t["gate2"].append(time.perf_counter() - t1)
    rows = [f"**{name}**: {files} files, {size / 1e6:.1f} MB; patched `{rel}`; checks: "
            + ", ".join(f"`{c}`" for c in commands) + (f"; missing: {missing}" if missing else ""),
            "", "| step | median ms |", "|---|---|",
            f"| full scratch copy (copytree + buffers) | {ms(t['copy'])} |",
            f"| incremental: only the patched file rewritten (`Scratch.apply`) | {ms(t['apply'])} |"]
    for key in sorted(k for k in t if " " in k and k not in ("copy", "apply")):
        rows.append(f"| {key} | {ms(t[key])} |")
    rows += [f"| gate, first check: baseline + patch + after, parsed | {ms(t['gate1'])} |",
             f"| gate, later round: after only (baseline kept) | {ms(t['gate2'])} |", "",
             "problems: " + "; ".join(f"{k}: {v}" for k, v in found.items()), ""]
    return rows


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", default="packaging,click")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "gdm-bench" / "sdists")
    args = parser.parse_args()
    versions = {name: new for name, _old, new in PAIRS}
    print(f"load average {os.getloadavg()[0]:.2f} at the start ({os.cpu_count()} cores), "
          f"best-of-nothing: medians of {args.repeat} runs\n")
    for name in [p.strip() for p in args.packages.split(",") if p.strip()]:
        with tempfile.TemporaryDirectory() as tmp:
            root = unpack(fetch(args.cache, name, versions[name]), Path(tmp))
            for line in await measure(f"{name} {versions[name]}", root, args.repeat):
                print(line)
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    asyncio.run(main())
