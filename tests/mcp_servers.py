"""The real MCP servers the MCP tests use (installed by scripts/ci/mcp.sh) and the fault server."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CACHE = Path(os.environ.get("GDM_CI_CACHE", Path.home() / ".cache" / "gdm-ci"))
GIT_SERVER = CACHE / "mcp-git" / "bin" / "mcp-server-git"
EVERYTHING_SERVER = CACHE / "npm" / "node_modules" / ".bin" / "mcp-server-everything"
FAULT_SERVER = REPO / "fixtures" / "mcp" / "fault_server.py"


def ensure_installed() -> None:
    """Install the registry servers if they are missing (the script is idempotent and quiet)."""
    if not (GIT_SERVER.exists() and EVERYTHING_SERVER.exists()):
        subprocess.run(["bash", str(REPO / "scripts" / "ci" / "mcp.sh")], check=True)


def git_server() -> dict:
    """mcp-server-git, for any repository under its cwd (the workspace)."""
    ensure_installed()
    return {"command": str(GIT_SERVER)}


def everything_server() -> dict:
    """@modelcontextprotocol/server-everything over stdio."""
    ensure_installed()
    return {"command": str(EVERYTHING_SERVER), "args": ["stdio"]}


@contextlib.contextmanager
def everything_http_server(log: Path) -> Iterator[str]:
    """@modelcontextprotocol/server-everything over streamable HTTP on a free local port, stopped on
    exit; yields its endpoint URL. Its output (a line per request) goes to `log`."""
    ensure_installed()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with log.open("wb") as out:
        process = subprocess.Popen([str(EVERYTHING_SERVER), "streamableHttp"], stdout=out, stderr=subprocess.STDOUT,
                                   env={**os.environ, "PORT": str(port)}, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server-everything (streamableHttp) did not listen on {port}: {log.read_text()}")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def fault_server(log: Path, *flags: str, **env: str) -> dict:
    """gdm's own fault server; each start appends its pid to `log`."""
    return {"command": sys.executable, "args": [str(FAULT_SERVER), *flags],
            "env": {"FAULT_SERVER_LOG": str(log), **env}}


def pids(log: Path) -> list[int]:
    """The pids of the fault server's starts, in order."""
    return [int(line) for line in log.read_text().split()] if log.exists() else []


def alive(pid: int) -> bool:
    """A process that exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")
