"""Real-world diffs applied exactly and after line drift, by gdm and by GNU patch (issue 5).

Corpus: every text file that changed between two consecutive releases of popular PyPI packages
(sdists fetched with `pip download` on first use and cached under --cache, never in the repo).
For each changed file (old, new): `make_patch` against old gives gdm's hunks; `render_diff` gives
the unified diff (3 lines of context, the very same hunks) that GNU patch gets.

- exact: apply to old; the result must equal new byte for byte.
- drift: a seeded random copy of old with lines deleted and short blocks inserted OUTSIDE every
  hunk, that is outside its old lines AND its context lines (GNU patch matches context too), and
  not at the top or bottom of the file when a hunk is anchored there (less than 3 lines of context
  on that side: both tools anchor such a hunk to the file's edge). Inserted lines are fresh code
  lines, blank lines or copies of other lines of the file (users paste). The expected text is the
  same drift applied to new. Both tools get the same drifted text and the same hunks.

gdm: `apply_hunks(patch, text)` in process; its LSP edits are applied to the text to check the
result. GNU patch 2.7: `patch --force --fuzz 2 -o OUT FILE DIFF` per file, one process each (its
time includes the spawn); `--force` rather than `--batch`, because --batch guesses "reversed" patches
and applies them backwards. Per hunk: gdm's conflicts and edit positions; GNU's "Hunk #n FAILED" /
"succeeded at … (offset k lines)" messages. A hunk applied at another place than its own is
"wrong", unless the text comes out the same (e.g. a blank line added inside a run of blank lines).

    .venv/bin/python benchmarks/apply_real_diffs.py [--seed 5] [--packages requests,flask]
        [--drift-rate 0.02] [--repeat 3] [--cache ~/.cache/gdm-bench/sdists]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "server"))

from gdm.patches.apply import apply_hunks  # noqa: E402
from gdm.patches.model import CONTEXT, FilePatch, Hunk, make_patch, render_diff, split_lines  # noqa: E402

# (package, release, the release right after it on PyPI)
PAIRS = (
    ("requests", "2.32.4", "2.32.5"),
    ("flask", "3.0.3", "3.1.0"),
    ("click", "8.1.8", "8.2.0"),
    ("attrs", "24.3.0", "25.1.0"),
    ("packaging", "24.2", "25.0"),
    ("jinja2", "3.1.4", "3.1.5"),
    ("rich", "13.9.4", "14.0.0"),
    ("httpx", "0.27.2", "0.28.0"),
    ("werkzeug", "3.0.6", "3.1.0"),
    ("pytest", "8.3.5", "8.4.0"),
    ("black", "24.10.0", "25.1.0"),
    ("sphinx", "8.1.3", "8.2.0"),
    ("pydantic", "2.11.10", "2.12.0"),
)
FRESH = ("value = compute(items)", "logger.debug('here %s', value)", "# TODO: check this", "return None",
         "pass", "x += 1", "if not ok:", "self.count = 0", "import os", "}")


@dataclass
class Case:
    """One changed file of a release pair and gdm's patch for it."""

    package: str
    path: str
    old: str
    new: str
    patch: FilePatch
    diff: str  # the same hunks as a unified diff, for GNU patch


@dataclass
class Drifted:
    """A drifted copy of old, the expected result, and where each hunk's old lines now start."""

    text: str
    expected: str
    starts: dict[int, int]


@dataclass
class Tally:
    """Outcomes of one tool in one mode."""

    files: int = 0
    files_ok: int = 0
    hunks: int = 0
    ok: int = 0
    wrong: int = 0
    refused: int = 0
    seconds: float = 0.0
    per_hunk: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def add(self, case: Case, outcomes: dict[int, str], text_ok: bool, seconds: float) -> None:
        n = len(case.patch.hunks)
        self.files += 1
        self.files_ok += text_ok
        self.hunks += n
        for kind in outcomes.values():
            setattr(self, kind, getattr(self, kind) + 1)
        self.seconds += seconds
        self.per_hunk.append(seconds / n)
        if not text_ok:
            bad = {k: v for k, v in outcomes.items() if v != "ok"}
            self.failures.append(f"{case.package}:{case.path} hunks={n} {bad}")


# ---------------------------------------------------------------- corpus


def fetch(cache: Path, name: str, version: str) -> Path:
    """The sdist of name==version, downloaded with pip into the cache on first use."""
    folder = cache / f"{name}-{version}"
    found = sorted(folder.glob("*.tar.gz")) + sorted(folder.glob("*.zip"))
    if found:
        return found[0]
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-binary", ":all:", "--no-deps",
                    f"{name}=={version}", "-d", str(folder)], check=True)
    found = sorted(folder.glob("*.tar.gz")) + sorted(folder.glob("*.zip"))
    if not found:
        raise RuntimeError(f"pip download left no sdist in {folder}")
    return found[0]


def members(archive: Path) -> dict[str, bytes]:
    """Regular files of an sdist by path, without the top folder (name-version/)."""
    out: dict[str, bytes] = {}
    if archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist():
                if not info.is_dir():
                    out[info.filename.split("/", 1)[-1]] = z.read(info)
        return out
    with tarfile.open(archive) as t:
        for m in t.getmembers():
            if m.isfile():
                out[m.name.split("/", 1)[-1]] = t.extractfile(m).read()
    return out


def decode(data: bytes) -> str | None:
    """The text of a file, None for binary or undecodable ones."""
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def corpus(pairs, cache: Path, counts: dict[str, int]) -> list[Case]:
    """Changed text files of every pair; `counts` gets the files skipped and why."""
    cases: list[Case] = []
    for name, old_v, new_v in pairs:
        old_files, new_files = members(fetch(cache, name, old_v)), members(fetch(cache, name, new_v))
        counts["added"] += len(new_files.keys() - old_files.keys())
        counts["removed"] += len(old_files.keys() - new_files.keys())
        for path in sorted(old_files.keys() & new_files.keys()):
            if old_files[path] == new_files[path]:
                continue
            old, new = decode(old_files[path]), decode(new_files[path])
            if old is None or new is None:
                counts["binary"] += 1
                continue
            patch = make_patch(patch_id=f"{name}:{path}", task_id="bench", path=path, base_text=old, new_text=new)
            cases.append(Case(name, path, old, new, patch, render_diff(path, old, new)))
    return cases


# ---------------------------------------------------------------- drift


def protected(hunks: list[Hunk], n: int) -> tuple[set[int], set[int]]:
    """Lines and gaps (gap g = before line g) that drift must not touch: each hunk's old lines and
    context, the gaps inside them, and the file's edge when a hunk has less context on that side."""
    lines: set[int] = set()
    gaps: set[int] = set()
    for h in hunks:
        start, end = h.old_start - len(h.before), h.old_start + len(h.old_lines) + len(h.after)
        lines.update(range(start, end))
        gaps.update(range(start + 1, end))
        if len(h.before) < CONTEXT:
            gaps.add(0)
        if len(h.after) < CONTEXT:
            gaps.add(n)
    return lines, gaps


def drift(case: Case, rng: random.Random, rate: float) -> Drifted:
    """Delete unprotected lines and insert 1-3 line blocks into unprotected gaps, each with `rate`."""
    base = split_lines(case.old)
    n = len(base)
    lines, gaps = protected(case.patch.hunks, n)
    eol = "\r\n" if case.old.count("\r\n") * 2 > case.old.count("\n") else "\n"
    if base and not base[-1].endswith("\n"):
        gaps.add(n)  # text after a last line without newline would join it
    at = {h.old_start: h for h in case.patch.hunks}
    covered = {i for h in case.patch.hunks for i in range(h.old_start, h.old_start + len(h.old_lines))}
    text: list[str] = []
    expected: list[str] = []
    starts: dict[int, int] = {}
    for g in range(n + 1):
        if g not in gaps and rng.random() < rate:
            block = [_fresh_line(rng, base, g, eol) for _ in range(rng.randint(1, 3))]
            text += block
            expected += block
        if g in at:
            starts[at[g].index] = len(text)
            text += at[g].old_lines
            expected += at[g].new_lines
        if g < n and g not in covered and (g in lines or rng.random() >= rate):
            text.append(base[g])
            expected.append(base[g])
    return Drifted("".join(text), "".join(expected), starts)


def _fresh_line(rng: random.Random, base: list[str], g: int, eol: str) -> str:
    kind = rng.random()
    if kind < 0.3 and base:
        line = rng.choice(base)
        return line if line.endswith("\n") else line + eol
    if kind < 0.5:
        return eol
    near = base[min(g, len(base) - 1)] if base else ""
    indent = near[:len(near) - len(near.lstrip(" \t"))]
    return f"{indent}{rng.choice(FRESH)}{eol}"


# ---------------------------------------------------------------- the two tools


def lsp_apply(text: str, edits) -> tuple[str, list[int]]:
    """Apply LSP edits (UTF-16 characters; \\n, \\r\\n, \\r break lines) as an editor does; also the
    character offset where each edit starts."""
    starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]

    def offset(line: int, char: int) -> int:
        i, units = starts[line], 0
        while units < char:
            units += 2 if ord(text[i]) > 0xFFFF else 1
            i += 1
        return i

    spans = [(offset(e.start_line, e.start_char), offset(e.end_line, e.end_char), e.new_text) for e in edits]
    out = text
    for a, b, new in sorted(spans, reverse=True):
        out = out[:a] + new + out[b:]
    return out, [a for a, _, _ in spans]


def same_result(lines: list[str], hunk: Hunk, got: int, want: int) -> bool:
    """Whether placing the hunk's change at line `got` gives the text it gives at `want`."""
    k = len(hunk.old_lines)

    def put(p: int) -> list[str]:
        return lines[:p] + hunk.new_lines + lines[p + k:]
    return lines[got:got + k] == hunk.old_lines and put(got) == put(want)


def judge(case: Case, text: str, placed: dict[int, int], want: dict[int, int]) -> dict[int, str]:
    """ok / wrong / refused for every hunk, from where it was placed (line of its old lines)."""
    lines = split_lines(text)
    out: dict[int, str] = {}
    for h in case.patch.hunks:
        p = placed.get(h.index)
        if p is None:
            out[h.index] = "refused"
        elif p == want[h.index] or same_result(lines, h, p, want[h.index]):
            out[h.index] = "ok"
        else:
            out[h.index] = "wrong"
    return out


def run_gdm(case: Case, text: str, want: dict[int, int], expected: str, repeat: int):
    """gdm in process: per-hunk outcomes, whether the edited text is the expected one, seconds."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = apply_hunks(case.patch, text)
        best = min(best, time.perf_counter() - t0)
    out, offsets = lsp_apply(text, result.edits)
    line_of = [text.count("\n", 0, a) if a < len(text) else len(split_lines(text)) for a in offsets]
    placed = dict(zip(result.applied, line_of))  # edits are in document order, like the hunks
    outcomes = judge(case, text, placed, want)
    return outcomes, out == expected, best


HUNK_MSG = re.compile(r"^Hunk #(\d+) (?:(FAILED|ignored) at|succeeded at \d+(?: with fuzz \d+)?"
                      r"(?: \(offset (-?\d+) lines?\))?)", re.M)


def run_gnu(case: Case, text: str, want: dict[int, int], expected: str, repeat: int, tmp: Path):
    """GNU patch on the same text and hunks: per-hunk outcomes, output == expected, seconds."""
    src, diff, out = tmp / "file", tmp / "diff", tmp / "out"
    src.write_bytes(text.encode("utf-8"))
    diff.write_bytes(case.diff.encode("utf-8"))
    cmd = ["patch", "--force", "--fuzz", "2", "--no-backup-if-mismatch", "-r", os.devnull,
           "-o", str(out), str(src), str(diff)]
    best = float("inf")
    for _ in range(repeat):
        out.unlink(missing_ok=True)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "LC_ALL": "C"})
        best = min(best, time.perf_counter() - t0)
    offsets: dict[int, int | None] = {h.index: 0 for h in case.patch.hunks}  # no message: no offset
    for m in HUNK_MSG.finditer(proc.stdout + proc.stderr):
        index = int(m.group(1)) - 1
        offsets[index] = None if m.group(2) else int(m.group(3) or 0)
    # GNU's offset moves the whole hunk, context included, from its place in the diff
    placed = {h.index: h.old_start + offsets[h.index] for h in case.patch.hunks if offsets[h.index] is not None}
    if proc.returncode == 2 or not out.exists():  # trouble: nothing was written
        placed = {}
    got = out.read_bytes().decode("utf-8") if out.exists() else None
    outcomes = judge(case, text, placed, want)
    return outcomes, proc.returncode == 0 and got == expected, best


# ---------------------------------------------------------------- the table


def pct(part: int, whole: int) -> str:
    return f"{100.0 * part / whole:.2f}%" if whole else "n/a"


def row(tool: str, exact: Tally, drifted: Tally) -> str:
    per_hunk = [statistics.median(t.per_hunk) * 1e3 if t.per_hunk else 0.0 for t in (exact, drifted)]
    return (f"| {tool} | {pct(exact.ok, exact.hunks)} ({pct(exact.files_ok, exact.files)} of files) "
            f"| {pct(drifted.ok, drifted.hunks)} ({pct(drifted.files_ok, drifted.files)} of files) "
            f"| {exact.wrong} / {drifted.wrong} | {exact.refused} / {drifted.refused} "
            f"| {exact.seconds:.2f} / {drifted.seconds:.2f} | {per_hunk[0]:.3f} / {per_hunk[1]:.3f} |")


def gnu_version() -> str:
    first = subprocess.run(["patch", "--version"], capture_output=True, text=True).stdout.splitlines()
    return first[0] if first else "GNU patch"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--packages", default="", help="comma-separated subset of: "
                        + ",".join(p[0] for p in PAIRS))
    parser.add_argument("--drift-rate", type=float, default=0.02,
                        help="chance of deleting each free line and of inserting a block at each free gap")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per file and tool (best kept)")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "gdm-bench" / "sdists")
    parser.add_argument("--show-failures", type=int, default=10)
    args = parser.parse_args()
    chosen = {p.strip() for p in args.packages.split(",") if p.strip()}
    pairs = [p for p in PAIRS if not chosen or p[0] in chosen]
    counts = {"added": 0, "removed": 0, "binary": 0}
    cases = corpus(pairs, args.cache, counts)
    n_hunks = sum(len(c.patch.hunks) for c in cases)
    print(f"corpus: {len(pairs)} release pairs ({', '.join(f'{n} {a}->{b}' for n, a, b in pairs)})")
    print(f"        {len(cases)} changed text files, {n_hunks} hunks; skipped {counts['binary']} binary/undecodable,"
          f" {counts['added']} added and {counts['removed']} removed files")
    load = os.getloadavg()[0]
    rng = random.Random(args.seed)
    tallies = {(tool, mode): Tally() for tool in ("gdm", "gnu") for mode in ("exact", "drift")}
    with tempfile.TemporaryDirectory() as tmp:
        for case in cases:
            runs = {"exact": Drifted(case.old, case.new, {h.index: h.old_start for h in case.patch.hunks}),
                    "drift": drift(case, rng, args.drift_rate)}
            for mode, d in runs.items():
                tallies["gdm", mode].add(case, *run_gdm(case, d.text, d.starts, d.expected, args.repeat))
                tallies["gnu", mode].add(case, *run_gnu(case, d.text, d.starts, d.expected, args.repeat, Path(tmp)))
    print(f"\nseed {args.seed}, drift rate {args.drift_rate}, best of {args.repeat} timed runs per file; "
          f"load average {load:.2f} at the start, {os.getloadavg()[0]:.2f} at the end ({os.cpu_count()} cores)\n")
    print("| tool | exact: hunks ok | drift: hunks ok | wrong placements exact / drift "
          "| refused exact / drift | total s exact / drift | per-hunk median ms exact / drift |")
    print("|---|---|---|---|---|---|---|")
    print(row("gdm `apply_hunks` (in process)", tallies["gdm", "exact"], tallies["gdm", "drift"]))
    print(row(f"{gnu_version()} `--fuzz 2` (one process per file)", tallies["gnu", "exact"], tallies["gnu", "drift"]))
    for (tool, mode), tally in tallies.items():
        for line in tally.failures[:args.show_failures]:
            print(f"  {tool} {mode} failed: {line}")


if __name__ == "__main__":
    main()
