"""The machine's processes as a test sees them from outside any sandbox: which ones work in a folder.

Inside the sandbox a command's pids are its own (a new PID namespace), so a pid it writes down names
nothing out here; what it starts is found by its working folder instead (every process of a command
keeps the workspace, or a folder in it, as its cwd unless it changes it).
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path


def in_folder(folder: Path) -> list[int]:
    """Live (not zombie) processes whose working folder is `folder` or inside it."""
    root = os.path.realpath(folder)
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cwd = os.readlink(proc / "cwd")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if (cwd == root or cwd.startswith(root + os.sep)) and state not in ("Z", "X"):
            found.append(int(proc.name))
    return found


async def none_in(folder: Path, timeout: float = 5.0) -> bool:
    """Whether every process working in `folder` is gone within `timeout` (SIGKILL is sent at once,
    but a loaded machine may take a moment to tear a sandbox down)."""
    for _ in range(int(timeout / 0.02)):
        if not in_folder(folder):
            return True
        await asyncio.sleep(0.02)
    return False
