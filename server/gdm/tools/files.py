"""`read_file` and `list_files`: the workspace as the user sees it."""

from __future__ import annotations

from typing import Any

from gdm.context.workspace import PathRefused
from gdm.tools.base import Tool, ToolContext, ToolError, ToolOutcome, cap


def fenced(ctx: ToolContext, path: str, *, allow_secret: bool = False) -> str:
    """The workspace-relative path, or a ToolError the model can read."""
    try:
        rel = ctx.view.rel(path)
    except PathRefused as exc:
        raise ToolError(str(exc)) from exc
    if not allow_secret and ctx.view.is_secret(rel):
        raise ToolError(f"{rel} holds secrets; tools do not read or write it")
    return rel


def read_fenced(ctx: ToolContext, path: str) -> tuple[str, str]:
    """(workspace-relative path, text as the task sees it), or a ToolError the model can read."""
    rel = fenced(ctx, path)
    try:
        text = ctx.view.read(rel, ctx.task_id)
    except PathRefused as exc:
        raise ToolError(str(exc)) from exc
    if text is None:
        raise ToolError(f"{rel}: no such file")
    return rel, text


class ReadFile(Tool):
    """Text of a file: open buffer, else disk, with this task's pending patches on top."""

    name = "read_file"
    description = ("Read a file of the workspace as the user sees it (unsaved editor changes and your own "
                   "pending edits included). Optional 1-based inclusive line range.")
    parameters = {
        "type": "object",
        "properties": {
            "path": {"type": "string", "description": "path relative to the workspace root"},
            "start_line": {"type": "integer", "description": "first line, 1-based"},
            "end_line": {"type": "integer", "description": "last line, 1-based, inclusive"},
        },
        "required": ["path"],
    }

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        rel, text = read_fenced(ctx, args["path"])
        start, end = args.get("start_line"), args.get("end_line")
        if start is None and end is None:
            return ToolOutcome(cap(text))
        lines = text.splitlines(keepends=True)
        first = max(1, start or 1)
        last = min(len(lines), end or len(lines))
        if first > max(1, len(lines)) or (end is not None and end < first):
            raise ToolError(f"{rel}: line range {start}-{end} is outside the file's {len(lines)} lines")
        body = "".join(lines[first - 1:last])
        return ToolOutcome(cap(f"[{rel} lines {first}-{last} of {len(lines)}]\n{body}"))


class ListFiles(Tool):
    """Workspace files, honouring .gitignore."""

    name = "list_files"
    description = "List files of the workspace (honouring .gitignore), optionally under a folder and matching a glob."
    parameters = {
        "type": "object",
        "properties": {
            "path": {"type": "string", "description": "folder relative to the workspace root (default: root)"},
            "pattern": {"type": "string", "description": "glob such as '*.py' or 'src/**/*.ts'"},
        },
    }

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        rel = fenced(ctx, args["path"], allow_secret=True) if args.get("path") not in (None, "", ".") else ""
        if rel and not ctx.view.abs(rel).exists():
            raise ToolError(f"{rel}: no such folder")
        files = ctx.view.list_files(rel, args.get("pattern"), task_id=ctx.task_id)
        if not files:
            return ToolOutcome("(no files match)")
        return ToolOutcome(cap("\n".join(files)))
