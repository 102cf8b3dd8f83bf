"""A `session/prompt`'s content blocks → the task's prompt and focus.

Text blocks are the prompt. A resource link or an embedded resource naming a file inside the
session's folder is the focus (the first one; a `#L10-20` fragment is the selection); the text of
an embedded resource of a whole file is what the user sees of it (it becomes that file's buffer),
and every embedded text but the focus's is quoted in the prompt.
A `file:` URI outside the folder is refused. `/explain`, `/write-tests` and `/fix` are the
ready-made actions of the LSP front end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from gdm.agent.prompts import READY_PROMPTS
from gdm.agent.session import TaskSpec
from gdm.context.workspace import WorkspaceView

_RANGE = re.compile(r"^L?(\d+)(?:[-:]L?(\d+))?$")
QUOTE_CHARS = 40_000


class BadPrompt(ValueError):
    """A prompt gdm cannot take; the message says why."""


@dataclass
class Prompt:
    """What a prompt asks: the task, and texts the client sent for whole files (rel → text)."""

    spec: TaskSpec
    buffers: dict[str, str] = field(default_factory=dict)
    fetch: list[str] = field(default_factory=list)  # files to read through the client first


def _fragment_range(fragment: str) -> tuple[int | None, int | None]:
    """0-based (start, end) of a `L10-20` / `L10:20` / `10` fragment, or (None, None)."""
    match = _RANGE.match(fragment or "")
    if not match:
        return None, None
    first = int(match.group(1))
    last = int(match.group(2) or first)
    if first < 1 or last < first:
        return None, None
    return first - 1, last - 1


def _where(view: WorkspaceView, uri: str) -> tuple[str | None, tuple[int | None, int | None], bool]:
    """(workspace-relative path or None, range, has a fragment); BadPrompt for a file outside."""
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None, (None, None), False
    rel = view.rel_of_uri(uri.split("#", 1)[0])
    if rel is None:
        raise BadPrompt(f"{parsed.path} is outside this session's folder {view.root}: gdm works only inside it")
    return rel, _fragment_range(parsed.fragment), bool(parsed.fragment)


def _command(text: str) -> tuple[str, bool]:
    """A slash command's prompt (and whether it may only read), else the text as it is."""
    stripped = text.lstrip()
    for name, key in (("/explain", "explain"), ("/write-tests", "tests"), ("/fix", "fix")):
        if stripped == name or stripped.startswith((name + " ", name + "\n")):
            rest = stripped[len(name):].strip()
            if key == "fix":
                return READY_PROMPTS["fix"].format(problems=rest or "(the attached code)"), False
            return READY_PROMPTS[key] + (f"\n{rest}" if rest else ""), key == "explain"
    return text, False


def parse(blocks: list[Any], view: WorkspaceView) -> Prompt:
    """The task of a prompt's blocks; BadPrompt when it names a file outside or has no text."""
    texts: list[str] = []
    quoted: list[str] = []
    focus: tuple[str, int | None, int | None] | None = None
    prompt = Prompt(TaskSpec(""))
    for block in blocks:
        kind = getattr(block, "type", None)
        if kind == "text":
            texts.append(block.text)
        elif kind == "resource_link":
            rel, (start, end), _ = _where(view, block.uri)
            if rel is None:
                quoted.append(f"(attached: {block.name} <{block.uri}>)")
                continue
            focus = focus or (rel, start, end)
            prompt.fetch.append(rel)
            quoted.append(f"(attached: {rel}" + (f", lines {start + 1}-{end + 1})" if start is not None else ")"))
        elif kind == "resource":
            resource = block.resource
            text = getattr(resource, "text", None)
            rel, (start, end), excerpt = _where(view, resource.uri)
            if text is None:
                raise BadPrompt(f"{resource.uri}: binary resources are not supported; attach text files")
            if rel is not None:
                is_focus = focus is None
                focus = focus or (rel, start, end)
                if not excerpt:
                    prompt.buffers[rel] = text  # the whole file as the editor has it
                    if is_focus:
                        continue  # the focus shows it
                else:
                    prompt.fetch.append(rel)
            quoted.append(f"Attached {rel or resource.uri}:\n```\n{text[:QUOTE_CHARS]}\n```")
        else:
            raise BadPrompt(f"{kind} content is not supported (promptCapabilities: text and embedded context only)")
    text, read_only = _command("\n".join(t for t in texts if t.strip()))
    if not text.strip() and focus is None:
        raise BadPrompt("the prompt has no text: say what gdm should do")
    full = "\n\n".join([text or "Look at the attached code.", *quoted]) if quoted else text
    path, start, end = focus or (None, None, None)
    prompt.spec = TaskSpec(full, path, start, end, view.uri(path) if path else None, read_only=read_only)
    return prompt
