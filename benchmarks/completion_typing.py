"""Model calls saved by gdm's inline completions on real typing (issue 29).

A real commit's added lines are typed into the file as it stood before the commit, one character
each `--key-ms` (80 ms), through the real server (`python -m gdm`) as VS Code does it: after each
keystroke a `didChange` and an automatic `textDocument/inlineCompletion`, and the previous request,
if still open, cancelled (`$/cancelRequest`). Before each added line the typist pauses `--pause-ms`
(reading the suggestion; without pauses no debounced request would ever reach the model). The
scripted model answers `/v1/completions` from the file as it stands after the commit
(`continue_from`: the rest of the current line, an oracle) after `--model-ms`.

Counted for gdm: model calls per 100 keystrokes, suggestions shown (an answer with an item that
arrives while its request is still the latest), and stale ones among them: a suggestion that is not
the start of what the commit really has after the cursor at the moment it arrives. Beside it, a naive
client that makes one model call per keystroke (the same model, straight over HTTP, no debounce,
cancellation or reuse) and shows each answer when it arrives: its calls, and its stale suggestions
(answers that arrive after the text moved on).

    .venv/bin/python benchmarks/completion_typing.py --repo /work/.mirror/psf+requests/repo [--commit SHA]

`--repo` is a clone or bare git folder with history (benchmarks/README.md says how to fetch one);
without `--commit` the newest commit that adds 8-40 lines to one Python file in pure insertions is
taken, and its id printed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gdm.scripted import ScriptedModel  # noqa: E402
from tests.conftest import scripted_settings  # noqa: E402
from tests.e2e.editor import start_editor, stop_editor  # noqa: E402


@dataclass
class Replay:
    """A commit's insertions into one file: the file before and after, and where each line goes."""

    commit: str
    path: str
    before: str
    after: str
    inserts: list[tuple[int, list[str]]]  # (0-based line in `before` to insert at, the added lines)

    def keystrokes(self) -> int:
        return sum(len(line) + 1 for _at, lines in self.inserts for line in lines)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", f"--git-dir={git_dir(repo)}", *args], check=True, capture_output=True,
                          text=True).stdout


def git_dir(repo: Path) -> Path:
    return repo / ".git" if (repo / ".git").exists() else repo


def pure_insertions(diff: str) -> list[tuple[int, list[str]]] | None:
    """The hunks of a `--unified=0` diff of one file as (line before, added lines), or None when a
    hunk removes lines."""
    from unidiff import PatchSet  # noqa: PLC0415 - a test/bench dependency

    patch = PatchSet(diff)
    if len(patch) != 1:
        return None
    out = []
    for hunk in patch[0]:
        if hunk.removed:
            return None
        out.append((hunk.source_start, [line.value.rstrip("\n") for line in hunk if line.is_added]))
    return out


def find_replay(repo: Path, commit: str | None) -> Replay:
    commits = [commit] if commit else git(repo, "log", "--no-merges", "--format=%H", "-n", "3000", "--", "*.py").split()
    for sha in commits:
        for path in git(repo, "show", "--format=", "--name-only", sha).split():
            if not path.endswith(".py") or "test" in path:
                continue
            inserts = pure_insertions(git(repo, "show", "--format=", "--unified=0", sha, "--", path))
            added = sum(len(lines) for _at, lines in inserts or [])
            if inserts and (commit or 8 <= added <= 40):
                before = git(repo, "show", f"{sha}^:{path}")
                after = git(repo, "show", f"{sha}:{path}")
                return Replay(sha, path, before, after, inserts)
    raise SystemExit(f"no commit in {repo} adds 8-40 lines to one Python file in pure insertions")


@dataclass
class Tally:
    keystrokes: int = 0
    calls: int = 0
    shown: int = 0
    stale: int = 0


def true_rest(after: str, typed_so_far: str) -> str:
    """What the commit has after the cursor, given the text up to it."""
    return after[len(typed_so_far):] if after.startswith(typed_so_far) else ""


async def type_with_gdm(replay: Replay, workspace: Path, tmp: Path, model: ScriptedModel, key_s: float,
                        pause_s: float) -> Tally:
    settings = scripted_settings(model, tmp)
    editor, _ = await start_editor(workspace, tmp, init_options=settings)
    tally = Tally()
    latest: dict[str, object] = {}
    pending: list[asyncio.Task] = []

    async def ask(msg_id: str, line: int, character: int, version: int) -> None:
        try:
            answer = await editor.complete(replay.path, line, character, msg_id=msg_id)
        except (JsonRpcException, asyncio.CancelledError):
            return
        items = list(answer.items if isinstance(answer, lsp.InlineCompletionList) else answer or [])
        if not items or latest.get("id") != msg_id or editor.docs[editor.uri(replay.path)][1] != version:
            return  # VS Code drops an answer to a request it has moved past
        tally.shown += 1
        text = editor.text(replay.path)
        offset = offset_of(text, line, character)
        rest = text[offset:]  # what follows the cursor in the buffer (the lines below)
        truth = true_rest(replay.after, text[:offset]) or rest
        if not truth.startswith(items[0].insert_text):
            tally.stale += 1

    def ask_now(line: int, character: int) -> None:
        """The request VS Code sends after a keystroke, the previous one cancelled if still open."""
        previous = latest.get("id")
        if previous is not None and not latest["future"].done():
            editor.client.protocol.notify(lsp.CANCEL_REQUEST, lsp.CancelParams(id=previous))
        msg_id = f"k{tally.keystrokes}"
        version = editor.docs[editor.uri(replay.path)][1]
        latest["id"] = msg_id
        latest["future"] = asyncio.ensure_future(ask(msg_id, line, character, version))
        pending.append(latest["future"])

    try:
        await editor.open(replay.path)
        shift = 0
        for at, lines in replay.inserts:
            line = at + shift  # `@@ -at,0` inserts after line `at` (1-based): the new line's 0-based index
            for added in lines:
                await editor.type(replay.path, *enter_at(editor.text(replay.path), line), "\n")  # Enter
                tally.keystrokes += 1
                ask_now(line, 0)
                await asyncio.sleep(pause_s)
                for column, char in enumerate(added):
                    await editor.type(replay.path, line, column, char)
                    tally.keystrokes += 1
                    ask_now(line, column + 1)
                    await asyncio.sleep(key_s)
                line += 1
            shift += len(lines)
        await asyncio.sleep(1.0)
        await asyncio.gather(*pending)
        if editor.text(replay.path).rstrip("\n") != replay.after.rstrip("\n"):
            raise SystemExit("the typed buffer is not the commit's file: the replay is wrong")
        tally.calls = len([r for r in model.snapshot()[0] if "prompt" in r])
        return tally
    finally:
        await stop_editor(editor)


def enter_at(text: str, line: int) -> tuple[int, int]:
    """Where Enter opens line `line` as a new empty line: the end of the line above it (line 0:
    its start, the cursor staying on the new line as vim's `O` does)."""
    if line == 0:
        return 0, 0
    return line - 1, len(text.split("\n")[line - 1])


def offset_of(text: str, line: int, character: int) -> int:
    lines = text.split("\n")
    return sum(len(x) + 1 for x in lines[:line]) + character


async def type_naively(replay: Replay, model: ScriptedModel, key_s: float, pause_s: float) -> Tally:
    """One model call per keystroke, each answer shown when it arrives."""
    tally = Tally()
    text = replay.before
    shift = 0
    typed_version = 0
    calls: list[asyncio.Task] = []

    def post(prompt: str, suffix: str) -> str:
        body = json.dumps({"model": "scripted", "prompt": prompt, "suffix": suffix, "max_tokens": 64}).encode()
        request = urllib.request.Request(model.base_url.rstrip("/") + "/completions", body,
                                         {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())["choices"][0]["text"]

    async def call(version: int, prompt: str, suffix: str) -> None:
        answer = await asyncio.to_thread(post, prompt, suffix)
        if answer:
            tally.shown += 1
            tally.stale += version != typed_version  # the text moved on: it no longer fits

    def keystroke(cursor: int) -> None:
        nonlocal typed_version
        typed_version += 1
        tally.keystrokes += 1
        calls.append(asyncio.ensure_future(call(typed_version, text[:cursor], text[cursor:])))

    for at, lines in replay.inserts:
        line = at + shift
        for added in lines:
            enter = offset_of(text, *enter_at(text, line))
            text = text[:enter] + "\n" + text[enter:]
            offset = offset_of(text, line, 0)
            keystroke(offset)
            await asyncio.sleep(pause_s)
            for column, char in enumerate(added):
                cursor = offset + column
                text = text[:cursor] + char + text[cursor:]
                keystroke(cursor + 1)
                await asyncio.sleep(key_s)
            line += 1
        shift += len(lines)
    await asyncio.gather(*calls)
    tally.calls = len(calls)
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, required=True)
    parser.add_argument("--commit")
    parser.add_argument("--key-ms", type=float, default=80)
    parser.add_argument("--pause-ms", type=float, default=1000)
    parser.add_argument("--model-ms", type=float, default=250)
    args = parser.parse_args()
    replay = find_replay(args.repo, args.commit)
    script = {"completions": [{"continue_from": replay.after,
                               "fault": {"delay_s": args.model_ms / 1000, "times": 10**9}}]}
    key_s, pause_s = args.key_ms / 1000, args.pause_ms / 1000
    with tempfile.TemporaryDirectory(prefix="gdm-typing-") as scratch:
        workspace = Path(scratch) / "project"
        (workspace / replay.path).parent.mkdir(parents=True)
        (workspace / replay.path).write_text(replay.before)
        with ScriptedModel(script) as model:
            gdm = asyncio.run(type_with_gdm(replay, workspace, Path(scratch), model, key_s, pause_s))
        with ScriptedModel(script) as model:
            naive = asyncio.run(type_naively(replay, model, key_s, pause_s))
    lines = sum(len(lines) for _at, lines in replay.inserts)
    print(f"{args.repo}: commit {replay.commit[:12]}, {replay.path}, {lines} added lines, "
          f"{replay.keystrokes()} keystrokes at {args.key_ms:g} ms, a {args.pause_ms:g} ms pause before each "
          f"line, model answers after {args.model_ms:g} ms\n")
    print("| client | keystrokes | model calls | calls per 100 keystrokes | suggestions shown | stale shown |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, t in (("gdm", gdm), ("naive: one call per keystroke", naive)):
        print(f"| {name} | {t.keystrokes} | {t.calls} | {100 * t.calls / max(1, t.keystrokes):.1f} | {t.shown} | "
              f"{t.stale} |")


if __name__ == "__main__":
    main()
