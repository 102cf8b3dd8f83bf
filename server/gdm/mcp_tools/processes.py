"""Finding and killing the process of a stdio MCP server (Linux /proc; no SDK here).

The SDK starts each stdio server in a session of its own (so its pid is its process group) and
stops it gracefully: stdin closed, 2 s, SIGTERM to the group, 2 s, SIGKILL. A server that ignores
both outlives a gdm that exits sooner, and an editor kills gdm 2 s after `exit`
(vscode-languageclient), so gdm's exit path SIGKILLs such a group itself (manager.py, `end`).

The SDK does not expose the process, so gdm marks each server's environment with a tag of its
own and looks the server up among its children by that tag. The tag is checked again before the
kill: a pid whose process has ended may belong to someone else by then.
"""

from __future__ import annotations

import logging
import os
import signal
import uuid
from pathlib import Path

log = logging.getLogger(__name__)

TAG_ENV = "GDM_MCP_SERVER_TAG"
PROC = Path("/proc")


def new_tag() -> str:
    """A tag for one server start: gdm's pid (to read it in `ps e`) and a random part."""
    return f"{os.getpid()}-{uuid.uuid4().hex[:12]}"


def _carries(pid: int, marker: bytes) -> bool:
    try:
        return marker in (PROC / str(pid) / "environ").read_bytes().split(b"\0")
    except OSError:  # gone, a zombie's empty environ aside, or not ours to read
        return False


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state, ppid, pgrp, …), or None."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def find_server(tag: str) -> int | None:
    """The pid of gdm's child that carries `tag`, or None (not found, or no /proc here)."""
    me, marker = str(os.getpid()), f"{TAG_ENV}={tag}".encode()
    try:
        entries = [int(e.name) for e in os.scandir(PROC) if e.name.isdigit()]
    except OSError:
        return None
    for pid in entries:
        fields = _stat(pid)
        if fields is not None and fields[1] == me and _carries(pid, marker):
            return pid
    return None


def kill_server(pid: int, tag: str) -> bool:
    """SIGKILL the server's process group (its own process if it left the group) if `pid` is still
    that server, alive; whether a signal was sent."""
    fields = _stat(pid)
    if fields is None or fields[0] in ("Z", "X") or not _carries(pid, f"{TAG_ENV}={tag}".encode()):
        return False
    try:
        if int(fields[2]) == pid:
            os.killpg(pid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    except PermissionError as exc:
        log.warning("gdm: cannot kill MCP server process %d: %s", pid, exc)
        return False
    return True
