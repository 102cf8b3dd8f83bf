"""Context quality of inline completions, offline, on real code: does the prompt hold the definition
the blanked line needs?

    .venv/bin/python benchmarks/completion_context.py [--source DIR…] [--cases 400] [--seed 1]

Default sources: gdm's own `server/` and Django 5.2's sdist (`benchmarks/repo_map.py` downloads it
into ~/.cache/gdm-bench once). For each source, every Python line that calls a name defined in
another file of the project (and not in its own) is a case; `--cases` of them are drawn at random.
The line is blanked (its indentation kept, the cursor after it), the completion prompt is built as
the engine builds it (prompt.window with its budgets, context.gather over the code map), and the
case counts as recalled when the target's signature line is in the prompt: in the prefix/suffix
alone (what a completion without the map sees), and with gdm's map context. It also prints the
context building time (the code map's snapshot and the gather, what a completion adds before its
model call), p50/p95 over the cases, with the index warm.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "server"))
sys.path.insert(0, str(REPO / "benchmarks"))

from gdm.completions import context  # noqa: E402
from gdm.completions.prompt import window  # noqa: E402
from gdm.context.repomap.service import CodeMap  # noqa: E402
from measures import percentile  # noqa: E402

_CALL = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def cases(code_map: CodeMap, index: context.DefinitionIndex, snapshot: dict) -> list[tuple[str, int, str]]:
    """(path, 0-based line, name) of every Python line calling a name only other files define."""
    out = []
    for path, tags in snapshot.items():
        if not path.endswith(".py"):
            continue
        text = code_map.index.text_of(path)
        if text is None:
            continue
        for number, line in enumerate(text.splitlines()):
            stripped = line.strip()
            if not stripped or stripped.startswith(("#", "def ", "class ", "import ", "from ", "@")):
                continue
            for name in _CALL.findall(line):
                files = index.files_defining(name)
                if files and path not in files and not tags.defines(name) and len(name) > 3:
                    out.append((path, number, name))
                    break
    return out


def signatures(index: context.DefinitionIndex, name: str) -> list[str]:
    """The signature lines of every map-visible definition of `name`."""
    return [defs[at].signature for _path, at, defs in index.definitions(name, limit=50)]


def measure(root: Path, n: int, seed: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="gdm-ctx-") as cache:
        code_map = CodeMap(root, cache_folder=Path(cache))
        started = time.perf_counter()
        code_map.build()
        built_s = time.perf_counter() - started
        snapshot = code_map.index.snapshot()
        index = context.DefinitionIndex()
        index.update(snapshot)
        found = cases(code_map, index, snapshot)
        drawn = random.Random(seed).sample(found, min(n, len(found)))
        base = mapped = 0
        ms: list[float] = []
        chars: list[int] = []
        for path, number, name in drawn:
            lines = (code_map.index.text_of(path) or "").splitlines(keepends=True)
            indent = re.match(r"\s*", lines[number]).group().rstrip("\n")
            blanked = "".join(lines[:number]) + indent + "\n" + "".join(lines[number + 1:])
            win = window(blanked, len("".join(lines[:number])) + len(indent))
            t0 = time.perf_counter()
            snippets = context.gather(index, code_map.index.snapshot(), path, win, [])
            ms.append((time.perf_counter() - t0) * 1000)
            chars.append(sum(len(s) for s in snippets))
            wanted = signatures(index, name)
            base += any(sig in win.prefix or sig in win.suffix for sig in wanted)
            joined = "\n".join(snippets)
            mapped += any(sig in win.prefix or sig in win.suffix or sig in joined for sig in wanted)
        code_map.close()
    count = max(1, len(drawn))
    return {"source": root.name, "files": len(snapshot), "index_s": built_s, "candidates": len(found),
            "cases": len(drawn), "recall_prefix_suffix": base / count, "recall_gdm": mapped / count,
            "context_chars": sum(chars) / count, "p50_ms": percentile(ms, 0.5), "p95_ms": percentile(ms, 0.95),
            "max_ms": max(ms) if ms else float("nan")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, action="append", help="a project to measure (repeatable)")
    parser.add_argument("--cases", type=int, default=400)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "gdm-bench")
    args = parser.parse_args()
    sources = args.source
    if not sources:
        from repo_map import django_source  # noqa: PLC0415 - downloads Django's sdist only when it is used

        sources = [REPO / "server", django_source(args.cache)]
    print("| source | files | cases (of) | recall, prefix/suffix alone | recall, gdm map context | context chars | "
          "context build p50 / p95 / max ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for root in sources:
        r = measure(root.resolve(), args.cases, args.seed)
        print(f"| {r['source']} | {r['files']} | {r['cases']} ({r['candidates']}) | {r['recall_prefix_suffix']:.1%} | "
              f"{r['recall_gdm']:.1%} | {r['context_chars']:.0f} | {r['p50_ms']:.2f} / {r['p95_ms']:.2f} / "
              f"{r['max_ms']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
