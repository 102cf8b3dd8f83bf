"""The words the model reads: system prompt and the first user message of a task."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gdm.context.repomap.render import MapResult

SYSTEM = """You are gdm, a careful coding agent working inside the user's editor through a language server.
You can read, list and search the workspace, look code up (code_map, find_symbol, find_references,
file_outline), and propose edits with edit_file and write_file
(and delete_file / rename_file when the request needs a file removed or moved).
Your edits are NOT written to disk: each becomes a pending patch that the user reviews hunk by hunk, with a
risk score. So: read before you edit, keep changes small and focused on the request, match the file's style,
never touch files the request does not need, and never add secrets.
Paths are relative to the workspace root. When you are done, answer with a short summary of what you changed
and why (or the answer to the question, if no change was needed)."""

# The ready-made actions ("gdm: Fix this", "Explain", "Write tests"): LSP code actions and ACP slash commands.
READY_PROMPTS = {
    "fix": "Fix the problems the editor reports here:\n{problems}\nKeep the change minimal.",
    "explain": ("Explain what the selected code does, how, and anything surprising about it. Do NOT edit any "
                "file: this is a question, answer it in text only."),
    "tests": ("Write tests for the selected code in a NEW test file (use write_file; do not modify existing "
              "files). Follow the project's test conventions and cover normal and edge cases."),
}

CONTEXT_LINES = 30
MAX_FILE_CHARS = 40_000


@dataclass(frozen=True)
class Focus:
    """Where the user asked: a file, its text, and an optional 0-based line range [start, end]."""

    path: str
    text: str
    start_line: int | None = None
    end_line: int | None = None


def _numbered(lines: list[str], first: int) -> str:
    return "".join(f"{first + i + 1:>5}| {line}" for i, line in enumerate(lines))


def task_message(prompt: str, focus: Focus | None) -> str:
    """The first user message: the request, the file, the selection and the code around it."""
    parts = [f"Request: {prompt}"]
    if focus is None:
        return parts[0]
    lines = focus.text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    parts.append(f"\nFile: {focus.path} ({len(lines)} lines)")
    if focus.start_line is not None:
        start = max(0, min(focus.start_line, len(lines)))
        end = max(start, min(focus.end_line if focus.end_line is not None else start, max(0, len(lines) - 1)))
        selection = lines[start:end + 1]
        if selection:
            parts.append(f"\nSelection (lines {start + 1}-{end + 1}):\n```\n{''.join(selection)}```")
        else:
            parts.append(f"\nCursor at line {start + 1}.")
        lo, hi = max(0, start - CONTEXT_LINES), min(len(lines), end + 1 + CONTEXT_LINES)
        parts.append(f"\nCode around it (lines {lo + 1}-{hi}, numbered for reference only):\n```\n"
                     f"{_numbered(lines[lo:hi], lo)}```")
    if len(focus.text) <= MAX_FILE_CHARS:
        parts.append(f"\nWhole file {focus.path}:\n```\n{focus.text}{'' if focus.text.endswith(chr(10)) else chr(10)}```")
    else:
        parts.append(f"\n(The whole file is {len(focus.text)} characters: use read_file with a line range.)")
    return "\n".join(parts)


def map_section(result: MapResult | None) -> str:
    """The code map's part of the first user message ("" without a map)."""
    if result is None or not result.text:
        return ""
    notes = "".join(f" ({note})" for note in result.notes)
    return (f"\n\nCode map of the workspace (most relevant first; signatures only, use code_map, find_symbol, "
            f"file_outline or read_file for more){notes}:\n```\n{result.text}```")


def rules_note(files: list[str], cut: list[str]) -> str:
    """The thinking event that says which project rules files a task uses."""
    note = f" ({', '.join(cut)} cut to the rules budget)" if cut else ""
    return f"Project rules: {', '.join(files)}{note}"
