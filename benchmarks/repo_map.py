"""gdm's code map side by side with Aider 0.86's RepoMap in the same run, on Django 5.2 (issue 18).

Usage:
    .venv/bin/python benchmarks/repo_map.py [--tokens 1024] [--cache ~/.cache/gdm-bench]
    .venv/bin/python benchmarks/repo_map.py --gdm-only --source DIR --edit REL_PATH   # another project

Everything downloaded stays in the cache dir (default ~/.cache/gdm-bench, never in the repository,
never run by CI): Django 5.2's sdist (`pip download` from the registry, unpacked there) and a venv
with `aider-chat==0.86.2` made by the benchmark (never the project's venv). Each figure is one child
process per tool: Aider's in its venv's interpreter (a driver script given to it, with a stub model
and io: chars/4 tokens like gdm's fallback, no network), gdm's in this interpreter.
- cold: both tools' caches removed (Aider's `.aider.tags.cache.v4` in the project, gdm's cache dir);
- warm: a new process, the disk caches from the cold run;
- after edit: the same warm process, one file appended a function, the map asked again (Aider
  with `refresh="always"`, else it answers its stale in-memory map);
- peak memory: the child's ru_maxrss, and the largest of its own children (gdm's parsing workers).
Top 10 files: each map's files in rank order (Aider's map text lists files by name, so its order is
taken from `get_ranked_tags`, the ranking the map is cut from).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DJANGO = "django==5.2.*"
AIDER = "aider-chat==0.86.2"
EDIT = "django/db/models/base.py"

# Aider's RepoMap with a stub model and io (no network), for the drivers given to Aider's interpreter.
AIDER_STUBS = r'''
from pathlib import Path
from aider.repomap import RepoMap

class Model:  # what RepoMap asks of aider's Model: token_count (chars/4, as gdm's fallback)
    def token_count(self, text):
        return len(text) / 4

class IO:  # what RepoMap asks of aider's InputOutput
    def read_text(self, fname, silent=False):
        try:
            return Path(fname).read_text(encoding="utf-8")
        except (OSError, UnicodeError):
            return None
    def tool_output(self, *a, **k): pass
    def tool_warning(self, *a, **k): pass
    def tool_error(self, *a, **k): pass
'''

AIDER_DRIVER = r'''
import json, os, resource, sys, time
''' + AIDER_STUBS + r'''
def files(root):
    out = []
    for d, dirs, names in os.walk(root):
        dirs[:] = [x for x in dirs if not x.startswith(".")]
        out += [os.path.join(d, n) for n in names]
    return sorted(out)

root, tokens, edit, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
other = files(root)
def make():
    return RepoMap(map_tokens=tokens, root=root, main_model=Model(), io=IO(), verbose=False,
                   refresh="always")
out = {}
t = time.perf_counter(); rm = make(); text = rm.get_repo_map([], other); out["map_s"] = time.perf_counter() - t
ranked = rm.get_ranked_tags([], other, set(), set())
shown, top = set(), []
for line in (text or "").splitlines():
    if line and not line[0] in " \t│⋮" and line.endswith(":"):
        shown.add(line[:-1])
for tag in ranked:
    rel = tag[0]
    if rel in shown and rel not in top:
        top.append(rel)
out["top"] = top[:10]
out["files"] = len(shown)
if mode == "warm":
    target = Path(root) / edit
    before = target.read_text()
    try:
        target.write_text(before + "\ndef added_fn_xyz(a):\n    return a\n")
        t = time.perf_counter(); rm.get_repo_map([], other); out["edit_s"] = time.perf_counter() - t
    finally:
        target.write_text(before)
out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
out["children_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print("RESULT " + json.dumps(out))
'''

GDM_DRIVER = r'''
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[5])
from gdm.context.repomap.service import CodeMap
root, tokens, edit, mode, _server, cache = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], Path(sys.argv[6])
out = {}
t = time.perf_counter(); cm = CodeMap(root, cache_folder=cache); r = cm.map(max_tokens=tokens); out["map_s"] = time.perf_counter() - t
out["top"] = r.files[:10]
out["files"] = len(r.files)
if mode == "warm":
    t = time.perf_counter(); cm.map(max_tokens=tokens); out["again_s"] = time.perf_counter() - t
    target = root / edit
    before = target.read_text()
    try:
        target.write_text(before + "\ndef added_fn_xyz(a):\n    return a\n")
        t = time.perf_counter(); cm.map(max_tokens=tokens); out["edit_s"] = time.perf_counter() - t
    finally:
        target.write_text(before)
cm.close()
out["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
out["children_rss_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print("RESULT " + json.dumps(out))
'''


def django_source(cache: Path) -> Path:
    """Django 5.2's sdist, downloaded once from the registry and unpacked in the cache."""
    dl = cache / "sdists"
    tars = sorted(dl.glob("django-5.2*.tar.gz")) or sorted(dl.glob("Django-5.2*.tar.gz"))
    if not tars:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:",
                        DJANGO, "-d", str(dl)], check=True)
        tars = sorted(dl.glob("[dD]jango-5.2*.tar.gz"))
    tar = tars[-1]
    folder = cache / tar.name.removesuffix(".tar.gz").lower()
    if not folder.is_dir():
        with tarfile.open(tar) as archive:
            archive.extractall(cache / "unpack", filter="data")
        shutil.move(str(next((cache / "unpack").iterdir())), folder)
        shutil.rmtree(cache / "unpack")
    return folder


def aider_python(cache: Path) -> Path:
    """The interpreter of a venv holding Aider 0.86 (made once, in the cache)."""
    venv = cache / "aider-venv"
    python = venv / "bin" / "python"
    probe = [str(python), "-c", "import aider.repomap, aider; print(aider.__version__)"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", AIDER], check=True)
    return python


def run(cmd: list[str], cwd: Path) -> dict:
    """One driver child; its RESULT line parsed."""
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise SystemExit(f"driver failed ({done.returncode}): {done.stderr[-3000:]}")


def measure_gdm(source: Path, tokens: int, edit: str, cache: Path) -> dict:
    """gdm cold (its cache dir removed) then warm + after edit in a new process."""
    gdm_cache = cache / "gdm-map-cache"
    shutil.rmtree(gdm_cache, ignore_errors=True)
    cmd = [sys.executable, "-c", GDM_DRIVER, str(source), str(tokens), edit]
    tail = [str(ROOT / "server"), str(gdm_cache)]
    cold = run([*cmd, "cold", *tail], source)
    warm = run([*cmd, "warm", *tail], source)
    return {"cold": cold, "warm": warm}


def measure_aider(python: Path, source: Path, tokens: int, edit: str) -> dict:
    """Aider cold (its tags cache removed) then warm + after edit in a new process."""
    shutil.rmtree(source / ".aider.tags.cache.v4", ignore_errors=True)
    cmd = [str(python), "-c", AIDER_DRIVER, str(source), str(tokens), edit]
    cold = run([*cmd, "cold"], source)
    warm = run([*cmd, "warm"], source)
    shutil.rmtree(source / ".aider.tags.cache.v4", ignore_errors=True)
    return {"cold": cold, "warm": warm}


def _peak(result: dict) -> str:
    runs = (result["cold"], result["warm"])
    main = max(r["rss_mb"] for r in runs)
    workers = max(r["children_rss_mb"] for r in runs)
    return f"{main:.0f} MB" + (f" (+ workers {workers:.0f} MB each)" if workers > 1 else "")


def table(name: str, results: dict[str, dict]) -> None:
    """Print the figures as a markdown table, then the top 10 files side by side."""
    tools = list(results)
    print(f"\n{name}, load average {os.getloadavg()[0]:.1f} at the end\n")
    print("| case | " + " | ".join(tools) + " |")
    print("|---|" + "---|" * len(tools))
    rows = [("cold map (empty caches)", lambda r: f"{r['cold']['map_s']:.2f} s"),
            ("warm map (new process, disk cache)", lambda r: f"{r['warm']['map_s']:.2f} s"),
            ("after a one-file edit (same process)", lambda r: f"{r['warm']['edit_s'] * 1000:.0f} ms"),
            ("peak RSS", _peak),
            ("files in the map", lambda r: str(r["warm"]["files"]))]
    for label, cell in rows:
        print(f"| {label} | " + " | ".join(cell(results[t]) for t in tools) + " |")
    if len(tools) == 2:
        a, b = (results[t]["warm"]["top"] for t in tools)
        first = results[tools[0]]
        print(f"\nratios {tools[0]}/{tools[1]}: cold 1/{results[tools[1]]['cold']['map_s'] / first['cold']['map_s']:.1f}, "
              f"warm 1/{results[tools[1]]['warm']['map_s'] / first['warm']['map_s']:.1f}")
    print("\n| rank | " + " | ".join(tools) + " |")
    print("|---|" + "---|" * len(tools))
    tops = [results[t]["warm"]["top"] for t in tools]
    for i in range(10):
        print(f"| {i + 1} | " + " | ".join((top[i] if i < len(top) else "") for top in tops) + " |")


def main() -> None:
    """Download what is missing, measure both tools, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=1024)
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "gdm-bench")
    parser.add_argument("--gdm-only", action="store_true", help="gdm alone (no Aider)")
    parser.add_argument("--source", type=Path, help="the project to map (default: Django 5.2's sdist)")
    parser.add_argument("--edit", default=EDIT, help="the file edited for the after-edit figure")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    source = args.source.expanduser().resolve() if args.source else django_source(args.cache)
    if not source.is_dir() or not (source / args.edit).is_file():
        parser.error(f"--source {source} must be a folder holding --edit {args.edit} (see benchmarks/README.md "
                     f"for where each project's source comes from)")
    results = {"gdm": measure_gdm(source, args.tokens, args.edit, args.cache)}
    if not args.gdm_only:
        results["Aider 0.86"] = measure_aider(aider_python(args.cache), source, args.tokens, args.edit)
    table(f"{source.name}, {args.tokens} tokens", results)


if __name__ == "__main__":
    main()
