"""What an inline completion's model reads: the code before and after the cursor, budgeted, and
the definitions from other files that the code around the cursor names.

The names come from the last lines before the cursor and the first after it: called names
(`name(`), attributes called on something (`obj.name(`), names imported (`from x import a, b`),
and the identifier being typed. Each is looked up in the code map (`find_symbol`, tree-sitter
tags; open buffers over disk) and its signature, with the file it is in, goes above the prefix as
comment lines in the file's own comment syntax, so that a fill-in-the-middle model reads it as
part of the file. Definitions in the file itself are left out: the model sees them already.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable
from dataclasses import dataclass, field

PREFIX_CHARS = 6_000  # ~1,500 tokens before the cursor
SUFFIX_CHARS = 1_500
CONTEXT_CHARS = 1_500  # the definitions' signatures
CONTEXT_NAMES = 12
NEAR_LINES_BEFORE, NEAR_LINES_AFTER = 20, 5
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CALLED = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(")
_IMPORTED = re.compile(r"^\s*(?:from\s+\S+\s+)?import\s+(.+)$", re.M)
_COMMON = frozenset({"print", "len", "str", "int", "float", "list", "dict", "set", "tuple", "range", "open",
                     "isinstance", "super", "self", "cls", "None", "True", "False", "this", "console", "require"})
_LINE_COMMENT = {"py": "#", "rb": "#", "sh": "#", "r": "#", "pl": "#", "toml": "#", "yaml": "#", "yml": "#",
                 "sql": "--", "lua": "--", "hs": "--"}


@dataclass(frozen=True)
class Definition:
    """A definition found for a name near the cursor."""

    path: str
    line: int  # 1-based
    signature: str


@dataclass
class Prompt:
    """What the model gets: `prefix` (context comments, then the code before the cursor) and `suffix`."""

    prefix: str
    suffix: str
    names: list[str] = field(default_factory=list)
    definitions: list[Definition] = field(default_factory=list)


def split(text: str, line: int, character: int) -> tuple[str, str]:
    """The buffer before and after (0-based line, code-point column); past the end clamps."""
    lines = text.split("\n")
    line = max(0, min(line, len(lines) - 1))
    character = max(0, min(character, len(lines[line])))
    before = "\n".join(lines[:line] + [lines[line][:character]])
    return before, text[len(before):]


def names_near(prefix: str, suffix: str) -> list[str]:
    """The names the code around the cursor uses, nearest first: the one being typed, called names,
    imported names; keywords and the most common builtins left out."""
    before = prefix.split("\n")[-NEAR_LINES_BEFORE:]
    after = suffix.split("\n")[:NEAR_LINES_AFTER]
    found: list[str] = []
    typing = _IDENT.search(before[-1][::-1]) if before else None
    if typing and typing.start() == 0:
        found.append(typing.group(0)[::-1])
    for line in reversed(before):
        found += reversed(_CALLED.findall(line))
    for line in after:
        found += _CALLED.findall(line)
    for group in _IMPORTED.findall("\n".join(before)):
        found += [part.split(" as ")[0].strip() for part in group.strip("() ").split(",")]
    unique: list[str] = []
    for name in found:
        if name and name not in unique and not keyword.iskeyword(name) and name not in _COMMON and len(name) > 1:
            unique.append(name)
    return unique[:CONTEXT_NAMES]


def parse_symbol(line: str) -> Definition | None:
    """A `path:line: kind signature` line of `find_symbol` as a Definition."""
    found = re.match(r"^(.*?):(\d+): (\S+) (.*)$", line)
    return Definition(found.group(1), int(found.group(2)), found.group(4).strip()) if found else None


def build(path: str, text: str, line: int, character: int,
          lookup: Callable[[str], list[str]] | None = None) -> Prompt:
    """The prompt for a completion at (line, character) of `path` holding `text`; `lookup(name)`
    gives `find_symbol`'s lines (None: no code map)."""
    prefix, suffix = split(text, line, character)
    prefix, suffix = prefix[-PREFIX_CHARS:], suffix[:SUFFIX_CHARS]
    names = names_near(prefix, suffix)
    definitions: list[Definition] = []
    used = 0
    for name in names if lookup is not None else []:
        for found in lookup(name)[:2]:
            d = parse_symbol(found)
            if d is None or d.path == path or d in definitions:
                continue
            cost = len(d.path) + len(d.signature) + 12
            if used + cost > CONTEXT_CHARS:
                break
            definitions.append(d)
            used += cost
    opener = _LINE_COMMENT.get(path.rsplit(".", 1)[-1].lower(), "//")
    header = "".join(f"{opener} {d.path}:{d.line}: {d.signature}\n" for d in definitions)
    if header:
        header = f"{opener} Definitions this code uses, from other files of the project:\n{header}"
    return Prompt(header + prefix, suffix, names, definitions)


def trim(text: str, suffix: str, max_lines: int = 12) -> str:
    """A model's fill made fit to show: at most `max_lines`, without trailing blank lines, and without
    repeating the line after the cursor when it ends with it."""
    lines = text.rstrip().split("\n")[:max_lines]
    out = "\n".join(lines).rstrip()
    rest = suffix.split("\n", 1)[0].strip()
    if rest and out.rstrip().endswith(rest) and "\n" in out:
        out = out.rstrip()[: -len(rest)].rstrip()
    return out
