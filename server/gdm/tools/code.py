"""`code_map`, `find_symbol`, `find_references`, `file_outline`: the code as tree-sitter sees it.

Fenced like every tool (paths through the workspace view), reading what the task sees: open
buffers over disk and the task's own pending patches on top. The texts are taken on the event
loop; parsing and ranking run in a worker thread.
"""

from __future__ import annotations

import asyncio
from typing import Any

from gdm.context.repomap.service import CodeMap, Overlay
from gdm.context.repomap.tags import KINDS
from gdm.context.workspace import PathRefused
from gdm.patches.model import PatchKind
from gdm.tools.base import Tool, ToolContext, ToolError, ToolOutcome, cap
from gdm.tools.files import fenced, read_fenced

DEFAULT_MAP_TOKENS = 1024
MAX_MAP_TOKENS = 8192


def code_map_of(ctx: ToolContext) -> CodeMap:
    """The session's code map, or (a context built without one: tests, scripts) a fresh one."""
    found = ctx.code_map
    if found is None:
        found = ctx.code_map = CodeMap(ctx.view.root, use_cache=False, workers=1)
    return found


def overlay_of(ctx: ToolContext) -> Overlay:
    """Open buffers and this task's pending patches, as the task reads them (on the event loop)."""
    view = ctx.view
    buffers = {}
    for path in view.buffers.open_paths():
        buf = view.buffers.buffer(path)
        if buf is not None and not view.is_secret(path):
            buffers[path] = buf.text
    pending: dict[str, str | None] = {}
    for patch in ctx.patches.open():
        if patch.task_id != ctx.task_id or view.is_secret(patch.path):
            continue
        if patch.kind is PatchKind.RENAME:
            pending[patch.path] = None
            if patch.new_path:
                pending[patch.new_path] = view.read(patch.new_path, ctx.task_id)
            continue
        try:
            pending[patch.path] = view.read(patch.path, ctx.task_id)
        except PathRefused:
            continue
    return Overlay(buffers, pending)


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [w for w in value.replace(",", " ").split() if w]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v for v in value if v.strip()]
    raise ToolError("code_map: focus must be a list of paths or identifiers")


class CodeMapTool(Tool):
    """The ranked map of the code, personalised on the focus."""

    name = "code_map"
    description = ("The ranked map of the workspace's code: files with their most important definitions "
                   "(signatures, not bodies), ranked by a reference graph personalised on the focus "
                   "(paths or identifiers).")
    parameters = {
        "type": "object",
        "properties": {
            "focus": {"type": "array", "items": {"type": "string"},
                      "description": "paths (files or folders) or identifiers to centre the map on"},
            "max_tokens": {"type": "integer", "description": f"size of the map (default {DEFAULT_MAP_TOKENS})"},
        },
    }

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        paths, names = [], []
        for item in _strings(args.get("focus")):
            rel = fenced(ctx, item, allow_secret=True)
            target = ctx.view.abs(rel)
            if target.is_dir():
                paths += ctx.view.list_files(rel, task_id=ctx.task_id)
            elif ctx.view.exists_for(rel, ctx.task_id):
                paths.append(rel)
            else:
                names.append(item)
        tokens = args.get("max_tokens") or DEFAULT_MAP_TOKENS
        if tokens < 1:
            raise ToolError("code_map: max_tokens must be positive")
        tokens = min(tokens, MAX_MAP_TOKENS)
        code_map, overlay = code_map_of(ctx), overlay_of(ctx)
        result = await asyncio.to_thread(code_map.map, paths, tokens, mentioned=names, overlay=overlay)
        if not result.text:
            return ToolOutcome("(the code map is empty: no source files with definitions)")
        notes = "".join(f"\n({note})" for note in result.notes)
        return ToolOutcome(cap(result.text + notes))


class FindSymbol(Tool):
    """Every definition of a name, as `path:line: kind signature`."""

    name = "find_symbol"
    description = ("Find every definition of a name (class, function, method, constant…) in the workspace; "
                   "returns 'path:line: kind signature' per definition.")
    parameters = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "kind": {"type": "string", "enum": list(KINDS), "description": "only definitions of this kind"},
        },
        "required": ["name"],
    }

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        name, kind = args["name"].strip(), args.get("kind")
        if not name:
            raise ToolError("find_symbol: name must not be empty")
        if kind is not None and kind not in KINDS:
            raise ToolError(f"find_symbol: kind must be one of {', '.join(KINDS)}")
        code_map, overlay = code_map_of(ctx), overlay_of(ctx)
        lines = await asyncio.to_thread(code_map.find_symbol, name, kind, overlay)
        if not lines:
            return ToolOutcome(f"(no definition of {name!r}{f' of kind {kind}' if kind else ''})")
        return ToolOutcome(cap("\n".join(lines)))


class FindReferences(Tool):
    """Lines that reference a name, definitions excluded."""

    name = "find_references"
    description = ("Find the lines that reference a name (calls, uses), definitions excluded; returns "
                   "'path:line: text'. Optional path: a file or folder to look in.")
    parameters = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "path": {"type": "string", "description": "file or folder to look in (default: whole workspace)"},
        },
        "required": ["name"],
    }

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        name = args["name"].strip()
        if not name:
            raise ToolError("find_references: name must not be empty")
        rel = fenced(ctx, args["path"]) if args.get("path") not in (None, "", ".") else None
        code_map, overlay = code_map_of(ctx), overlay_of(ctx)
        lines = await asyncio.to_thread(code_map.find_references, name, rel, overlay)
        if not lines:
            return ToolOutcome(f"(no references to {name!r})")
        return ToolOutcome(cap("\n".join(lines)))


class FileOutline(Tool):
    """A file's definitions with their line ranges, nested."""

    name = "file_outline"
    description = "The definitions of a file (classes, their methods, functions…) with their line ranges, nested."
    parameters = {
        "type": "object",
        "properties": {"path": {"type": "string", "description": "path relative to the workspace root"}},
        "required": ["path"],
    }

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        rel, text = read_fenced(ctx, args["path"])
        outline = await asyncio.to_thread(code_map_of(ctx).outline, rel, text)
        if not outline:
            return ToolOutcome(f"(no definitions found in {rel})")
        lines = [f"{'  ' * depth}{d.start_line + 1}-{d.end_line + 1}: {d.kind} {d.signature}" for depth, d in outline]
        return ToolOutcome(cap(f"{rel}:\n" + "\n".join(lines)))
