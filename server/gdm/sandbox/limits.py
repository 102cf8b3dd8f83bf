"""A process limit for a sandboxed command, so that a fork bomb stops at a ceiling, not at the machine's.

Which fence holds depends on who gdm runs as:
- a pids cgroup gdm may write (root, or a delegated cgroup v2 subtree): a child cgroup per command
  with `pids.max`, joined by a launcher shell that then execs bubblewrap, removed afterwards;
- otherwise, not root: `RLIMIT_NPROC` set inside the sandbox's own user namespace (`prlimit`, run
  as the first thing in it). Since Linux 5.14 the count is per user namespace, so the limit counts
  the command's processes only, not the user's others;
- root without a writable cgroup: no limit can hold (root is exempt from RLIMIT_NPROC), which
  `Limit.note` says; the timeout and the PID namespace still end everything.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


@dataclass
class Limit:
    """How one command's processes are limited: a launcher that joins the cgroup before bubblewrap
    starts (outside), or a prefix that sets the rlimit as the sandbox's first step (inside)."""

    prefix: list[str]
    launcher: list[str] = field(default_factory=list)
    cgroup: Path | None = None
    note: str | None = None  # why no limit holds, when none does

    def close(self) -> None:
        """Release the cgroup once its processes are gone: at once when they are, else from a
        thread of its own, so that a command's end never waits on the kernel's reaping."""
        folder, self.cgroup = self.cgroup, None
        if folder is not None and not _remove(folder, tries=1):
            threading.Thread(target=_remove, args=(folder,), name="gdm-cgroup-reaper", daemon=True).start()


def _remove(folder: Path, tries: int = 200) -> bool:
    for attempt in range(tries):
        try:
            folder.rmdir()
            return True
        except FileNotFoundError:
            return True
        except OSError:
            if attempt + 1 < tries:
                time.sleep(0.01)  # SIGKILLed processes leave the cgroup a moment after
    return False


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
        except OSError as exc:
            _remove(folder, tries=1)
            return _rlimit(max_processes, f"cannot use the pids cgroup {parent} ({exc})")
        # The launcher shell joins the cgroup, then becomes bubblewrap (exec: the same process), so
        # everything the command starts is counted; if it cannot join, nothing starts. (A preexec
        # step would make Python fork its whole process instead of spawning: ~15 ms a command.)
        join = ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', str(folder / "cgroup.procs")]
        return Limit([], join, folder)
    return _rlimit(max_processes, "no writable pids cgroup")


def limit_note(parent: Path | None) -> str | None:
    """Why no process limit can hold on this machine, or None when one does."""
    if parent is not None:
        return None
    return _rlimit(1, "no writable pids cgroup").note


def _rlimit(max_processes: int, why: str) -> Limit:
    if os.geteuid() == 0:
        return Limit([], note=f"no process limit: {why}, and root is exempt from RLIMIT_NPROC")
    prlimit = shutil.which("prlimit")
    if prlimit is None:
        return Limit([], note=f"no process limit: {why}, and no prlimit (util-linux) on PATH")
    return Limit([prlimit, f"--nproc={max_processes}:{max_processes}", "--"])
