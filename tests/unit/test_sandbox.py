"""The sandbox's parts one by one: the seccomp program (run by a BPF interpreter), the shell policy's
table of commands, the home's masks, the process limit's cgroup, finding bubblewrap, the wording."""

from __future__ import annotations

import errno
import os
import struct
from pathlib import Path

import pytest

from gdm.sandbox import NOT_RUN, UNSANDBOXED, Sandbox, SandboxUnavailable, scratch_policy, shell_policy
from gdm.sandbox import seccomp
from gdm.sandbox.commands import offline_failure, runs_without_asking
from gdm.sandbox.home import SECRETS, mask_home
from gdm.sandbox.limits import make_limit, pids_parent
from gdm.sandbox.service import find_machine
from gdm.tools.asking import answers, question
from gdm.tools.base import ApprovalRequest
from gdm.tools.shell import CommandResult

# ------------------------------------------------------------------ seccomp, run by an interpreter


def run_bpf(program: bytes, nr: int, arch: int, args: tuple[int, ...] = ()) -> int:
    """Classic BPF as the kernel runs a seccomp filter: the return value for one system call."""
    data = struct.pack("<iIQ6Q", nr, arch, 0, *(list(args) + [0] * (6 - len(args))))
    ops = [struct.unpack("<HBBI", program[i:i + 8]) for i in range(0, len(program), 8)]
    acc, pc = 0, 0
    while True:
        code, jt, jf, k = ops[pc]
        if code == 0x20:  # ld [k]
            acc = struct.unpack_from("<I", data, k)[0]
        elif code in (0x15, 0x35):  # jeq / jge
            hit = acc == k if code == 0x15 else acc >= k
            pc += jt if hit else jf
        elif code == 0x06:
            return k
        else:
            raise AssertionError(f"unexpected opcode {code:#x}")
        pc += 1


EPERM = seccomp.RET_ERRNO | errno.EPERM
X86, I386, ARM64 = seccomp.X86_64.audit, seccomp.I386.audit, seccomp.AARCH64.audit


@pytest.mark.parametrize("machine,arch,nr,args,expected", [
    ("x86_64", X86, 41, (seccomp.AF_UNIX, 1), EPERM),  # socket(AF_UNIX, SOCK_STREAM)
    ("x86_64", X86, 41, (seccomp.AF_UNIX | (1 << 32), 1), EPERM),  # the kernel reads an int: high bits ignored
    ("x86_64", X86, 41, (2, 1), seccomp.RET_ALLOW),  # socket(AF_INET): the network namespace decides
    ("x86_64", X86, 53, (seccomp.AF_UNIX, 1), seccomp.RET_ALLOW),  # socketpair: a command's own pipes
    ("x86_64", X86, 425, (), EPERM),  # io_uring_setup
    ("x86_64", X86, 41 | seccomp.X32_BIT, (seccomp.AF_UNIX,), EPERM),  # the x32 socket
    ("x86_64", X86, 0 | seccomp.X32_BIT, (), EPERM),  # every x32 call
    ("x86_64", X86, 0, (), seccomp.RET_ALLOW),  # read
    ("x86_64", I386, 102, (), EPERM),  # socketcall of a 32-bit process
    ("x86_64", I386, 359, (seccomp.AF_UNIX,), EPERM),
    ("x86_64", I386, 359, (2,), seccomp.RET_ALLOW),
    ("x86_64", ARM64, 0, (), seccomp.RET_KILL_PROCESS),  # an architecture the filter does not know
    ("aarch64", ARM64, 198, (seccomp.AF_UNIX,), EPERM),
    ("aarch64", ARM64, 198, (10,), seccomp.RET_ALLOW),
])
def test_the_seccomp_program_refuses_unix_sockets_and_nothing_else(machine, arch, nr, args, expected):
    assert run_bpf(seccomp.program(machine), nr, arch, args) == expected


def test_an_unknown_machine_has_no_filter_rather_than_a_wrong_one():
    with pytest.raises(ValueError, match="riscv"):
        seccomp.program("riscv64")


# ------------------------------------------------------------------ the shell policy's table


@pytest.mark.parametrize("command,why", [
    ("ls -la", "read-only"), ("git log --oneline -5", "read-only"), ("grep -rn foo .", "read-only"),
    ("rg -n 'def main' src", "read-only"), ("cat a.py | head -20", "read-only"), ("sed -n '10,20p' a.py", "read-only"),
    ("find . -name '*.py'", "read-only"), ("cd src && ls", "read-only"), ("git diff HEAD~1 -- a.py", "read-only"),
    ("git branch -a", "read-only"), ("git stash list", "read-only"), ("ls 2>/dev/null", "read-only"),
    ("pytest -q", "a test runner"), ("python -m pytest -x tests/", "a test runner"),
    ("/opt/venv/bin/python3.11 -m pytest", "a test runner"), ("pytest 2>&1 | tail -30", "a test runner"),
    ("npm test", "a test runner"), ("go test ./...", "a test runner"), ("cargo test", "a test runner"),
    ("ruff check .", "a test runner"), ('grep -n "getattr(" a.py', "read-only"),
    ("find tests -name '*.py' | xargs grep -l foo | head", "read-only"),
    ("find . -name '*.py' -exec grep -l enc {} \\;", "read-only"), ("find . -exec grep a {} +", "read-only"),
    ("find . -exec rm {} \\;", None), ("find . | xargs rm", None), ("xargs -I {} cp {} /tmp", None),
    ("grep '>' x", None),  # a quoted `>` cannot be told from a redirection: asked
    ("pip install requests", None), ("curl https://example.com", None), ("rm -rf build", None),
    ("ls > listing.txt", None), ("echo $HOME", None), ("cat $(ls)", None), ("ls `pwd`", None),
    ("find . -delete", None), ("find . -exec rm {} \\;", None), ("sed -i s/a/b/ x.py", None),
    ("git stash", None), ("git branch new-branch", None), ("git commit -am x", None), ("git -c core.pager=x log", None),
    ("git config user.name x", None), ("ruff check --fix .", None), ("./ls", None), ("FOO=1 ls", None),
    ("sleep 10 &", None), ("sort -o out.txt in.txt", None), ("uniq in.txt out.txt", None), ("env rm x", None),
    ("(ls)", None), ("ls\nrm -rf /", None), ("", None), ("ls |", None), ("rg --pre ./evil x", None),
])
def test_which_commands_run_without_asking_under_auto(command, why):
    assert runs_without_asking(command) == why


def test_the_projects_own_test_command_runs_without_asking():
    own = "make check-all"
    assert runs_without_asking(own) is None
    assert runs_without_asking(own, known=[own]) == "the project's test or check command"


@pytest.mark.parametrize("output,code,found", [
    ("curl: (6) Could not resolve host: example.com", 6, "Could not resolve host"),
    ("npm ERR! code ENOTFOUND\nnpm ERR! getaddrinfo ENOTFOUND registry.npmjs.org", 1, "ENOTFOUND"),
    ("WARNING: Retrying ... Failed to establish a new connection: [Errno 101] Network is unreachable", 1,
     "Network is unreachable"),
    ("fatal: unable to access 'https://github.com/x/y/': Could not resolve host: github.com", 128, "unable to access"),
    ("ERROR: No matching distribution found for requests", 1, "No matching distribution"),
    ("AssertionError: 1 != 2", 1, None),
    ("curl: (6) Could not resolve host: example.com", 0, None),  # it succeeded after all
])
def test_a_failure_for_lack_of_network_is_recognised(output, code, found):
    line = offline_failure(CommandResult(code, output))
    assert (line is None) if found is None else (found in line)


# ------------------------------------------------------------------ the home's masks


def test_the_home_is_rebuilt_without_its_secrets(tmp_path):
    home = tmp_path / "home"
    for rel in (".ssh/id_rsa", ".config/gh/hosts.yml", ".config/nvim/init.lua", ".pyenv/version", "code/ws/a.py"):
        (home / rel).parent.mkdir(parents=True, exist_ok=True)
        (home / rel).write_text("x")
    (home / ".netrc").write_text("machine x password y")
    elsewhere = tmp_path / "keys"
    elsewhere.mkdir()
    (home / ".aws").symlink_to(elsewhere)  # a secret folder that is a link out of the home
    (home / "dotfiles-link").symlink_to(home / ".config")
    args = mask_home(home, keep={home / "code" / "ws"}).args
    pairs = list(zip(args, args[1:]))
    assert ("--tmpfs", str(home)) in pairs and ("--remount-ro", str(home)) in pairs
    bound = {b for a, b in pairs if a == "--ro-bind"}
    assert str(home / ".pyenv") in bound and str(home / "code") in bound and str(home / ".config") in bound
    assert str(home / ".ssh") not in bound and str(home / ".netrc") not in bound and str(home / ".aws") not in bound
    masked = {b for a, b in pairs if a == "--tmpfs"} | {args[i + 2] for i, a in enumerate(args) if a == "--ro-bind"
                                                        and args[i + 1] == "/dev/null"}
    assert str(home / ".config" / "gh") in masked  # nested: masked where it exists
    assert str(elsewhere) in masked  # the link's target, so no other path leads to it
    assert ("--symlink", str(home / ".config")) in pairs  # an ordinary link is made again, not followed


def test_a_secret_that_holds_the_workspace_is_not_masked_over_it(tmp_path):
    home = tmp_path / "home"
    ws = home / ".config" / "gh" / "my-extension"
    ws.mkdir(parents=True)
    args = mask_home(home, keep={ws}).args
    assert str(home / ".config" / "gh") not in args


def test_the_list_holds_designs_secrets():
    for rel in (".ssh", ".aws", ".gnupg", ".netrc", ".git-credentials", ".config/gh", ".docker", ".kube", ".npmrc",
                ".pypirc"):
        assert rel in SECRETS


# ------------------------------------------------------------------ the process limit's cgroup


def test_a_writable_pids_cgroup_is_found_in_v1_and_v2(tmp_path):
    v1 = tmp_path / "v1"
    (v1 / "pids" / "user.slice").mkdir(parents=True)
    (v1 / "pids" / "user.slice" / "cgroup.procs").write_text("")
    (tmp_path / "cg1").write_text("12:pids:/user.slice\n0::/user.slice\n")
    assert pids_parent(tmp_path / "cg1", v1) == v1 / "pids" / "user.slice"
    v2 = tmp_path / "v2"
    (v2 / "app.scope").mkdir(parents=True)
    (v2 / "app.scope" / "cgroup.subtree_control").write_text("cpu pids\n")
    (tmp_path / "cg2").write_text("0::/app.scope\n")
    assert pids_parent(tmp_path / "cg2", v2) == v2 / "app.scope"
    (v2 / "app.scope" / "cgroup.subtree_control").write_text("cpu\n")  # pids not delegated
    assert pids_parent(tmp_path / "cg2", v2) is None


def test_a_limit_without_a_cgroup_says_which_fence_holds(tmp_path):
    limit = make_limit(64, None)
    if os.geteuid() == 0:
        assert limit.prefix == [] and "root is exempt" in (limit.note or "")
    else:
        assert limit.prefix[1:] == ["--nproc=64:64", "--"] and limit.note is None


# ------------------------------------------------------------------ finding bubblewrap


def fake_bwrap(folder: Path, version: str, probe_exit: int = 0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bwrap").write_text(f'#!/bin/sh\n[ "$1" = --version ] && echo "bubblewrap {version}" && exit 0\n'
                                  f'echo "bwrap: setting up uid map: Permission denied" >&2\nexit {probe_exit}\n')
    (folder / "bwrap").chmod(0o755)


@pytest.mark.parametrize("version,probe_exit,reason", [
    ("0.4.1", 0, "too old"), ("0.8.0", 1, "setting up uid map: Permission denied")])
def test_a_bubblewrap_that_cannot_serve_is_refused_in_its_own_words(tmp_path, monkeypatch, version, probe_exit,
                                                                    reason):
    fake_bwrap(tmp_path / "bin", version, probe_exit)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}:{os.environ['PATH']}")
    with pytest.raises(SandboxUnavailable, match=reason):
        find_machine()


def test_no_bubblewrap_and_one_inside_the_workspace_are_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(SandboxUnavailable, match="not installed"):
        find_machine()
    fake_bwrap(tmp_path / "ws" / ".venv" / "bin", "0.8.0")
    monkeypatch.setenv("PATH", str(tmp_path / "ws" / ".venv" / "bin"))
    with pytest.raises(SandboxUnavailable, match="inside the workspace"):
        find_machine(protect=(tmp_path / "ws",))


async def test_the_user_is_told_once_and_the_state_follows(tmp_path, monkeypatch):
    told: list[str] = []
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    sandbox = Sandbox(report=told.append)
    assert sandbox.state == "on"
    for _ in range(3):
        with pytest.raises(SandboxUnavailable):
            await sandbox.jail(shell_policy(tmp_path, tmp_path, False))
    assert len(told) == 1 and NOT_RUN in told[0] and "`sandbox` to `off`" in told[0]
    assert sandbox.state == "unavailable"
    sandbox.update(enabled=False, network=False)
    assert sandbox.state == "off" and await sandbox.jail(shell_policy(tmp_path, tmp_path, False)) is UNSANDBOXED


# ------------------------------------------------------------------ wording


def test_what_a_policy_and_an_approval_say(tmp_path):
    assert shell_policy(tmp_path, tmp_path, False).describe() == "runs sandboxed: no network, writes only in the workspace"
    assert shell_policy(tmp_path, tmp_path, False).with_network().describe().startswith("runs sandboxed: network on")
    assert "scratch copy" in scratch_policy("tests", tmp_path, tmp_path, False).describe()
    ask = ApprovalRequest("t1", "run_command", "make", "/w", sandbox="runs sandboxed: no network, writes only in "
                                                                       "the workspace")
    assert question(ask).endswith("in /w\nruns sandboxed: no network, writes only in the workspace")
    again = ApprovalRequest("t1", "run_command", "pip install x", "/w", kind="network", detail="curl: (6) …",
                            sandbox="runs sandboxed: network on, writes only in the workspace")
    assert "failed in the sandbox, which has no network:\ncurl: (6) …" in question(again)
    assert "It would still run sandboxed: network on, writes only in the workspace." in question(again)
    assert list(answers(again)) == ["Run again with the network", "Don't"]


def test_the_macos_profile_holds_the_same_rules(tmp_path):
    from gdm.sandbox.macos import profile  # noqa: PLC0415 - the module only macOS would load

    ws = tmp_path / "ws"
    text = profile(shell_policy(ws, ws, False), tmp_path / "tmp", tmp_path / "home", (tmp_path / "store",))
    assert "(deny file-write*)" in text and f'(subpath "{ws}")' in text and f'(subpath "{tmp_path / "tmp"}")' in text
    assert f'(subpath "{ws / ".git/hooks"}")' in text and f'(subpath "{ws / ".vscode"}")' in text
    assert f'(subpath "{tmp_path / "home" / ".ssh"}")' in text and f'(subpath "{tmp_path / "store"}")' in text
    assert "(deny network*)" in text and "(remote unix-socket)" in text and "(deny signal (target others))" in text
    assert "(deny network*)" not in profile(shell_policy(ws, ws, True), tmp_path, None)
