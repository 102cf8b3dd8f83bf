"""The session's sandbox: on or off, the machine it is built on (found once), the one message.

`Sandbox` is what the runners ask: `await sandbox.jail(policy)` gives a `Jail` to pass to the one
door that starts processes (tools/shell.py's `run_process`), or raises `SandboxUnavailable` with
the reason: nothing runs then. With `sandbox: off` it gives `UNSANDBOXED`, the user's explicit
choice, which every approval and the cost meter say.

Whether bubblewrap can start is found by running it once, with the namespaces a real command
gets, on the first command of the session (and again after a failure, at most every 30 s, so
installing bubblewrap needs no restart). Its failure is told to the user once per reason, in
bubblewrap's own words, with the two ways out.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gdm.sandbox.bwrap import Launch, Machine, prepare
from gdm.sandbox.limits import limit_note, pids_parent
from gdm.sandbox.policy import UNSANDBOXED_NOTE, Policy

log = logging.getLogger(__name__)

RETRY_AFTER_S = 30.0
MIN_VERSION = (0, 5)  # --json-status-fd, --perms
NOT_RUN = "not run: sandbox unavailable"
WAYS_OUT = ("Install bubblewrap (Debian/Ubuntu: `sudo apt install bubblewrap`, Fedora: `sudo dnf install "
            "bubblewrap`) and allow unprivileged user namespaces (`sudo sysctl -w kernel.unprivileged_userns_clone=1`; "
            "on Ubuntu 24.04 and later an AppArmor profile that lets bwrap create them), or set the gdm setting "
            "`sandbox` to `off` to run them unsandboxed, with your full rights, network and secrets.")


class SandboxUnavailable(Exception):
    """The sandbox cannot start here: nothing may run. The message is bubblewrap's own reason."""


@dataclass(frozen=True)
class Jail:
    """A command's confinement, chosen by its runner: bubblewrap with a policy, or explicitly none."""

    machine: Machine | None
    policy: Policy | None

    @property
    def sandboxed(self) -> bool:
        return self.machine is not None and self.policy is not None

    def prepare(self, command: str, env: dict[str, str]) -> Launch:
        """The bubblewrap invocation of `sh -c command` (sandboxed jails only)."""
        assert self.machine is not None and self.policy is not None
        return prepare(self.machine, self.policy, command, env)

    def describe(self) -> str:
        """What an approval says about where the command runs."""
        return self.policy.describe() if self.policy is not None and self.machine else UNSANDBOXED_NOTE


UNSANDBOXED = Jail(None, None)


class Sandbox:
    """One session's sandbox settings and what was found about this machine."""

    def __init__(self, enabled: bool = True, network: bool = False, hidden: tuple[Path, ...] = (),
                 report: Callable[[str], None] | None = None, protect: tuple[Path, ...] = ()) -> None:
        self.enabled = enabled
        self.network = network
        self.hidden = hidden  # gdm's store and caches: another project's code and transcripts
        self.protect = protect  # folders a bwrap found inside is not trusted from (the workspace)
        self.report = report
        self._machine: Machine | None = None
        self._failure: tuple[str, float] | None = None
        self._told: set[str] = set()

    def update(self, enabled: bool, network: bool) -> None:
        """New settings apply to the next command."""
        self.enabled, self.network = enabled, network

    @property
    def state(self) -> str:
        """`on`, `off` or `unavailable`, as the cost meter shows it."""
        if not self.enabled:
            return "off"
        return "unavailable" if self._failure is not None and self._machine is None else "on"

    async def jail(self, policy: Policy) -> Jail:
        """The confinement to run a command of `policy` in; raises SandboxUnavailable (already told)."""
        if not self.enabled:
            return UNSANDBOXED
        machine = await self.machine()
        return Jail(machine, policy)

    async def machine(self) -> Machine:
        """The machine's bubblewrap, proven to start (found once); raises SandboxUnavailable."""
        if self._machine is not None:
            return self._machine
        if self._failure is not None and time.monotonic() - self._failure[1] < RETRY_AFTER_S:
            raise SandboxUnavailable(self._failure[0])
        try:
            self._machine = await asyncio.to_thread(find_machine, self.hidden, self.protect)
        except SandboxUnavailable as exc:
            self._failure = (str(exc), time.monotonic())
            self._tell(str(exc))
            raise
        self._failure = None
        note = limit_note(self._machine.pids_parent)
        if note:  # the timeout and the PID namespace still end everything; say what is missing
            log.warning("gdm sandbox: %s; a fork bomb runs until the command's timeout", note)
        return self._machine

    def _tell(self, reason: str) -> None:
        if reason in self._told or self.report is None:
            return
        self._told.add(reason)
        self.report(f"gdm's sandbox cannot start, so gdm runs no tests, checks or commands ({NOT_RUN}): "
                    f"{reason.rstrip('.')}. {WAYS_OUT}")


def find_machine(hidden: tuple[Path, ...] = (), protect: tuple[Path, ...] = ()) -> Machine:
    """Find bubblewrap and prove it can make the namespaces a command gets; raise SandboxUnavailable."""
    if sys.platform != "linux":
        raise SandboxUnavailable(f"the bubblewrap sandbox runs on Linux only (this is {sys.platform}); "
                                 f"macOS: see the README's sandbox-exec profile")
    found = shutil.which("bwrap")
    if found is None:
        raise SandboxUnavailable("bubblewrap (`bwrap`) is not installed or not on PATH")
    real = Path(os.path.realpath(found))
    if any(real.is_relative_to(Path(os.path.realpath(p))) for p in protect):
        raise SandboxUnavailable(f"the `bwrap` on PATH is inside the workspace ({found}), where commands can write")
    version = _version(found)
    if version < MIN_VERSION:
        raise SandboxUnavailable(f"bubblewrap {'.'.join(map(str, version))} is too old (0.5 or later is needed)")
    home = os.environ.get("HOME")
    machine = Machine(found, version, Path(home) if home else None,
                      tuple(Path(os.path.realpath(h)) for h in hidden + _runtime_folders()), pids_parent())
    probe = [found, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-user",
             *(["--disable-userns"] if machine.disable_userns else []), "--unshare-pid", "--unshare-ipc",
             "--unshare-net", "--cap-drop", "ALL", "--die-with-parent", "--", "/bin/true"]
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as exc:
        raise SandboxUnavailable(f"bubblewrap could not be run: {exc}") from exc
    if done.returncode != 0:
        words = (done.stderr or done.stdout).strip().splitlines()
        raise SandboxUnavailable(words[-1] if words else f"bubblewrap exited with code {done.returncode}")
    return machine


def _version(bwrap: str) -> tuple[int, ...]:
    try:
        out = subprocess.run([bwrap, "--version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        raise SandboxUnavailable(f"bubblewrap could not be run: {exc}") from exc
    found = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", out)
    if not found:
        raise SandboxUnavailable(f"`{bwrap} --version` did not say a version: {out.strip()[:200]!r}")
    return tuple(int(g) for g in found.groups() if g is not None)


def _runtime_folders() -> tuple[Path, ...]:
    """The session's runtime folder (agent, keyring and bus sockets; other sessions' secrets) and
    container secrets, masked where they exist."""
    found = [Path(p) for p in (os.environ.get("XDG_RUNTIME_DIR"), "/run/secrets") if p]
    return tuple(p for p in found if p.is_dir())
