"""Whether the server that ran a session is still alive: tasks a killed server left "running".

A session row names its server process (host name, pid, migration 0002). When a server opens the
store it marks "interrupted" every running task whose server is gone: on this host, a pid that no
longer exists or is no longer a gdm process (pids are reused); a session from before migration
0002 (no host) cannot be running any more. A server on another host cannot be checked from here:
its tasks are left as they are (its own restart marks them).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

INTERRUPTED_ERROR = "interrupted: the server stopped (killed or crashed) while this task ran"


def server_alive(host: str | None, pid: int | None) -> bool:
    """True when the server process (`host`, `pid`) may still be running."""
    if host is None or pid is None:
        return False
    if host != socket.gethostname():
        return True  # another machine's: not ours to judge
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, another user's
    cmdline = Path(f"/proc/{pid}/cmdline")
    try:
        return b"gdm" in cmdline.read_bytes()
    except FileNotFoundError:
        return not Path("/proc/self").exists()  # no /proc (macOS): the pid exists, trust it
    except OSError:
        return True
