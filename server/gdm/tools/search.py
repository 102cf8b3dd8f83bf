"""`search`: matching lines across the workspace as the user sees it."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from gdm.context.workspace import PathRefused, WorkspaceView
from gdm.tools.base import Tool, ToolContext, ToolError, ToolOutcome
from gdm.tools.files import fenced

MAX_MATCHES = 200
MAX_LINE = 300


class Search(Tool):
    """Lines matching a literal string or a regex, as `path:line: text`."""

    name = "search"
    description = ("Search the workspace for a string (or a Python regex with regex=true); returns matching lines "
                   "as 'path:line: text'. Lower-case queries match case-insensitively.")
    parameters = {
        "type": "object",
        "properties": {
            "query": {"type": "string"},
            "path": {"type": "string", "description": "file or folder to search in (default: whole workspace)"},
            "regex": {"type": "boolean"},
        },
        "required": ["query"],
    }

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        query = args["query"]
        if not query:
            raise ToolError("search: query must not be empty")
        rel = fenced(ctx, args["path"], allow_secret=True) if args.get("path") not in (None, "", ".") else ""
        flags = 0 if any(c.isupper() for c in query) else re.IGNORECASE
        try:
            pattern = re.compile(query if args.get("regex") else re.escape(query), flags)
        except re.error as exc:
            raise ToolError(f"search: invalid regex: {exc}") from exc
        # Reading buffers is a loop-thread job; scanning disk is not, so take the texts first.
        texts = {p: ctx.view.read(p, ctx.task_id) for p in ctx.view.buffers.open_paths()}
        lines = await asyncio.to_thread(_scan, ctx.view, rel, pattern, texts, ctx.task_id)
        if not lines:
            return ToolOutcome(f"(no matches for {query!r})")
        more = " (first 200 shown)" if len(lines) > MAX_MATCHES else ""
        return ToolOutcome("\n".join(lines[:MAX_MATCHES]) + (f"\n…{more}" if more else ""))


def _scan(view: WorkspaceView, rel: str, pattern: re.Pattern[str], texts: dict[str, str | None],
          task_id: str) -> list[str]:
    out: list[str] = []
    for path in view.list_files(rel, task_id=task_id):
        if view.is_secret(path):
            continue
        try:
            text = texts[path] if path in texts else view.read(path, task_id)
        except PathRefused:
            continue  # binary or huge: not searchable text
        if text is None:
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if pattern.search(line):
                out.append(f"{path}:{number}: {line[:MAX_LINE]}")
                if len(out) > MAX_MATCHES:
                    return out
    return out
