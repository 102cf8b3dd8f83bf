"""A `Policy` turned into one bubblewrap invocation, with what it needs before and after.

The layout every sandboxed command sees (later mounts cover earlier ones):
- `/` bound read-only, a minimal `/dev`, a `/proc` of the sandbox's own PID namespace (gdm and every
  other process of the machine invisible, so no `/proc/<pid>/environ` of theirs can be read);
- the home rebuilt without its secrets (sandbox/home.py), gdm's store and the session's runtime
  folder (`$XDG_RUNTIME_DIR`: agent and keyring sockets) masked;
- the policy's writable folders bound read-write, and in the real workspace its protected paths
  bound read-only over them (created empty for the command's life where they are missing);
- a private `TMPDIR`, removed afterwards;
- new user (no capabilities, no nested user namespaces), PID, IPC, UTS and — unless the policy
  shares it — network namespaces; `--die-with-parent`, `--new-session` (no TIOCSTI into gdm's
  terminal); the seccomp filter (sandbox/seccomp.py) that refuses unix sockets.

`--json-status-fd` tells whether the command started: a bwrap that could not set the sandbox up
writes no `child-pid`, and its stderr (bwrap's own words) is why.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from gdm.sandbox.home import mask_home
from gdm.sandbox.limits import Limit, make_limit
from gdm.sandbox.policy import Policy
from gdm.sandbox.seccomp import program


@dataclass(frozen=True)
class Machine:
    """What the sandbox is built from on this machine: found once per session (sandbox/service.py)."""

    bwrap: str
    version: tuple[int, ...]
    home: Path | None
    hidden: tuple[Path, ...] = ()  # more folders to mask: gdm's data folder, the runtime folder
    pids_parent: Path | None = None  # a pids cgroup to make per-command children in

    @property
    def disable_userns(self) -> bool:
        """`--disable-userns` (bubblewrap 0.8): no user namespace inside, so no capability regained."""
        return self.version >= (0, 8)


@dataclass
class Launch:
    """One prepared invocation: argv and fds for the spawn; `finish` undoes what `prepare` made."""

    argv: list[str]
    env: dict[str, str]
    pass_fds: tuple[int, ...]
    limit_note: str | None
    _status_read: int
    _to_close: list[int] = field(default_factory=list)
    _made: list[Path] = field(default_factory=list)  # placeholders made in the workspace, removed after
    _tmp: Path | None = None
    _limit: Limit | None = None

    def spawned(self) -> None:
        """After the spawn: the parent's copies of the child's fds are closed."""
        for fd in self._to_close:
            os.close(fd)
        self._to_close = []

    def started(self) -> bool:
        """Whether bwrap started the command (a `child-pid` on the status fd)."""
        os.set_blocking(self._status_read, False)
        data = b""
        try:
            while chunk := os.read(self._status_read, 65536):
                data += chunk
        except BlockingIOError:
            pass
        for line in data.decode("utf-8", "replace").splitlines():
            try:
                if "child-pid" in json.loads(line):
                    return True
            except (ValueError, TypeError):
                continue
        return False

    def finish(self) -> None:
        """Close the fds, remove the private TMPDIR, the placeholders and the cgroup."""
        self.spawned()
        os.close(self._status_read)
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
        for made in reversed(self._made):
            try:
                made.rmdir() if made.is_dir() and not made.is_symlink() else made.unlink()
            except OSError:
                pass  # no longer empty: something (the user's editor) put a file there meanwhile
        if self._limit is not None:
            self._limit.close()


def prepare(machine: Machine, policy: Policy, command: str, env: dict[str, str]) -> Launch:
    """Everything one sandboxed `sh -c command` needs; call `finish()` on the result when it is over."""
    tmp = Path(tempfile.mkdtemp(prefix="gdm-sandbox-tmp-"))
    seccomp_read, seccomp_write = os.pipe()
    status_read, status_write = os.pipe()
    os.write(seccomp_write, program())
    os.close(seccomp_write)
    made: list[Path] = []
    limit = make_limit(policy.max_processes, machine.pids_parent)
    try:
        args = _mounts(machine, policy, tmp, made)
    except BaseException:
        Launch([], {}, (), None, status_read, [seccomp_read, status_write], made, tmp, limit).finish()
        raise
    args += ["--unshare-user"] + (["--disable-userns"] if machine.disable_userns else [])
    args += ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    if not policy.network:
        args.append("--unshare-net")
    args += ["--cap-drop", "ALL", "--die-with-parent", "--new-session",
             "--seccomp", str(seccomp_read), "--json-status-fd", str(status_write),
             "--chdir", str(policy.cwd), "--"]
    argv = [*limit.launcher, machine.bwrap, *args, *limit.prefix, "/bin/sh", "-c", command]
    env = {**env, "TMPDIR": str(tmp), "TMP": str(tmp), "TEMP": str(tmp)}
    return Launch(argv, env, (seccomp_read, status_write), limit.note, status_read,
                  [seccomp_read, status_write], made, tmp, limit)


def _mounts(machine: Machine, policy: Policy, tmp: Path, made: list[Path]) -> list[str]:
    args = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    writable = [Path(os.path.realpath(w)) for w in policy.writable]
    args += mask_home(machine.home, set(writable) | {tmp, Path(os.path.realpath(policy.cwd))}, machine.hidden).args
    for folder in writable:
        args += ["--bind", str(folder), str(folder)]
    if policy.workspace is not None:
        args += _protect(Path(os.path.realpath(policy.workspace)), policy, made)
    args += ["--bind", str(tmp), str(tmp)]
    return args


def _protect(root: Path, policy: Policy, made: list[Path]) -> list[str]:
    """The workspace's `.git` and protected paths as mounts; missing ones made empty for the run.

    `.git` is bound onto itself (a mount point cannot be renamed, so it cannot be moved aside and
    replaced by one with the command's hooks); a `.git` file (a worktree's pointer) is read-only;
    with no `.git` at all, an empty read-only one stands there while the command runs, so it cannot
    plant a repository whose hooks the user's next `git init` would adopt."""
    args: list[str] = []
    git = root / ".git"
    if git.is_dir() and not git.is_symlink():
        args += ["--bind", str(git), str(git)]
    elif git.is_file() and not git.is_symlink():
        args += ["--ro-bind", str(git), str(git)]
    elif not os.path.lexists(git):
        args += _placeholder(git, made, folder=True)
    for rel in policy.protected:
        path = root / rel
        if rel.startswith(".git/") and not (git.is_dir() and not git.is_symlink()):
            continue  # no repository folder here: `.git` itself is protected above
        if path.is_symlink():
            continue  # a link leads out of the writable folders (read-only there) or to a protected path
        if path.exists():
            args += ["--ro-bind", str(path), str(path)]
        else:
            args += _placeholder(path, made, folder=not rel.endswith("config"))
    return args


def _placeholder(path: Path, made: list[Path], folder: bool) -> list[str]:
    """An empty folder (or file) made at `path` for the command's life, bound read-only over itself."""
    try:
        path.mkdir() if folder else path.touch(exist_ok=False)
    except OSError:
        return []  # cannot make it (a read-only workspace): the command cannot either
    made.append(path)
    return ["--ro-bind", str(path), str(path)]
