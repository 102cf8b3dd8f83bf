"""What a completion model is given: the buffer around the cursor within budgets, and the context.

Pure functions on strings (code points). The prefix is cut at a line start and the suffix at a line
end, so the model never sees half a line at either edge. Two prompt shapes:
- fill in the middle (`fim_prompt` + the suffix as the `suffix` parameter): the context is a comment
  block in the file's own comment syntax before the prefix, so a code model reads it as code;
- the chat "hole filler" (`hole_filler_messages`) for models without FIM: the file with a marker
  where the text goes, and a system prompt asking for the marker's text only.
"""

from __future__ import annotations

from dataclasses import dataclass

from gdm.context.repomap.tags import language_of

HOLE = "{{FILL_HERE}}"
PREFIX_CHARS = 6000  # ~1,500 tokens before the cursor
SUFFIX_CHARS = 1600  # ~400 tokens after it
CONTEXT_CHARS = 2400  # ~600 tokens of definitions from other files and recent edits
STOP = ["\n\n\n"]  # two blank lines: the model has moved on to what follows
_HASH_COMMENT = ("python", "ruby")

HOLE_FILLER_SYSTEM = (
    "You are a code completion engine. The user sends a file with the marker " + HOLE + " at the cursor. "
    "Answer with exactly the text that belongs at the marker, and nothing else: no explanation, no code "
    "fences, no repetition of the code before or after the marker. The text may span several lines and "
    "may be empty when nothing belongs there. Definitions from other files of the project are given for "
    "reference; use their names and signatures exactly.")


@dataclass(frozen=True)
class Window:
    """The buffer around the cursor: `prefix` ends at the cursor, `suffix` starts there; the current
    line's parts before and after the cursor; whether either edge was cut by its budget."""

    prefix: str
    suffix: str
    line_prefix: str
    line_suffix: str
    first_line: int  # the 0-based line the prefix starts on
    cut_prefix: bool = False
    cut_suffix: bool = False


def window(text: str, offset: int, prefix_chars: int = PREFIX_CHARS, suffix_chars: int = SUFFIX_CHARS) -> Window:
    """The prefix and suffix of `text` at `offset` within the budgets, cut at line boundaries."""
    offset = max(0, min(offset, len(text)))
    start = 0
    if offset > prefix_chars:
        start = offset - prefix_chars
        newline = text.find("\n", start, offset)
        start = newline + 1 if newline >= 0 else start
    end = len(text)
    if end - offset > suffix_chars:
        end = offset + suffix_chars
        newline = text.rfind("\n", offset, end)
        end = newline + 1 if newline >= 0 else end
    line_start = text.rfind("\n", 0, offset) + 1
    line_end = text.find("\n", offset)
    line_end = len(text) if line_end < 0 else line_end
    return Window(text[start:offset], text[offset:end], text[line_start:offset], text[offset:line_end],
                  text.count("\n", 0, start), start > 0, end < len(text))


def comment_prefix(path: str | None) -> str:
    """The line-comment opener the context block uses in a file of this path."""
    lang = language_of(path or "")
    if lang is None:
        return "#" if (path or "").endswith((".sh", ".toml", ".yaml", ".yml")) else "//"
    return "#" if lang in _HASH_COMMENT else "//"


def context_block(path: str | None, snippets: list[str]) -> str:
    """The context as comment lines: the file's path, then each snippet's lines."""
    mark = comment_prefix(path)
    lines = [f"{mark} Path: {path}"] if path else []
    for snippet in snippets:
        lines += [f"{mark} {line}".rstrip() for line in snippet.splitlines()]
    return "".join(line + "\n" for line in lines)


def fim_prompt(path: str | None, snippets: list[str], win: Window) -> str:
    """The `prompt` of a fill-in-the-middle call (its `suffix` is the window's suffix)."""
    return context_block(path, snippets) + win.prefix


def hole_filler_messages(path: str | None, snippets: list[str], win: Window) -> list[dict]:
    """The chat request of a model without fill-in-the-middle."""
    parts = []
    if snippets:
        parts.append("Definitions from other files of the project:\n" + "\n".join(snippets))
    parts.append(f"File {path or '(untitled)'}:\n{win.prefix}{HOLE}{win.suffix}")
    return [{"role": "system", "content": HOLE_FILLER_SYSTEM}, {"role": "user", "content": "\n\n".join(parts)}]

