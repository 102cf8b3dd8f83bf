"""The sandbox around everything the model can make run (DESIGN.md, "The sandbox").

One door: tools/shell.py's `run_process` starts every process the model can influence — the test
command, each check, every allowed `run_command` — in the `Jail` its runner chose from the
session's `Sandbox` (service.py) with a `Policy` (policy.py): bubblewrap (bwrap.py) with the
home's secrets masked (home.py), a process limit (limits.py) and a seccomp filter that refuses unix
sockets (seccomp.py). When the sandbox cannot start, nothing runs (`SandboxUnavailable`).
"""

from gdm.sandbox.policy import Policy, scratch_policy, shell_policy
from gdm.sandbox.service import NOT_RUN, UNSANDBOXED, Jail, Sandbox, SandboxUnavailable

__all__ = ["NOT_RUN", "UNSANDBOXED", "Jail", "Policy", "Sandbox", "SandboxUnavailable", "scratch_policy",
           "shell_policy"]
