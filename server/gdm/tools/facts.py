"""What a tool result says, as data: the `facts` of `toolResult` task events and of the `tool`
messages of `gdm.conversation.get` (README: the `gdm/taskEvent` row of the contract).

A panel shows each tool call as one sentence ("searched "divide(" — 3 hits", "ran pytest -q: 3
passed"), but the `result` text it gets is cut at 2,000 characters, which drops the tail of a long
hit list or test log. These facts are read here from the whole result, next to the tools that write
those formats, so the live event and a stored conversation (the store keeps the whole result) say
the same. Only results of successful calls have facts; a format this does not know gives none.
"""

from __future__ import annotations

import re
from typing import Any

from gdm.sandbox import NOT_RUN
from gdm.tools.search import MAX_MATCHES

_SEARCH_EMPTY = "(no matches for "
_LINE_HIT = re.compile(r"^[^\n:]+:\d+: ")
_NO_HITS = ("(no definition of ", "(no references to ", "(no files match)", "(no definitions found in ")
_CUT = re.compile(r"^… \[cut: \d+ more characters\]$")
_EXIT = re.compile(r"^\(exit code (-?\d+|None)(?:; [^\n]*)?\)$")  # "; runs sandboxed: …" since the sandbox
_KILLED = re.compile(r"^\(killed after the ")
_LAST_LINE_CHARS = 200


def facts_of(name: str, ok: bool, text: str) -> dict[str, Any]:
    """The facts of one tool result (`{}` when the call failed or the tool reports none)."""
    if not ok:
        return {}
    match name:
        case "search":
            return _search(text)
        case "find_symbol" | "find_references" | "list_files":
            return _lines(text)
        case "run_command":
            return _command(text)
    return {}


def _search(text: str) -> dict[str, Any]:
    if text.startswith(_SEARCH_EMPTY):
        return {"hits": 0}
    hits = sum(1 for line in text.split("\n") if _LINE_HIT.match(line))
    more = text.endswith(f"(first {MAX_MATCHES} shown)")
    return {"hits": hits, **({"more": True} if more else {})}


def _lines(text: str) -> dict[str, Any]:
    """Results that are one line per item (paths, `path:line: …`), maybe cut by `cap`."""
    if text.startswith(_NO_HITS):
        return {"hits": 0}
    lines = [line for line in text.split("\n") if line.strip()]
    cut = bool(lines) and bool(_CUT.match(lines[-1]))
    return {"hits": len(lines) - cut, **({"more": True} if cut else {})}


def _command(text: str) -> dict[str, Any]:
    """`$ command`, then `(exit code N; where)` and the output, `(killed after …)` or `(not run: …)`
    (shell.describe)."""
    lines = text.split("\n")
    if len(lines) < 2 or not lines[0].startswith("$ "):
        return {}
    if lines[1].startswith(f"({NOT_RUN}"):
        return {"notRun": True}
    if _KILLED.match(lines[1]):
        return {"timedOut": True}
    found = _EXIT.match(lines[1])
    if not found:
        return {}
    facts: dict[str, Any] = {"exitCode": None if found[1] == "None" else int(found[1])}
    last = next((line.strip() for line in reversed(lines[2:]) if line.strip()), "")
    if last:
        facts["lastLine"] = last[:_LAST_LINE_CHARS]
    return facts
