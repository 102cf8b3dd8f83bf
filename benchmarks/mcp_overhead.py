"""gdm's own overhead per MCP tool call, and the cold start of a server's tool list.

    .venv/bin/python benchmarks/mcp_overhead.py            # --calls 300 --cold 5

Per call: the same server (gdm's fault server, `echo`) is started twice in this process — once
behind gdm's McpManager, once as a bare SDK `Client` — and called in interleaved rounds. The gdm
path is what a task does: `McpTool.check_args` + `run` (policy gate, audit row, the hop to the
MCP loop and back, the call, rendering, the cap), with the audit row written either nowhere or to
a real SQLite store. Overhead = gdm median − SDK median.

The GIL switch interval is the server's (`gdm/__main__.py`), since the gdm path hands work
between threads. Cold start: a fresh manager's `registry()` (spawn, initialize, tools/list, and the hops) against
the SDK's own `Client` enter + `list_tools`, for the fault server, mcp-server-git and
server-everything (installed by scripts/ci/mcp.sh; a missing one is shown as such).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "server"), str(REPO)]

from mcp import Client  # noqa: E402
from mcp.client.stdio import StdioServerParameters  # noqa: E402

from gdm.stdout_guard import SWITCH_INTERVAL_S  # noqa: E402
from gdm.config import Settings  # noqa: E402
from gdm.mcp_tools.manager import McpManager  # noqa: E402
from gdm.store import open_store  # noqa: E402
from gdm.tools.base import ToolContext, ToolRegistry  # noqa: E402
from tests.mcp_servers import EVERYTHING_SERVER, GIT_SERVER, fault_server  # noqa: E402


class _View:
    def __init__(self, root: Path) -> None:
        self.root = root


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[max(0, int(len(ordered) * 0.9 + 0.5) - 1)] * 1000


async def per_call(root: Path, calls: int) -> list[tuple[str, float, float]]:
    config = fault_server(root / "fault.log")
    manager = McpManager(root, Settings.model_validate({"mcpServers": {"fault": config}, "mcpPolicy": "allow"}))
    store = open_store(f"sqlite:///{root / 'bench.db'}")
    store.start_session("s-bench", str(root), None)
    quiet = ToolContext("t-1", _View(root), None, None, None, audit=lambda _k, _d: None)
    stored = ToolContext("t-1", _View(root), None, None, None,
                         audit=lambda k, d: store.add_audit("s-bench", None, k, d))
    params = StdioServerParameters(command=config["command"], args=config["args"], env=config["env"], cwd=str(root))
    samples: dict[str, list[float]] = {"SDK Client.call_tool (baseline)": [], "gdm McpTool.run, audit nowhere": [],
                                       "gdm McpTool.run, audit row in SQLite": []}
    try:
        tool = (await manager.registry(ToolRegistry([]), quiet)).get("mcp__fault__echo")
        async with Client(params, cache=None) as client:
            await client.list_tools()
            for i in range(calls + 20):  # the first 20 rounds warm both paths up
                args = {"text": f"call {i}"}
                for label, call in (("SDK Client.call_tool (baseline)", lambda: client.call_tool("echo", args)),
                                    ("gdm McpTool.run, audit nowhere", lambda: tool.run(tool.check_args(args), quiet)),
                                    ("gdm McpTool.run, audit row in SQLite",
                                     lambda: tool.run(tool.check_args(args), stored))):
                    start = time.perf_counter()
                    await call()
                    if i >= 20:
                        samples[label].append(time.perf_counter() - start)
    finally:
        await manager.aclose()
        store.close()
    base = statistics.median(samples["SDK Client.call_tool (baseline)"])
    return [(label, *_ms(s), (statistics.median(s) - base) * 1000) for label, s in samples.items()]


async def cold(root: Path, runs: int) -> list[tuple[str, str, float, float]]:
    servers = {"fault (python, FastMCP)": fault_server(root / "fault.log")}
    for name, path, args in (("mcp-server-git (PyPI)", GIT_SERVER, []),
                             ("server-everything (npm)", EVERYTHING_SERVER, ["stdio"])):
        if path.exists():
            servers[name] = {"command": str(path), "args": args}
    rows = []
    for name, config in servers.items():
        gdm_times, sdk_times = [], []
        for _ in range(runs):
            manager = McpManager(root, Settings.model_validate({"mcpServers": {"s": config}}))
            ctx = ToolContext("t-1", _View(root), None, None, None)
            start = time.perf_counter()
            await manager.registry(ToolRegistry([]), ctx)
            gdm_times.append(time.perf_counter() - start)
            await manager.aclose()
            params = StdioServerParameters(command=config["command"], args=config.get("args", []),
                                           env=config.get("env"), cwd=str(root))
            start = time.perf_counter()
            async with Client(params, cache=None) as client:
                await client.list_tools()
                sdk_times.append(time.perf_counter() - start)
        rows.append((name, "gdm registry()", *_ms(gdm_times)))
        rows.append((name, "SDK enter + list_tools", *_ms(sdk_times)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--cold", type=int, default=5)
    args = parser.parse_args()
    sys.setswitchinterval(SWITCH_INTERVAL_S)  # as the servers run (gdm/stdout_guard.py)
    with tempfile.TemporaryDirectory(prefix="gdm-mcp-bench-") as tmp:
        calls = asyncio.run(per_call(Path(tmp), args.calls))
        starts = asyncio.run(cold(Path(tmp), args.cold))
    print(f"Per call ({args.calls} calls of the fault server's echo, interleaved):\n")
    print("| path | median ms | p90 ms | gdm overhead ms (median) |")
    print("|---|---|---|---|")
    for label, median, p90, over in calls:
        print(f"| {label} | {median:.2f} | {p90:.2f} | {over:+.2f} |")
    print(f"\nCold start of a server's tool list ({args.cold} runs each):\n")
    print("| server | path | median ms | p90 ms |")
    print("|---|---|---|---|")
    for name, path, median, p90 in starts:
        print(f"| {name} | {path} | {median:.0f} | {p90:.0f} |")


if __name__ == "__main__":
    main()
