"""What one sandboxed command may do: the policy as data, one value per kind of runner.

A `Policy` names the folders a command may write (the workspace for `run_command`, the scratch copy
and the tool caches for tests and checks), whether it reaches the network, how many processes it
may have, and — where it writes into the user's real workspace — the paths in there that stay
read-only because writing them would raise the command's own rights: git hooks and config (run by
the user's next git command), the editor's and gdm's settings (`.vscode/`, `.gdm/`, …); `.git`
itself cannot be moved aside and replaced (sandbox/bwrap.py).

Everything else — the root read-only, the home's secrets masked, a private TMPDIR, new PID, IPC
and network namespaces, no unix sockets, no capabilities — is the same for every policy: it is
what "sandboxed" means (sandbox/bwrap.py turns a policy into bubblewrap's arguments).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

MAX_PROCESSES = 1024  # threads count too; a test suite with a thread pool per worker stays far below
# In the real workspace, read-only for a shell command (created empty for the command's life when
# missing, so they cannot be created either): what git and the editors run or obey on their own.
PROTECTED = (".git/hooks", ".git/config", ".vscode", ".gdm", ".idea", ".zed", ".helix")


@dataclass(frozen=True)
class Policy:
    """One sandboxed command's rights."""

    purpose: str  # "shell", "tests" or "checks": what the command is, for messages and the audit
    cwd: Path
    writable: tuple[Path, ...]
    workspace: Path | None = None  # the real workspace when it is writable: PROTECTED applies in it
    network: bool = False
    max_processes: int = MAX_PROCESSES
    protected: tuple[str, ...] = field(default=PROTECTED)

    def with_network(self) -> Policy:
        """The same rights with the network shared (the user said "Run again with the network")."""
        return Policy(self.purpose, self.cwd, self.writable, self.workspace, True, self.max_processes,
                      self.protected)

    def describe(self) -> str:
        """What an approval says: `runs sandboxed: no network, writes only in the workspace`."""
        net = "network on" if self.network else "no network"
        where = "in the workspace" if self.workspace is not None else "in a scratch copy of the workspace"
        return f"runs sandboxed: {net}, writes only {where}"


def shell_policy(workspace: Path, cwd: Path, network: bool) -> Policy:
    """`run_command`: writes in the workspace only, its protected paths excepted."""
    return Policy("shell", cwd, (workspace,), workspace=workspace, network=network)


def scratch_policy(purpose: str, scratch: Path, cwd: Path, network: bool, caches: tuple[Path, ...] = ()) -> Policy:
    """Tests and checks: writes in the scratch copy (and the tools' caches) only; the real
    workspace is as read-only as the rest of the machine."""
    return Policy(purpose, cwd, (scratch, *caches), network=network)


UNSANDBOXED_NOTE = "runs UNSANDBOXED (sandbox: off): with your full rights, network and secrets"
