"""Checks after edits: linters and type checkers run before and after the task's patches.

`checkCommands` (or, when unset, what the workspace is configured for: `ruff check`, `mypy` /
`pyright`, `eslint`, `tsc --noEmit`) run on the scratch copy the tests use (agent/testrun.py),
once without the task's patches and once with them. Only the problems the patches ADD count:
problems are keyed by file, tool, code and message (line numbers left out, so an old problem
that moved down a few lines is still old) and compared by count. Known tools are asked for their
machine-readable output (`ruff --output-format json`, `mypy -O json` or its
`file:line:col: error: msg  [code]` lines, `pyright --outputjson`, `eslint -f json`, tsc's
`file(line,col): error TSnnnn: msg`); any other command's output is compared line by line.

A check that is not installed, times out, or prints more than the cap is reported (once for a
missing tool) and counts nothing: its problems are unknown, never guessed.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gdm.sandbox import NOT_RUN
from gdm.tools.shell import CommandResult

CHECK_OUTPUT_CHARS = 2_000_000  # JSON cut in the middle is unreadable: past this a run counts nothing
NOT_FOUND = 127  # /bin/sh: command not found
SHOWN_PROBLEMS = 20  # in the message to the model and in one risk reason
_TSC = re.compile(r"^(?P<file>[^\s(][^(]*)\((?P<line>\d+),(?P<col>\d+)\): (?:error|warning) "
                  r"(?P<code>TS\d+): (?P<msg>.*)$")
_MYPY = re.compile(r"^(?P<file>[^:\n]+):(?P<line>\d+):(?:(?P<col>\d+):)? error: (?P<msg>.*?)"
                   r"(?:\s+\[(?P<code>[a-z0-9-]+)\])?$")
_NUMBERS = re.compile(r"(?<=[:(, ])\d+(?=[:), ]|$)|(?<=line )\d+")
ESLINT_SECURITY = ("no-eval", "no-implied-eval", "no-new-func", "no-script-url")


@dataclass(frozen=True)
class Problem:
    """One problem a check reported, located in a workspace-relative file."""

    tool: str
    kind: str  # "lint", "types" or "security": the risk reason is `<kind>_new`
    path: str
    line: int | None
    column: int | None
    code: str
    message: str

    def key(self) -> tuple[str, str, str, str]:
        """What makes two reports the same problem; line numbers, also inside messages, left out."""
        return self.tool, self.path, self.code, _NUMBERS.sub("N", self.message)

    def describe(self) -> str:
        """`path:line:col: code message (tool)`."""
        where = self.path + (f":{self.line}" if self.line else "") + (f":{self.column}" if self.column else "")
        code = f"{self.code} " if self.code else ""
        return f"{where}: {code}{self.message} ({self.tool})"


@dataclass
class CheckRun:
    """One run of one check command on the scratch copy."""

    command: str
    result: CommandResult
    problems: list[Problem]
    note: str | None = None  # why its problems do not count (not installed, timed out, output cut, unreadable)

    @property
    def missing(self) -> bool:
        """The tool is not installed (the shell could not find it), or the sandbox could not start it."""
        return (self.result.exit_code == NOT_FOUND and not self.result.timed_out) or self.result.not_run is not None


def tool_of(command: str) -> str:
    """The tool a command runs: `ruff`, `mypy`, `pyright`, `eslint`, `tsc`, or the first word."""
    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    words = [w for w in words if "=" not in w.split("/")[-1]]  # leading VAR=value assignments
    while words and Path(words[0]).name in {"npx", "env", "python", "python3", "uv", "poetry", "-m", "run"}:
        words = words[1:]
        while words and words[0].startswith("-"):
            words = words[1:]
    return Path(words[0]).name if words else command


def machine_readable(command: str) -> str:
    """The command with its tool's machine-readable output asked for, unless it already is."""
    tool, words = tool_of(command), command.split()
    if tool == "ruff":
        # a project's `fix = true` would make `ruff check` fix the copy and report nothing
        fix = "" if any(w in ("--fix", "--no-fix", "--fix-only") for w in words) else " --no-fix"
        fmt = "" if any(w.startswith("--output-format") for w in words) else " --output-format json"
        return command + fix + fmt
    if tool == "eslint" and not any(w in ("-f", "--format") or w.startswith("--format=") for w in words):
        return command + " -f json"
    if tool == "pyright" and "--outputjson" not in words:
        return command + " --outputjson"
    if tool == "tsc" and "--pretty" not in words:
        return command + " --pretty false"
    if tool == "mypy" and not any(w in ("-O", "--output") or w.startswith("--output=") for w in words):
        return command + " --show-error-codes --show-column-numbers --no-error-summary --no-pretty"
    return command


# ---------------------------------------------------------------- detection


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _tool(root: Path, name: str, node: bool = False) -> str | None:
    """The workspace's own copy of a tool (.venv/bin, node_modules/.bin), else the one on PATH."""
    own = root / ("node_modules/.bin" if node else ".venv/bin") / name
    if own.is_file() and os.access(own, os.X_OK):
        return shlex.quote(str(own))
    return name if shutil.which(name) else None


def _mypy_json(mypy: str) -> bool:
    """Whether this mypy has `-O json` (1.11 and later), read from its installed metadata beside it
    (`<prefix>/lib/python*/site-packages/mypy-X.Y.Z.dist-info`), never by running it: a workspace's
    own `.venv/bin/mypy` is the repository's file, and detection runs outside the sandbox. Not found:
    False, the text format every mypy has."""
    parts = shlex.split(mypy)
    exe = parts[0] if len(parts) == 1 and "/" in parts[0] else shutil.which(parts[0]) if len(parts) == 1 else None
    if exe is None:
        return False
    prefix = Path(exe).parent.parent
    for info in [*prefix.glob("lib/python3*/site-packages/mypy-*.dist-info"),
                 *prefix.glob("lib/python3*/dist-packages/mypy-*.dist-info")]:
        found = re.fullmatch(r"mypy-(\d+)\.(\d+)[^/]*\.dist-info", info.name)
        if found and (int(found.group(1)), int(found.group(2))) >= (1, 11):
            return True
    return False


def detect_check_commands(root: Path) -> tuple[list[str], list[str]]:
    """The checks this workspace is configured for, and notes on configured tools not installed."""
    commands: list[str] = []
    missing: list[str] = []
    pyproject = _read(root / "pyproject.toml")
    python = bool(pyproject) or (root / "setup.py").is_file() or any(root.glob("*.py")) or any(root.glob("*/*.py"))
    ruff_config = "[tool.ruff" in pyproject or (root / "ruff.toml").is_file() or (root / ".ruff.toml").is_file()
    ruff = _tool(root, "ruff")
    if ruff and (ruff_config or python):
        commands.append(f"{ruff} check --no-cache --no-fix --output-format json .")
    elif ruff_config:
        missing.append("ruff (configured in the workspace, not installed)")
    if "[tool.mypy" in pyproject or (root / "mypy.ini").is_file() or (root / ".mypy.ini").is_file() or \
            "[mypy" in _read(root / "setup.cfg"):
        mypy = _tool(root, "mypy")
        if mypy is None:
            missing.append("mypy (configured in the workspace, not installed)")
        else:
            fmt = "-O json" if _mypy_json(mypy) else "--show-error-codes --show-column-numbers --no-pretty"
            files = "" if re.search(r"^\s*files\s*=", pyproject + _read(root / "mypy.ini"), re.M) else " ."
            commands.append(f"{mypy} --no-error-summary {fmt}{files}")
    if "[tool.pyright" in pyproject or (root / "pyrightconfig.json").is_file():
        pyright = _tool(root, "pyright", node=True) or _tool(root, "pyright")
        commands.append(f"{pyright} --outputjson") if pyright else missing.append(
            "pyright (configured in the workspace, not installed)")
    commands += _node_checks(root, missing)
    return commands, missing


def check_commands(configured: tuple[str, ...] | None, root: Path) -> tuple[list[str], list[str]]:
    """`checkCommands` when set (an explicit list replaces detection; [] turns checks off), else
    the detected ones; and notes on configured tools that are not installed."""
    if configured is not None:
        return list(configured), []
    return detect_check_commands(root)


def _node_checks(root: Path, missing: list[str]) -> list[str]:
    try:
        package = json.loads(_read(root / "package.json") or "{}")
    except ValueError:
        return []
    if not isinstance(package, dict):
        return []
    deps = {**(package.get("dependencies") or {}), **(package.get("devDependencies") or {})}
    out: list[str] = []
    if "eslint" in deps or "eslintConfig" in package:
        eslint = _tool(root, "eslint", node=True)
        out.append(f"{eslint} -f json .") if eslint else missing.append(
            "eslint (configured in package.json, not installed: run npm install)")
    if "typescript" in deps and (root / "tsconfig.json").is_file():
        tsc = _tool(root, "tsc", node=True)
        out.append(f"{tsc} --noEmit --pretty false") if tsc else missing.append(
            "tsc (typescript in package.json, not installed: run npm install)")
    return out


# ---------------------------------------------------------------- parsing


def _rel(path: str, ws: Path) -> str:
    p = Path(path)
    if p.is_absolute():
        try:
            return p.resolve().relative_to(ws.resolve()).as_posix()
        except ValueError:
            return p.as_posix()
    return p.as_posix().removeprefix("./")


def _ruff(out: str, ws: Path) -> list[Problem]:
    found = []
    for d in json.loads(out):
        code = d.get("code") or "syntax-error"
        kind = "security" if re.fullmatch(r"S\d+", code) else "lint"
        loc = d.get("location") or {}
        found.append(Problem("ruff", kind, _rel(d["filename"], ws), loc.get("row"), loc.get("column"), code,
                             d.get("message", "")))
    return found


def _mypy(out: str, ws: Path) -> list[Problem]:
    found = []
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("{"):
            d = json.loads(line)
            if d.get("severity") == "error":
                found.append(Problem("mypy", "types", _rel(d["file"], ws), d.get("line"),
                                     (d.get("column") or 0) + 1 if d.get("column") is not None else None,
                                     d.get("code") or "", d.get("message", "")))
        elif m := _MYPY.match(line):
            found.append(Problem("mypy", "types", _rel(m["file"], ws), int(m["line"]),
                                 int(m["col"]) if m["col"] else None, m["code"] or "", m["msg"]))
    return found


def _pyright(out: str, ws: Path) -> list[Problem]:
    found = []
    for d in json.loads(out).get("generalDiagnostics", []):
        if d.get("severity") != "error":
            continue
        start = (d.get("range") or {}).get("start") or {}
        found.append(Problem("pyright", "types", _rel(d.get("file", ""), ws), start.get("line", -1) + 1,
                             start.get("character", -1) + 1, d.get("rule") or "", d.get("message", "")))
    return found


def _eslint(out: str, ws: Path) -> list[Problem]:
    found = []
    for f in json.loads(out):
        for m in f.get("messages", []):
            rule = m.get("ruleId") or "parse-error"
            kind = "security" if rule.startswith("security/") or rule in ESLINT_SECURITY else "lint"
            found.append(Problem("eslint", kind, _rel(f.get("filePath", ""), ws), m.get("line"), m.get("column"),
                                 rule, m.get("message", "")))
    return found


def _tsc(out: str, ws: Path) -> list[Problem]:
    return [Problem("tsc", "types", _rel(m["file"], ws), int(m["line"]), int(m["col"]), m["code"], m["msg"])
            for line in out.splitlines() if (m := _TSC.match(line.strip()))]


def _lines(tool: str) -> Callable[[str, Path], list[Problem]]:
    def parse(out: str, ws: Path) -> list[Problem]:
        prefix = str(ws) + os.sep
        return [Problem(tool, "lint", "", None, None, "", line.strip().replace(prefix, ""))
                for line in out.splitlines() if line.strip()]
    return parse


PARSERS: dict[str, Callable[[str, Path], list[Problem]]] = {
    "ruff": _ruff, "mypy": _mypy, "pyright": _pyright, "eslint": _eslint, "tsc": _tsc}


def parse_run(command: str, result: CommandResult, ws: Path) -> CheckRun:
    """The problems of one run, or a note saying why none can be counted."""
    tool = tool_of(command)
    if result.not_run is not None:
        return CheckRun(command, result, [], f"`{command}` {NOT_RUN}: {result.not_run}: skipped for this task")
    if result.timed_out:
        return CheckRun(command, result, [], f"`{command}` timed out: its problems are not counted")
    if result.exit_code == NOT_FOUND:
        return CheckRun(command, result, [], f"`{command}` is not installed (the shell found no such command): "
                                             f"skipped for this task")
    if result.dropped_chars:
        return CheckRun(command, result, [], f"`{command}` printed more than {CHECK_OUTPUT_CHARS:,} characters "
                                             f"({result.dropped_chars:,} cut): its problems are not counted")
    out = result.output
    if tool == "mypy" and result.exit_code not in (0, 1):
        return CheckRun(command, result, [], f"`{command}` failed (exit code {result.exit_code}): "
                                             f"{out.strip()[-300:]}")
    if tool in ("ruff", "eslint", "pyright"):
        out = out[out.find("[" if tool != "pyright" else "{"):] if ("[" in out or "{" in out) else out
    try:
        return CheckRun(command, result, PARSERS.get(tool, _lines(tool))(out, ws))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return CheckRun(command, result, [], f"`{command}` printed output gdm could not read ({exc}; exit code "
                                             f"{result.exit_code}): {out.strip()[:300]}")


def new_problems(before: list[Problem], after: list[Problem]) -> list[Problem]:
    """The problems of `after` that `before` does not have as many times (keys without line numbers)."""
    left = Counter(p.key() for p in before)
    added: list[Problem] = []
    for p in after:
        if left[p.key()] > 0:
            left[p.key()] -= 1
        else:
            added.append(p)
    return added


def feedback(problems: list[Problem], commands: list[str]) -> str:
    """The message that sends the model back to fix what its changes added."""
    shown = "\n".join(f"- {p.describe()}" for p in problems[:SHOWN_PROBLEMS])
    more = f"\n… and {len(problems) - SHOWN_PROBLEMS} more" if len(problems) > SHOWN_PROBLEMS else ""
    ran = "\n".join(f"$ {c}" for c in commands)
    return (f"The checks report {len(problems)} new problem(s) with your pending changes applied (run on a scratch "
            f"copy of the workspace; these were not there before your changes):\n{ran}\n{shown}{more}\n"
            f"Fix them with edit_file.")
