"""What a command is, as far as the shell policy cares: read-only, a test runner, or offline-failed.

`runs_without_asking` is the `shell: auto` policy: a sandboxed command runs without a prompt when
every part of it (a pipeline or `&&` / `||` / `;` list of simple commands) only reads — `ls`, `cat`,
`grep`, `rg`, `find` without actions, `sed -n` with print-only scripts, git's read commands — or is
the project's own test or check command, or a known test runner or checker without its fixing
flags. Anything the parse does not understand asks: a substitution (`$(…)`, backticks, `$VAR`),
a redirection into a file, a background `&`, a variable assignment, an unknown program. A wrong
"yes" here costs at most what the sandbox allows (writes in the workspace, no network, no
secrets); a wrong "no" costs a prompt.

`offline_failure` finds the line that shows a sandboxed command failed for lack of network, so
the user can be offered, once, to run it again with the network.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Protocol

OPERATORS = {"|", "||", "&&", ";"}
READ_ONLY = frozenset({
    "ls", "cat", "head", "tail", "wc", "grep", "egrep", "fgrep", "rg", "ag", "ack", "pwd", "echo", "printf",
    "true", "false", "tree", "file", "stat", "du", "df", "which", "type", "whereis", "basename", "dirname",
    "realpath", "readlink", "sort", "uniq", "cut", "tr", "column", "diff", "cmp", "comm", "nl", "date", "id",
    "whoami", "uname", "hostname", "printenv", "seq", "test", "[", "jq", "md5sum", "sha1sum", "sha256sum",
    "hexdump", "od", "strings", "cd", "env", "nproc", "fold", "expand", "rev", "tac", "paste", "join", "find",
})
# arguments that turn a reader into a writer or a runner of other commands
REFUSED_ARGS = {
    "find": ("-ok", "-okdir", "-delete", "-fprint", "-fprint0", "-fprintf", "-fls"),
    "sort": ("-o", "--output"), "date": ("-s", "--set"), "rg": ("--pre",), "ag": ("--pager",),
    "tree": ("-o",), "env": ("*",), "hostname": ("*",),
}
GIT_READS = frozenset({
    "log", "show", "diff", "status", "blame", "annotate", "rev-parse", "ls-files", "ls-tree", "cat-file",
    "describe", "shortlog", "grep", "rev-list", "merge-base", "name-rev", "whatchanged", "count-objects",
})
GIT_LISTS = {  # subcommands that read only with these arguments
    "branch": {"-a", "-r", "-v", "-vv", "--list", "--show-current", "--all", "--remotes", "--merged",
               "--no-merged", "--contains"},
    "tag": {"-l", "--list"}, "remote": {"-v", "get-url"}, "stash": {"list", "show"},
    "worktree": {"list"}, "config": {"--get", "--get-all", "--list", "-l", "--get-regexp"}, "reflog": {"show"},
}
GIT_BARE_READS = frozenset({"branch", "tag", "remote", "reflog"})  # `git stash` alone would push
GIT_TAKES_VALUES = frozenset({"--contains", "--merged", "--no-merged", "get-url", "--get", "--get-all",
                              "--get-regexp", "show", "-l", "--list"})
GIT_REFUSED = ("--output", "--ext-diff", "-O", "--open-files-in-pager")
TEST_RUNNERS = (  # (program, first arguments): runs the project's own tests or checks
    ("pytest", ()), ("py.test", ()), ("python", ("-m", "pytest")), ("python3", ("-m", "pytest")),
    ("python", ("-m", "unittest")), ("python3", ("-m", "unittest")), ("npm", ("test",)), ("npm", ("run", "test")),
    ("yarn", ("test",)), ("pnpm", ("test",)), ("go", ("test",)), ("go", ("vet",)), ("cargo", ("test",)),
    ("cargo", ("check",)), ("cargo", ("clippy",)), ("ruff", ("check",)), ("mypy", ()), ("pyright", ()),
    ("tsc", ("--noEmit",)), ("eslint", ()), ("npx", ("tsc", "--noEmit")), ("npx", ("eslint",)),
    ("python", ("-m", "mypy")), ("python3", ("-m", "mypy")),
)
FIXING = ("--fix", "--fix-only", "-w", "--write", "--unsafe-fixes")
_SED_PRINT = re.compile(r"^(?:\$|\d+|/[^/]*/)(?:,(?:\$|\d+|/[^/]*/))?p(?:;(?:\$|\d+|/[^/]*/)(?:,(?:\$|\d+|/[^/]*/))?p)*$")
_OFFLINE = re.compile(
    r"Could not resolve host|Temporary failure in name resolution|Name or service not known|"
    r"getaddrinfo (?:ENOTFOUND|EAI_AGAIN)|\bE(?:NOTFOUND|AI_AGAIN|NETUNREACH)\b|Network is unreachable|"
    r"network is unreachable|Failed to establish a new connection|NameResolutionError|socket\.gaierror|"
    r"dial tcp: lookup|nodename nor servname|Could not resolve hostname|curl: \((?:6|7)\)|"
    r"unable to access '[^']*': (?:Could not resolve|Failed to connect)|No matching distribution found|"
    r"Could not fetch URL|failed to lookup address information")


class _Result(Protocol):
    exit_code: int | None
    output: str


def runs_without_asking(command: str, known: Iterable[str] = ()) -> str | None:
    """Why `command` may run in the sandbox without a prompt under `shell: auto`, or None (ask)."""
    if command.strip() in {k.strip() for k in known}:
        return "the project's test or check command"
    parts = _simple_commands(command)
    if not parts:
        return None
    reasons = [_why(words) for words in parts]
    if any(r is None for r in reasons):
        return None
    return "a test runner" if "a test runner" in reasons else "read-only"


def offline_failure(result: _Result) -> str | None:
    """The output line that shows a failed command could not reach the network, or None."""
    if result.exit_code in (0, None):
        return None
    for line in result.output.splitlines():
        if _OFFLINE.search(line):
            return line.strip()[:300]
    return None


def _simple_commands(command: str) -> list[list[str]] | None:
    """The simple commands of a list/pipeline, or None when something else is in it."""
    if any(c in command for c in ("`", "$", "\n", "\r")):
        return None
    try:  # find's `\;` ends its -exec, not the command: kept apart from the `;` operator
        lexer = shlex.shlex(command.replace("\\;", f" {FIND_END} "), posix=True, punctuation_chars=";&|<>()")
        lexer.whitespace_split = True
        tokens = list(lexer)
    except ValueError:
        return None
    parts: list[list[str]] = [[]]
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token in OPERATORS:
            if not parts[-1]:
                return None
            parts.append([])
        elif token in (">", ">>") and i + 1 < len(tokens) and tokens[i + 1] == "/dev/null":
            i += 1  # `2>/dev/null`: the descriptor number was taken as an argument; drop it too
            if parts[-1] and parts[-1][-1].isdigit():
                parts[-1].pop()
        elif token == ">&" and i + 1 < len(tokens) and tokens[i + 1].isdigit():
            i += 1  # `2>&1`
            if parts[-1] and parts[-1][-1].isdigit():
                parts[-1].pop()
        elif token and all(c in ";&|<>()" for c in token):
            return None  # a redirection into a file, a subshell, a background job (or a quoted `>`: asked)
        else:
            parts[-1].append(token)
        i += 1
    return parts if parts[-1] else None


def _why(words: list[str]) -> str | None:
    program = words[0]
    if "=" in program or ("/" in program and not program.startswith("/")):
        return None  # an assignment, or a program of the workspace's own (./ls)
    name = PurePosixPath(program).name
    if _test_runner(name, words[1:]):
        return "a test runner"
    if name == "git":
        return "read-only" if _git_reads(words[1:]) else None
    if name == "sed":
        return "read-only" if _sed_prints(words[1:]) else None
    if name == "xargs":
        inner = _xargs_command(words[1:])
        return "read-only" if inner and _why(inner) == "read-only" else None
    if name == "find" and not _find_execs_read(words[1:]):
        return None
    if name not in READ_ONLY:
        return None
    refused = REFUSED_ARGS.get(name, ())
    if "*" in refused and len(words) > 1:
        return None
    if any(w == r or w.startswith(r + "=") for w in words[1:] for r in refused):
        return None
    if name == "uniq" and len([w for w in words[1:] if not w.startswith("-")]) > 1:
        return None  # `uniq in out` writes out
    return "read-only"


FIND_END = "__gdm_find_exec_end__"
XARGS_VALUED = {"-n", "-I", "-P", "-d", "-L", "-s", "-E", "-a", "--max-args", "--max-procs", "--delimiter"}


def _xargs_command(args: list[str]) -> list[str] | None:
    """The command `xargs` runs (its own options skipped), or None."""
    i = 0
    while i < len(args) and args[i].startswith("-"):
        i += 2 if args[i] in XARGS_VALUED else 1
    return args[i:] or None


def _find_execs_read(args: list[str]) -> bool:
    """Every `-exec`/`-execdir … ;` (or `+`) of a find runs a read-only command."""
    i = 0
    while i < len(args):
        if args[i] in ("-exec", "-execdir"):
            end = next((j for j in range(i + 1, len(args)) if args[j] in (FIND_END, "+")), None)
            if end is None or end == i + 1 or _why([w for w in args[i + 1:end] if w != "{}"] or ["?"]) != "read-only":
                return False
            i = end
        i += 1
    return True


def _test_runner(name: str, args: list[str]) -> bool:
    if any(a in FIXING or a.startswith("--fix") for a in args):
        return False
    base = re.sub(r"3(\.\d+)?$", "3", name) if name.startswith("python") else name
    return any(base == program and tuple(args[:len(first)]) == first for program, first in TEST_RUNNERS)


def _git_reads(args: list[str]) -> bool:
    while args[:1] == ["-C"] and len(args) >= 2:
        args = args[2:]  # `git -C dir …` reads elsewhere; any other global option (-c) asks
    if not args or args[0].startswith("-"):
        return False
    sub, rest = args[0], args[1:]
    if any(a == r or a.startswith(r + "=") for a in rest for r in GIT_REFUSED):
        return False
    if sub in GIT_READS:
        return True
    allowed = GIT_LISTS.get(sub)
    if allowed is None:
        return False
    if not rest:
        return sub in GIT_BARE_READS
    if rest[0] not in allowed:
        return False
    taking = False  # positional words are allowed only as the values of a listing option
    for word in rest:
        if word in allowed:
            taking = word in GIT_TAKES_VALUES
        elif word.startswith("-") or not taking:
            return False
    return True


def _sed_prints(args: list[str]) -> bool:
    """`sed -n '10,20p' file`: only printing, never -i and never a w/e command."""
    if "-n" not in args and "--quiet" not in args:
        return False
    rest = [a for a in args if a not in ("-n", "--quiet", "-E", "-r")]
    if not rest or any(a.startswith("-") for a in rest):
        return False
    return bool(_SED_PRINT.match(rest[0]))
