"""A process limit for a sandboxed command, so that a fork bomb stops at a ceiling, not at the machine's.

Which fence holds depends on who gdm runs as:
- a pids cgroup gdm may write (root, or a delegated cgroup v2 subtree): a child cgroup per command
  with `pids.max`, joined by the command before it execs (`preexec`), removed afterwards;
- otherwise, not root: `RLIMIT_NPROC` set inside the sandbox's own user namespace (`prlimit`, run
  as the first thing in it). Since Linux 5.14 the count is per user namespace, so the limit counts
  the command's processes only, not the user's others;
- root without a writable cgroup: no limit can hold (root is exempt from RLIMIT_NPROC), which
  `Limit.note` says; the timeout and the PID namespace still end everything.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass
class Limit:
    """How one command's processes are limited: a prefix inside the sandbox, a step before exec."""

    prefix: list[str]
    preexec: Callable[[], None] | None = None
    cgroup: Path | None = None
    note: str | None = None  # why no limit holds, when none does
    _fd: int | None = None

    def close(self) -> None:
        """Release the cgroup: its processes are gone once the sandbox is (retried briefly)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self.cgroup is None:
            return
        for _ in range(50):
            try:
                self.cgroup.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.01)  # SIGKILLed processes leave the cgroup a moment after
        self.cgroup = None


def pids_parent(cgroup_file: Path = Path("/proc/self/cgroup"), root: Path = CGROUP_ROOT) -> Path | None:
    """The writable pids cgroup folder of this process under which a child can be made, or None."""
    try:
        lines = cgroup_file.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        rel = path.lstrip("/")
        if "pids" in controllers.split(","):  # cgroup v1's pids hierarchy
            folder = root / "pids" / rel
            if (folder / "cgroup.procs").exists() and os.access(folder, os.W_OK):
                return folder
        elif controllers == "":  # cgroup v2: usable where pids is delegated to our children
            for base in (root, root / "unified"):
                folder = base / rel
                control = folder / "cgroup.subtree_control"
                try:
                    if "pids" in control.read_text().split() and os.access(folder, os.W_OK):
                        return folder
                except OSError:
                    continue
    return None


def make_limit(max_processes: int, parent: Path | None) -> Limit:
    """The fence for one command (see the module docstring for which)."""
    if parent is not None:
        folder = parent / f"gdm-sandbox-{uuid.uuid4().hex[:12]}"
        try:
            folder.mkdir()
            (folder / "pids.max").write_text(str(max_processes))
            fd = os.open(folder / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC)
        except OSError as exc:
            try:
                folder.rmdir()
            except OSError:
                pass
            return _rlimit(max_processes, f"cannot use the pids cgroup {parent} ({exc})")

        def join() -> None:  # in the child, before exec: all it starts is counted
            os.write(fd, b"0")

        return Limit([], join, folder, _fd=fd)
    return _rlimit(max_processes, "no writable pids cgroup")


def _rlimit(max_processes: int, why: str) -> Limit:
    if os.geteuid() == 0:
        return Limit([], note=f"no process limit: {why}, and root is exempt from RLIMIT_NPROC")
    prlimit = shutil.which("prlimit")
    if prlimit is None:
        return Limit([], note=f"no process limit: {why}, and no prlimit (util-linux) on PATH")
    return Limit([prlimit, f"--nproc={max_processes}:{max_processes}", "--"])
