"""The scratch copy the tests and checks run on: the workspace, its open buffers, the task's patches.

Never the user's files: a temporary folder holding a copy of the workspace with the text the task
sees written over it. `Scratch` makes the copy once (workspace + buffers) and then moves it
between "without the task's patches" and "with them" by rewriting only the files the patches
touch, so the checks' before and after runs share one copy instead of paying a full copy each
(benchmarks/checks_overhead.py measures the difference), and tools that cache by path (mypy)
find their cache valid on the second run.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from pathlib import Path

from gdm.tools.base import ToolContext

COPY_IGNORE = shutil.ignore_patterns(".git", ".hg", ".svn", "__pycache__", ".pytest_cache", ".mypy_cache",
                                     ".ruff_cache", ".tox", "*.pyc")


def _write(target: Path, rel: str, text: str | None) -> None:
    """Put `text` at `rel` in the copy (None: remove the file), never through a link out of it."""
    dest = target / rel
    if text is None:  # deleted, or moved away, by the task's patches
        if dest.is_file() or dest.is_symlink():
            dest.unlink()
        return
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.is_symlink():
        dest.unlink()  # never write through a link into the user's files
    if not Path(os.path.realpath(dest)).is_relative_to(os.path.realpath(target)):
        return  # a folder link out of the copy (into the user's files): not written there
    dest.write_text(text, encoding="utf-8")


def task_paths(ctx: ToolContext, task_id: str | None) -> set[str]:
    """Paths the task's open patches touch (both ends of a move)."""
    patches = [p for p in ctx.patches.open() if task_id is not None and p.task_id == task_id]
    return {p.path for p in patches} | {p.new_path for p in patches if p.new_path}


def overlay(ctx: ToolContext, task_id: str | None, target: Path) -> None:
    """Write into a copy of the workspace what the task sees: open buffers and its pending patches."""
    for rel in sorted(set(ctx.view.buffers.open_paths()) | task_paths(ctx, task_id)):
        _write(target, rel, ctx.view.read(rel, task_id))


class Scratch:
    """A scratch copy of the workspace that can take the task's patches on and off.

    `async with Scratch(ctx) as s:` copies the workspace and writes the open buffers over it;
    `s.apply(task_id)` rewrites the files the task's patches change, `s.apply(None)` puts them back.
    The copy is removed on exit. Reading buffers and patches belongs to the loop thread: `apply`
    runs there (it writes a handful of files); the tree is copied and removed in a worker thread.
    """

    def __init__(self, ctx: ToolContext) -> None:
        self.ctx = ctx
        self.base = Path(tempfile.mkdtemp(prefix="gdm-scratch-"))
        self.ws = self.base / ctx.view.root.name
        self.caches = self.base / "caches"  # tool caches (MYPY_CACHE_DIR): outside the copy
        self._touched: set[str] = set()  # paths an `apply` rewrote: where the copy may differ from clean
        self.rewritten = 0  # files written by `apply` so far (the incremental copy's work)

    async def __aenter__(self) -> Scratch:
        try:
            await asyncio.to_thread(shutil.copytree, self.ctx.view.root, self.ws, symlinks=True, ignore=COPY_IGNORE)
            overlay(self.ctx, None, self.ws)
        except BaseException:
            await asyncio.to_thread(shutil.rmtree, self.base, True)
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(shutil.rmtree, self.base, True)

    def apply(self, task_id: str | None) -> int:
        """Make the copy hold the task's patches (None: none); rewrite only files whose text differs.
        Returns how many files were written or removed."""
        paths = task_paths(self.ctx, task_id)
        written = 0
        for rel in sorted(paths | self._touched):
            want = self.ctx.view.read(rel, task_id if rel in paths else None)
            dest = self.ws / rel
            have = _text(dest)
            if want != have:
                _write(self.ws, rel, want)
                written += 1
        self._touched |= paths
        self.rewritten += written
        return written


def _text(path: Path) -> str | None:
    if path.is_symlink() or not path.is_file():
        return None
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
