"""Nothing breaks the server, at scale (issue 16): seeded malformed messages and frames on one real
server process — every method gdm registers and every `gdm.*` command with broken params, broken
envelopes, frame-level garbage (tests/e2e/fuzz.py, the generator the CI test runs at 2,000).

Prints, per seed: messages sent, requests among them, requests answered, the answer codes, and the
figures whose goal is 0: crashes, hangs, internal errors (-32603), junk on stdout.

    .venv/bin/python benchmarks/fuzz.py [--messages 10000] [--seeds 1]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "server")]

from tests.e2e.editor import server_env
from tests.e2e.fuzz import run_fuzz


async def one(messages: int, seed: int) -> tuple[object, str]:
    tmp = Path(tempfile.mkdtemp(prefix="gdm-fuzz-"))
    try:
        workspace = tmp / "calc"
        shutil.copytree(REPO / "fixtures" / "workspaces" / "calc", workspace)
        env = server_env(tmp, GDM_DATABASE_URL=f"sqlite:///{tmp / 'gdm.db'}")
        report = await run_fuzz(messages, seed, workspace, env, stderr=tmp / "stderr.txt")
        return report, (tmp / "stderr.txt").read_text(errors="replace")[-2000:]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--seeds", type=int, default=1, help="runs with seeds 1..N, one server each")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
    print("| seed | sent | requests | answered | crashes | hangs | internal errors | stdout junk | s | codes |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    broken = False
    for seed in range(1, args.seeds + 1):
        report, stderr = asyncio.run(one(args.messages, seed))
        codes = ", ".join(f"{code}: {n}" for code, n in sorted(report.codes.items(), key=str))
        print(f"| {seed} | {report.sent} | {report.requests} | {report.answered} | {report.crashes} | "
              f"{report.hangs} | {report.internal_errors} | {report.junk} | {report.seconds:.0f} | {codes} |")
        if not report.ok() or report.answered != report.requests:
            broken = True
            print("\n".join([e for e in report.examples if e.startswith("internal")] + report.examples[:10]), "\n--- server stderr (tail)\n" + stderr, file=sys.stderr)
    raise SystemExit(1 if broken else 0)


if __name__ == "__main__":
    main()
