"""How many approval prompts `shell: auto` saves on real agents' commands (issue 28).

The corpus: every shell command real coding agents ran on real repositories — mini-swe-agent's
SWE-bench trajectories (`*.traj.json`: each assistant message's `bash` tool calls, or the
```bash block of the older text format). Each command is classified as gdm's `shell: auto` would
classify it (gdm/sandbox/commands.py): run in the sandbox without asking (read-only, or a test
runner), or asked. Printed: the counts, the share of prompts saved, the programs most often still
asked about, and every auto-run command that mentions a writer or the network (to review by eye:
it should be empty).

Get the corpus (not in gdm's repository; 85 MB):

    git clone https://github.com/SWE-agent/mini-swe-agent ~/.cache/gdm-bench/mini-swe-agent
    git -C ~/.cache/gdm-bench/mini-swe-agent checkout ec0e8e84 -- output

    .venv/bin/python benchmarks/sandbox_prompts.py --corpus ~/.cache/gdm-bench/mini-swe-agent/output
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import shlex
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "server"))

from gdm.sandbox.commands import runs_without_asking  # noqa: E402

_BLOCK = re.compile(r"```(?:bash|sh)\n(.*?)```", re.S)
SUSPICIOUS = re.compile(r"\b(rm|mv|cp|pip|curl|wget|tee|chmod|apt|npm install|git (?:commit|push|checkout|reset))\b"
                        r"|>|sed -i")


def commands(path: Path) -> list[str]:
    """The shell commands of one trajectory, in order."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    found = []
    for message in data.get("messages") or data.get("trajectory") or []:
        if message.get("role") != "assistant":
            continue
        calls = message.get("tool_calls") or []
        for call in calls:
            try:
                args = json.loads(call["function"]["arguments"])
            except (KeyError, TypeError, ValueError):
                continue
            if isinstance(args, dict) and isinstance(args.get("command"), str):
                found.append(args["command"])
        if not calls and isinstance(message.get("content"), str):
            found += [b.strip() for b in _BLOCK.findall(message["content"])]
    return found


def program(command: str) -> str:
    try:
        words = shlex.split(command.split("\n")[0])
    except ValueError:
        words = command.split()
    words = [w for w in words if "=" not in w]
    return Path(words[0]).name if words else "?"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path.home() / ".cache/gdm-bench/mini-swe-agent/output")
    args = parser.parse_args()
    files = sorted(args.corpus.rglob("*.traj.json"))
    if not files:
        raise SystemExit(f"no *.traj.json under {args.corpus}: see this script's docstring for how to get them")
    reasons: collections.Counter[str] = collections.Counter()
    asked: collections.Counter[str] = collections.Counter()
    review: list[str] = []
    total = 0
    for path in files:
        for command in commands(path):
            total += 1
            why = runs_without_asking(command)
            reasons[why or "asked"] += 1
            if why is None:
                asked[program(command)] += 1
            elif SUSPICIOUS.search(re.sub(r"2>&1|2>/dev/null|>/dev/null", "", command)):
                review.append(command)
    saved = total - reasons["asked"]
    print(f"{len(files)} trajectories, {total} commands; `shell: auto` runs {saved} ({saved / total:.1%}) "
          f"without a prompt\n")
    print("| decision | commands | share |\n|---|---|---|")
    for why, n in reasons.most_common():
        print(f"| {why} | {n} | {n / total:.1%} |")
    print("\n| still asked: program | commands |\n|---|---|")
    for name, n in asked.most_common(12):
        print(f"| `{name}` | {n} |")
    print(f"\nauto-run commands that mention a writer or the network: {len(review)}")
    for command in review[:20]:
        print("  " + command.replace("\n", " ⏎ ")[:160])


if __name__ == "__main__":
    main()
