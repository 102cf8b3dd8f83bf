"""Co-change retrieval on real git history: gdm's code map and Aider 0.86's RepoMap (issue 30).

Usage:
    .venv/bin/python benchmarks/repo_map_history.py --repo ~/.cache/gdm-bench/flask [--repo …] [--commits 300]
    .venv/bin/python benchmarks/repo_map_history.py --repo https://github.com/pallets/flask   # cloned (bare) into the cache

For each repository: the newest `--commits` non-merge commits reachable from HEAD that change 2–6
source files (`is_source`: a file of the code map's languages that the map would read by its name —
not vendored, minified, a lock file or under a hidden folder; docs, changelogs and configuration
never count). Each commit is looked at as its parent's tree: the map is focused on one changed file
(`FOCUS_RULE`) and scored on whether the other changed files that existed at the parent (modified
or deleted by the commit) are among the map's first files (`score`): recall@5, recall@10 and MRR@10
(1/rank of the first of them within the top 10, else 0), the mean over commits.

Arms, the same commits and focus in one run: gdm resolved (names through imports; only when
`CodeMap` takes `resolve`), gdm spelling-only, and Aider 0.86.2's RepoMap (`get_ranked_tags` with
the focus as the chat file and every other file of the tree as the others, as Aider's repository
gives them). Rankings are compared, not token-cut maps: each tool's files in the order its map
shows them (the order of their best definitions), the focus left out — gdm's from a map of
`--tokens` (4,096; a larger one, up to 16×, where that holds fewer than ten other files: see
`depth` in the JSON), Aider's from the whole `get_ranked_tags` list its map is cut from.

Speed: one work tree per tool (gdm's two arms share one) holding the code files of the parent
(`WorkTree`), moved from parent to parent in chronological order: only the changed files are
written (others keep their mtime) and deleted ones removed, so gdm's cache and Aider's mtime-keyed
tags cache reuse everything else; the repository itself is only read. gdm runs in this process
(`CodeMap.files_changed()` then `map`); Aider in one long-lived child of its own venv
(~/.cache/gdm-bench/aider-venv, made as benchmarks/repo_map.py makes it), fed a JSON line per commit.
Everything (clones, work trees, caches, the JSON of all results) stays in the cache dir.
`GDM_SERVER=<another checkout>/server` measures that checkout's gdm with this script.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# GDM_SERVER=<another checkout>/server measures that checkout's code map (a branch) with this script.
sys.path.insert(0, os.environ.get("GDM_SERVER") or str(ROOT / "server"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from gdm.context.repomap.files import SKIP_DIRS, excluded_name
from gdm.context.repomap.service import CodeMap
from gdm.context.repomap.tags import language_of
from repo_map import AIDER_STUBS, aider_python

MIN_FILES, MAX_FILES = 2, 6
DEPTH = 10  # files scored: top 5, top 10, MRR@10
KEPT = 50  # files kept per arm and commit in the JSON
FOCUS_RULE = ("the modified source file with the most changed lines (added + deleted; ties: the first "
              "by path): where the change's work is, the file a user would have open")

AIDER_DRIVER = r'''
import json, os, sys, time
''' + AIDER_STUBS + r'''
def files(root):
    out = []
    for d, dirs, names in os.walk(root):
        dirs[:] = [x for x in dirs if not x.startswith(".")]
        out += [os.path.join(d, n) for n in names if not n.startswith(".")]
    return sorted(out)

maps = {}
for line in sys.stdin:
    ask = json.loads(line)
    root, focus = ask["root"], os.path.join(ask["root"], ask["focus"])
    if root not in maps:
        maps[root] = RepoMap(map_tokens=1024, root=root, main_model=Model(), io=IO(), verbose=False,
                             refresh="always")
    t = time.perf_counter()
    others = [f for f in files(root) if f != focus]
    ranked = maps[root].get_ranked_tags([focus], others, set(), set())
    order, seen = [], {ask["focus"]}
    for tag in ranked:
        if tag[0] not in seen:
            seen.add(tag[0])
            order.append(tag[0])
    print("RESULT " + json.dumps({"files": order[:ask["keep"]], "s": time.perf_counter() - t}), flush=True)
'''


# -- which commits ------------------------------------------------------------------------

def is_source(path: str) -> bool:
    """A file of the code map's languages that the map reads by its name (not vendored, minified, a
    lock or secret file, under a hidden or skipped folder, or a dotfile): docs, changelogs and
    configuration never count."""
    parts = path.split("/")
    if any(p.startswith(".") or p in SKIP_DIRS for p in parts):
        return False
    return language_of(path) is not None and not excluded_name(path)


@dataclass
class Commit:
    """A selected commit: its parent, the focus file and the files scored (as at the parent)."""

    sha: str
    parent: str
    focus: str
    targets: list[str]
    changed: list[str] = field(default_factory=list)  # every changed source file, any status


def _log(git_dir: Path) -> Iterator[tuple[str, list[str], dict[str, str], dict[str, int]]]:
    """(sha, parents, path → status, path → changed lines) per non-merge commit, newest first."""
    cmd = ["git", "--git-dir", str(git_dir), "-c", "core.quotePath=false", "log", "--no-merges",
           "--no-renames", "--format=%x01%H %P", "--raw", "--numstat", "HEAD"]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, errors="replace") as proc:
        current: tuple[str, list[str], dict[str, str], dict[str, int]] | None = None
        try:
            for line in proc.stdout:
                line = line.rstrip("\n")
                if line.startswith("\x01"):
                    if current:
                        yield current
                    sha, *parents = line[1:].split()
                    current = (sha, parents, {}, {})
                elif current and line.startswith(":"):
                    meta, path = line.split("\t", 1)
                    current[2][path] = meta.split()[-1]
                elif current and line.count("\t") >= 2:
                    added, deleted, path = line.split("\t", 2)
                    current[3][path] = (int(added) if added.isdigit() else 0) + (int(deleted) if deleted.isdigit() else 0)
            if current:
                yield current
        finally:
            proc.kill()


def choose(sha: str, parents: list[str], status: dict[str, str], lines: dict[str, int]) -> Commit | None:
    """The commit as a case, or None: one parent, 2–6 changed source files, a modified one to focus
    on (`FOCUS_RULE`) and at least one other that existed at the parent (modified or deleted)."""
    if len(parents) != 1:
        return None
    changed = sorted(p for p in status if is_source(p))
    if not MIN_FILES <= len(changed) <= MAX_FILES:
        return None
    modified = [p for p in changed if status[p] == "M"]
    if not modified:
        return None
    focus = min(modified, key=lambda p: (-lines.get(p, 0), p))
    targets = [p for p in changed if p != focus and status[p] in ("M", "D")]
    if not targets:
        return None
    return Commit(sha, parents[0], focus, targets, changed)


def select_commits(git_dir: Path, count: int) -> list[Commit]:
    """The newest `count` cases of the repository's history (deterministic for a given HEAD)."""
    out: list[Commit] = []
    for entry in _log(git_dir):
        case = choose(*entry)
        if case:
            out.append(case)
            if len(out) >= count:
                break
    return out


# -- scoring ------------------------------------------------------------------------------

def score(ranked: list[str], focus: str, targets: list[str]) -> dict[str, float]:
    """recall@5, recall@10 (the share of targets among the first files) and MRR@10 (1/rank of the
    first target within the top 10, else 0) of a ranking; the focus and repeats never take a rank."""
    order: list[str] = []
    for path in ranked:
        if path != focus and path not in order:
            order.append(path)
    wanted = set(targets)
    first = next((i + 1 for i, p in enumerate(order[:DEPTH]) if p in wanted), None)
    return {"recall@5": len(wanted & set(order[:5])) / len(wanted),
            "recall@10": len(wanted & set(order[:DEPTH])) / len(wanted),
            "mrr@10": 1.0 / first if first else 0.0}


def summarize(rows: list[dict[str, float]]) -> dict[str, float]:
    """The mean of each figure over the commits."""
    keys = ("recall@5", "recall@10", "mrr@10")
    return {k: (sum(r[k] for r in rows) / len(rows) if rows else 0.0) for k in keys}


def is_test(path: str) -> bool:
    """A test file by its path: under a `tests`/`testing`/`test` folder, or named test_*, *_test, conftest."""
    *folders, name = path.split("/")
    stem = name.rsplit(".", 1)[0]
    return (any(f in ("tests", "testing", "test") for f in folders) or stem.startswith("test_")
            or stem.endswith("_test") or stem == "conftest")


def by_kind(cases: list[dict], arm: str) -> dict[str, tuple[int, int]]:
    """(targets in the top 10, targets) of one arm, for test files and for the others."""
    out = {"tests": [0, 0], "others": [0, 0]}
    for case in cases:
        top = set(case["arms"][arm]["files"][:DEPTH])
        for target in case["targets"]:
            kind = out["tests" if is_test(target) else "others"]
            kind[0] += target in top
            kind[1] += 1
    return {k: (v[0], v[1]) for k, v in out.items()}


# -- the trees and the arms -----------------------------------------------------------------

def is_code(path: str) -> bool:
    """What a work tree holds: every file of the code map's languages (vendored and hidden ones
    too: each tool leaves out what it leaves out) and the .gitignore files gdm's walk reads."""
    return language_of(path) is not None or path.rsplit("/", 1)[-1] == ".gitignore"


class WorkTree:
    """A folder holding a commit's code files (`is_code`), moved commit by commit: the files whose
    blob changed are written, the deleted ones removed, the rest untouched (their mtime too). Blobs
    come from `git cat-file --batch`; the repository (its HEAD, its index) is only read. Docs,
    images and data stay out: neither tool ranks them above a parsed file, and a fetched mirror may
    lack its largest blobs (those of code files it lacks are counted in `missing`)."""

    def __init__(self, git_dir: Path, folder: Path) -> None:
        self.git_dir, self.folder = git_dir, folder
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        self.blobs: dict[str, str] = {}  # path -> blob id, as on disk now
        self.missing: set[str] = set()
        self._cat = subprocess.Popen(["git", "--git-dir", str(git_dir), "cat-file", "--batch"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def _tree(self, commit: str) -> dict[str, str]:
        listing = subprocess.run(["git", "--git-dir", str(self.git_dir), "ls-tree", "-r", "-z", commit],
                                 capture_output=True, check=True).stdout.decode("utf-8", "surrogateescape")
        out = {}
        for entry in filter(None, listing.split("\0")):
            meta, path = entry.split("\t", 1)
            mode, kind, blob = meta.split()
            if kind == "blob" and mode in ("100644", "100755") and is_code(path):
                out[path] = blob
        return out

    def _read(self, blob: str) -> bytes | None:
        self._cat.stdin.write(blob.encode() + b"\n")
        self._cat.stdin.flush()
        header = self._cat.stdout.readline().split()
        if len(header) < 3 or header[1] != b"blob":
            return None  # "<id> missing": not in this (partial) mirror
        data = self._cat.stdout.read(int(header[2]))
        self._cat.stdout.read(1)
        return data

    def move(self, commit: str) -> None:
        """The tree's code files as at `commit`."""
        tree = self._tree(commit)
        for path in set(self.blobs) - set(tree):
            (self.folder / path).unlink(missing_ok=True)
            del self.blobs[path]
        for path, blob in tree.items():
            if self.blobs.get(path) == blob:
                continue
            data = self._read(blob)
            target = self.folder / path
            if data is None:
                self.missing.add(path)
                target.unlink(missing_ok=True)
                self.blobs.pop(path, None)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            self.blobs[path] = blob

    def close(self) -> None:
        self._cat.stdin.close()
        self._cat.wait(timeout=30)


def takes_resolve() -> bool:
    """Whether this gdm's CodeMap has the `resolve` switch (names through imports)."""
    return "resolve" in inspect.signature(CodeMap).parameters


class GdmArm:
    """gdm's code map of a work tree, in this process."""

    def __init__(self, name: str, tree: Path, cache: Path, tokens: int, resolve: bool | None) -> None:
        shutil.rmtree(cache, ignore_errors=True)
        options = {} if resolve is None else {"resolve": resolve}
        self.name, self.tokens = name, tokens
        self.short = "resolved" if resolve else "spelling"
        self.map = CodeMap(tree, cache_folder=cache, **options)

    def rank(self, focus: str) -> list[str]:
        """The map's files in rank order, focused on `focus`, after the tree moved: a map of
        `tokens`, or a larger one (up to 16×) where that one holds fewer than `DEPTH` other files
        (definitions that tie at rank 0 fill a map when nothing is reachable from the focus)."""
        self.map.files_changed()
        tokens = self.tokens
        while True:
            files = self.map.map(focus=[focus], max_tokens=tokens).files
            if len([f for f in files if f != focus]) >= DEPTH or tokens >= 16 * self.tokens:
                return files
            tokens *= 2

    def close(self) -> None:
        self.map.close()


class AiderArm:
    """Aider's RepoMap in one long-lived child of its venv, a JSON line per commit."""

    def __init__(self, python: Path, tree: Path, log: Path) -> None:
        self.name, self.short, self.tree = "Aider 0.86", "aider", tree
        shutil.rmtree(tree / ".aider.tags.cache.v4", ignore_errors=True)
        self._log = log.open("a")
        # A fixed hash seed: Aider's graph is built by iterating sets of names, and the order of the
        # edges changes PageRank's float sums enough to swap near-tied files (recall@10 moved by
        # 0.02 between two runs without it; with it, still by up to 0.005: near-ties swap anyway).
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        self.proc = subprocess.Popen([str(python), "-c", AIDER_DRIVER], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self._log, text=True, cwd=tree, env=env)

    def rank(self, focus: str) -> list[str]:
        self.proc.stdin.write(json.dumps({"root": str(self.tree), "focus": focus, "keep": KEPT}) + "\n")
        self.proc.stdin.flush()
        for line in self.proc.stdout:
            if line.startswith("RESULT "):
                return json.loads(line[7:])["files"]
        raise SystemExit(f"the Aider driver ended ({self.proc.wait()}); its log: {self._log.name}")

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)
        self._log.close()


# -- a repository -----------------------------------------------------------------------------

def git_dir_of(spec: str, cache: Path) -> Path:
    """A local repository's git dir, or a URL's bare clone in the cache (cloned once, full history)."""
    path = Path(spec).expanduser()
    if path.exists():
        found = subprocess.run(["git", "-C", str(path), "rev-parse", "--absolute-git-dir"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return Path(found)
    dest = cache / spec.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
    if not dest.exists():
        subprocess.run(["git", "clone", "--bare", spec, str(dest)], check=True)
    return dest


def repo_name(git_dir: Path) -> str:
    """A readable name: the folder holding the git dir (`flask` for …/flask/.git or flask.git)."""
    parts = [p for p in git_dir.parts if p not in (".git", "repo")]
    name = parts[-1].removesuffix(".git")
    return name.rsplit("+", 1)[-1]


def run_repo(spec: str, args: argparse.Namespace, aider: Path | None) -> dict:
    """Select the commits of one repository and score every arm on them."""
    git_dir = git_dir_of(spec, args.cache)
    name = repo_name(git_dir)
    head = subprocess.run(["git", "--git-dir", str(git_dir), "rev-parse", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()
    commits = select_commits(git_dir, args.commits)
    print(f"{name}: {len(commits)} commits selected (HEAD {head[:10]})", file=sys.stderr)
    work = args.cache / "history" / name
    gdm_tree = WorkTree(git_dir, work / "gdm")
    trees = [gdm_tree]
    arms: list = []
    if takes_resolve():
        arms.append(GdmArm("gdm resolved", gdm_tree.folder, work / "cache-resolved", args.tokens, True))
        arms.append(GdmArm("gdm spelling-only", gdm_tree.folder, work / "cache-spelling", args.tokens, False))
    else:
        arms.append(GdmArm("gdm spelling-only (no resolve in this gdm)", gdm_tree.folder, work / "cache-spelling",
                           args.tokens, None))
    if aider:
        aider_tree = WorkTree(git_dir, work / "aider")
        trees.append(aider_tree)
        arms.append(AiderArm(aider, aider_tree.folder, work / "aider.log"))
    cases, seconds = [], {arm.name: 0.0 for arm in arms}
    started = time.perf_counter()
    try:
        for n, commit in enumerate(reversed(commits), 1):  # oldest first: each move a small diff
            for tree in trees:
                tree.move(commit.parent)
            case = {**asdict(commit), "arms": {}}
            for arm in arms:
                t = time.perf_counter()
                ranked = [p for p in arm.rank(commit.focus) if p != commit.focus][:KEPT]
                seconds[arm.name] += time.perf_counter() - t
                case["arms"][arm.name] = {"files": ranked, "depth": len(ranked),
                                          **score(ranked, commit.focus, commit.targets)}
            cases.append(case)
            shown = " ".join(f"{a.short}={case['arms'][a.name]['recall@10']:.2f}" for a in arms)
            print(f"[{name} {n}/{len(commits)}] {commit.sha[:10]} {commit.focus} "
                  f"+{len(commit.targets)} r@10 {shown} ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    finally:
        for arm in arms:
            arm.close()
        for tree in trees:
            tree.close()
    summary = {arm.name: {**summarize([c["arms"][arm.name] for c in cases]), "seconds": seconds[arm.name],
                          "shallow": sum(c["arms"][arm.name]["depth"] < DEPTH for c in cases),
                          "by_kind": by_kind(cases, arm.name)} for arm in arms}
    return {"repo": name, "git_dir": str(git_dir), "head": head, "commits": len(cases), "summary": summary,
            "missing_blobs": sorted(gdm_tree.missing), "cases": cases}


def table(results: list[dict]) -> str:
    """The Markdown table: one row per repository and arm, gdm's recall@10 over Aider's."""
    lines = ["| repo | commits | arm | recall@5 | recall@10 | MRR@10 | recall@10 / Aider's |",
             "|---|---|---|---|---|---|---|"]
    for result in results:
        summary = result["summary"]
        aider = summary.get("Aider 0.86", {}).get("recall@10")
        for arm, s in summary.items():
            ratio = f"{s['recall@10'] / aider:.2f}×" if aider and arm != "Aider 0.86" else ""
            lines.append(f"| {result['repo']} | {result['commits']} | {arm} | {s['recall@5']:.3f} | "
                         f"{s['recall@10']:.3f} | {s['mrr@10']:.3f} | {ratio} |")
    lines += ["", "| repo | arm | test files in the top 10 | other files in the top 10 |", "|---|---|---|---|"]
    for result in results:
        for arm, s in result["summary"].items():
            cells = [f"{hit}/{n} ({hit / n:.3f})" if n else "0/0" for hit, n in s["by_kind"].values()]
            lines.append(f"| {result['repo']} | {arm} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    """Score every repository, print the table, write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", action="append", required=True,
                        help="a local repository (its git dir or work tree) or a URL cloned into the cache; repeatable")
    parser.add_argument("--commits", type=int, default=300)
    parser.add_argument("--tokens", type=int, default=4096, help="gdm's map budget (its ranking depth)")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "gdm-bench")
    parser.add_argument("--no-aider", action="store_true", help="gdm's arms alone")
    parser.add_argument("--json", type=Path, help="default: <cache>/history/results.json")
    args = parser.parse_args()
    args.cache = args.cache.expanduser()
    args.cache.mkdir(parents=True, exist_ok=True)
    aider = None if args.no_aider else aider_python(args.cache)
    load = os.getloadavg()[0]
    results = [run_repo(spec, args, aider) for spec in args.repo]
    out = args.json or args.cache / "history" / "results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"focus_rule": FOCUS_RULE, "tokens": args.tokens, "results": results}, indent=1))
    print(f"\nload average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end; "
          f"every case in {out}\n")
    print(table(results))
    for result in results:
        for arm, s in result["summary"].items():
            print(f"{result['repo']} {arm}: {s['seconds']:.0f} s in all, "
                  f"{s['shallow']} commits with fewer than {DEPTH} files ranked")


if __name__ == "__main__":
    main()
