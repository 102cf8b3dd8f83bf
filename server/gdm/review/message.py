"""Commit messages: a subject of at most 72 characters, a body, then the `commitTrailer` line.

The text comes from `cheapModel` (cleaned here: no code fences or "Subject:" labels, the subject
cut at a word), from the user (kept as written), or, without a cheap model, from the tasks
themselves: the title (else the prompt's first line) as the subject, the prompt and the model's
final answer (its summary) as the body.
"""

from __future__ import annotations

import re
import textwrap

SUBJECT_MAX = 72
# One git trailer line, `Key: value` (the `commitTrailer` setting is validated against it too). No
# settings import here: the LSP layer imports this module before `initialize`, pydantic after it.
TRAILER_LINE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*:[ \t]*[^\s].*$")
BODY_WIDTH = 72
BODY_CHARS = 4000
_LABEL = re.compile(r"^(?:commit message|subject|title)\s*:\s*", re.IGNORECASE)


def cut_subject(text: str) -> str:
    """One line of at most SUBJECT_MAX characters, cut at a word, without a final period."""
    line = " ".join(text.split()).strip().rstrip(".")
    if len(line) <= SUBJECT_MAX:
        return line
    cut = line[:SUBJECT_MAX + 1].rsplit(" ", 1)[0] if " " in line[:SUBJECT_MAX + 1] else line[:SUBJECT_MAX]
    return cut[:SUBJECT_MAX].rstrip(" ,;:-")


def _wrap(paragraph: str) -> str:
    """A prose paragraph wrapped at BODY_WIDTH; lines that look like code or lists stay as they are."""
    if any(line.startswith((" ", "\t", "-", "*", ">")) or "`" in line for line in paragraph.splitlines()):
        return paragraph
    return textwrap.fill(" ".join(paragraph.split()), BODY_WIDTH, break_long_words=False, break_on_hyphens=False)


def body_of(parts: list[str], subject: str | None = None) -> str:
    """Paragraphs of text (prompts, summaries) as a commit body: wrapped, empty ones and the one that
    is the `subject` dropped, capped."""
    paragraphs = [_wrap(p.strip()) for part in parts for p in re.split(r"\n\s*\n", part or "")
                  if p.strip() and (subject is None or cut_subject(p) != subject)]
    body = "\n\n".join(dict.fromkeys(paragraphs))
    return body if len(body) <= BODY_CHARS else body[:BODY_CHARS].rsplit("\n", 1)[0] + "\n…"


def from_model(text: str | None, fallback_body: str) -> str | None:
    """The cheap model's reply as `subject\\n\\nbody` (its body, else `fallback_body`); None when
    there is no usable subject in it."""
    if not text:
        return None
    lines = [line.rstrip() for line in text.strip().splitlines() if not line.strip().startswith("```")]
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        return None
    subject = cut_subject(_LABEL.sub("", lines[0].strip().strip("\"'`*#")))
    if not subject:
        return None
    body = "\n".join(lines[1:]).strip() or fallback_body
    return f"{subject}\n\n{body}" if body else subject


def fallback(subject_source: str, body_parts: list[str]) -> str:
    """A message without a model: `subject_source`'s first line as the subject, the parts as the body."""
    first = next((line for line in subject_source.splitlines() if line.strip()), "gdm task")
    subject = cut_subject(first) or "gdm task"
    body = body_of(body_parts, subject)
    return f"{subject}\n\n{body}" if body else subject


def trailer_line(setting: str, model: str | None) -> str:
    """The `commitTrailer` setting with `<model>` replaced by the task's model ("" stays "")."""
    return setting.replace("<model>", model or "unknown model").strip()


def with_trailer(message: str, trailer: str) -> str:
    """`message` ending with `trailer` in its trailer block (the last paragraph, when it is one);
    unchanged when the trailer is "" or already there. Ends with one newline."""
    text = message.strip()
    if not trailer or trailer in text.splitlines():
        return text + "\n"
    paragraphs = text.split("\n\n")
    last = paragraphs[-1].splitlines()
    if len(paragraphs) > 1 and last and all(TRAILER_LINE.match(line) for line in last):
        return text + "\n" + trailer + "\n"
    return text + "\n\n" + trailer + "\n"
