"""The same rules for macOS, as a `sandbox-exec` (Seatbelt) profile: documented, not tested here.

There is no bubblewrap on macOS. `profile()` writes the Seatbelt profile that holds the same
policy — writes only in the policy's folders and the private TMPDIR, the protected workspace paths
read-only, the home's secrets unreadable, no network unless the policy shares it, no unix-socket
connections, no signals or debugging of processes outside the sandbox — to be run as
`sandbox-exec -p "$PROFILE" /bin/sh -c COMMAND`. It starts from `(allow default)` and denies, as
Chromium's and Codex's profiles do for the parts they lock down, because a deny-by-default profile
breaks compilers and test runners in ways only a Mac would show. No CI here runs macOS, so gdm
does not start commands with it: on macOS the sandbox reports itself unavailable (fail closed) and
this profile is for review and for wiring in where it can be tested.
"""

from __future__ import annotations

from pathlib import Path

from gdm.sandbox.home import SECRETS
from gdm.sandbox.policy import Policy


def _quote(path: Path | str) -> str:
    return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'


def profile(policy: Policy, tmp: Path, home: Path | None, hidden: tuple[Path, ...] = ()) -> str:
    """The Seatbelt profile of `policy` with `tmp` as the private TMPDIR."""
    writable = [*policy.writable, tmp]
    lines = ["(version 1)", "(allow default)",
             ";; writes: only the policy's folders and the private TMPDIR (and the terminal devices)",
             "(deny file-write*)",
             "(allow file-write* " + " ".join(f"(subpath {_quote(w)})" for w in writable)
             + ' (literal "/dev/null") (literal "/dev/tty") (regex #"^/dev/fd/"))']
    if policy.workspace is not None:
        protected = [policy.workspace / rel for rel in policy.protected]
        lines += [";; the workspace's paths that would raise a command's rights stay read-only",
                  "(deny file-write* " + " ".join(f"(subpath {_quote(p)})" for p in protected)
                  + f" (literal {_quote(policy.workspace / '.git')}))"]
    secrets = [home / rel for rel in SECRETS] if home is not None else []
    if secrets or hidden:
        lines += [";; the home's secrets and gdm's own store and caches",
                  "(deny file-read* file-write* " + " ".join(f"(subpath {_quote(p)})" for p in [*secrets, *hidden])
                  + ")"]
    if not policy.network:
        lines += [";; no network; the loopback of the machine is the machine's, so it is refused too",
                  "(deny network*)"]
    lines += [";; no unix-socket connections (the docker socket, ssh and gpg agents, tmux, X11)",
              "(deny network-outbound (remote unix-socket))",
              ";; nothing outside the sandbox can be signalled or debugged",
              "(deny signal (target others))", "(deny process-info* (target others))",
              "(deny mach-priv-task-port (target others))"]
    return "\n".join(lines) + "\n"
