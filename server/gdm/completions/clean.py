"""The model's text made into a suggestion: what the editor shows as ghost text and inserts.

- a chat model's code fences and an echo of the current line's start are taken off;
- trailing blank lines go, and the text stops before a line that repeats what follows the cursor
  (the model wrote on into code that is already there) and after `MAX_LINES` lines;
- the closing characters right after the cursor (`)`, `]`, `"`… an editor's auto-closed pair) that
  the suggestion ends with are *replaced*, not doubled: `replace` says how many.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gdm.completions.prompt import Window

MAX_LINES = 12
_FENCE = re.compile(r"^\s*```[\w+-]*[ \t]*\n(.*?)(?:\n```\s*)?$", re.DOTALL)
_CLOSERS = set(")]}>\"'`;:, ")


@dataclass(frozen=True)
class Suggestion:
    """The text to insert at the cursor, and how many characters after the cursor it replaces."""

    text: str
    replace: int = 0


def unfence(text: str) -> str:
    """A chat reply's code fence taken off (the hole filler asks for none; models add them anyway)."""
    match = _FENCE.match(text)
    return match.group(1) if match else text


def clean(text: str, win: Window, *, chat: bool = False) -> Suggestion | None:
    """The suggestion for `text` at `win`, or None when nothing is left to show."""
    if chat:
        text = unfence(text)
        lead = win.line_prefix.lstrip()
        if win.line_prefix and text.startswith(win.line_prefix):
            text = text[len(win.line_prefix):]  # the model repeated the start of the line
        elif lead and text.lstrip().startswith(lead):
            text = text.lstrip()[len(lead):]
    text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    following = [line.strip() for line in win.suffix.split("\n")[1:] if line.strip()]
    nxt = following[0] if following else None
    kept: list[str] = []
    for index, line in enumerate(lines):
        if index > 0 and nxt is not None and line.strip() == nxt:
            break  # the model wrote on into the code that follows the cursor
        kept.append(line)
        if len(kept) >= MAX_LINES:
            break
    text = "\n".join(kept).rstrip()
    if not text.strip():
        return None
    return Suggestion(text, overlap(text, win.line_suffix))


def overlap(text: str, line_suffix: str) -> int:
    """How many closing characters after the cursor the end of `text` already writes."""
    last = text.rsplit("\n", 1)[-1]
    for size in range(min(len(line_suffix), len(last)), 0, -1):
        head = line_suffix[:size]
        if set(head) <= _CLOSERS and last.endswith(head) and head.strip():
            return size
    return 0
