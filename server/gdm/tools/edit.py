"""`edit_file` and `write_file`: every change becomes a pending patch, never a disk write.

A task's edits to one file accumulate in one patch (same id) until the user reviews it, so
`read_file` shows the model what it proposed and the user reviews one diff per file. A follow-up
extends its conversation's patch the same way; the patch then belongs to the follow-up (the
latest task that shaped it), still under its id.
"""

from __future__ import annotations

from typing import Any

from gdm.patches.model import FilePatch, HunkStatus, PatchKind, make_patch
from gdm.patches.risk import score_patch
from gdm.tools.base import Tool, ToolContext, ToolError, ToolOutcome
from gdm.tools.files import fenced


def propose(ctx: ToolContext, rel: str, new_text: str) -> FilePatch:
    """Create or extend the task's pending patch on `rel` so that it yields `new_text`."""
    if ctx.patches.moving_to(ctx.task_id, rel) is not None:
        raise ToolError(f"{rel}: this task moves it to {ctx.patches.moving_to(ctx.task_id, rel)}; edit it there")
    rel = ctx.patches.renamed_from(ctx.task_id, rel) or rel  # a file being moved is edited where it is now
    existing = ctx.patches.untouched(ctx.task_id, rel)
    if existing is not None and existing.kind is PatchKind.DELETE:
        raise ToolError(f"{rel}: this task proposes to delete it; it cannot also edit it")
    if existing is not None:
        base, version, kind, patch_id = existing.base_text, existing.base_version, existing.kind, existing.id
    else:
        current = ctx.view.current(rel)
        base = current.text if current is not None else ""
        version = current.version if current is not None else None
        kind = PatchKind.MODIFY if current is not None else PatchKind.CREATE
        patch_id = ctx.new_patch_id()
        supersede(ctx, rel)
    if new_text == base and kind is PatchKind.MODIFY:
        if existing is None:
            raise ToolError(f"{rel}: the edit changes nothing")
    patch = make_patch(patch_id=patch_id, task_id=ctx.task_id, path=rel, base_text=base,
                       new_text=new_text, base_version=version, kind=kind)
    patch.risk = score_patch(patch, ctx.risk_context)
    ctx.patches.put(patch)
    return patch


def supersede(ctx: ToolContext, rel: str) -> None:
    """A new patch on a file whose earlier patch was partly reviewed replaces its pending rest."""
    for old in ctx.patches.open_for_path(rel):
        if ctx.patches.kin(old.task_id, ctx.task_id):
            ctx.patches.set_hunks(old, [h.index for h in old.pending_hunks()], HunkStatus.REJECTED)


def summary(patch: FilePatch) -> str:
    """What the model is told about the patch it just made."""
    added = sum(len(h.new_lines) for h in patch.hunks)
    removed = sum(len(h.old_lines) for h in patch.hunks)
    risk = f"risk {patch.risk.tier.value} {patch.risk.score:.2f}" if patch.risk else "risk unknown"
    return (f"Proposed change to {patch.path} as pending patch {patch.id} ({len(patch.hunks)} hunk(s), "
            f"+{added} -{removed} lines, {risk}). It is NOT written yet: the user reviews it. "
            f"read_file shows the file with your pending changes.")


class EditFile(Tool):
    """Replace the one occurrence of `old_text` with `new_text`."""

    name = "edit_file"
    description = ("Replace exactly one occurrence of old_text with new_text in a file. old_text must match the "
                   "file as read_file shows it, including indentation, and occur exactly once (add surrounding "
                   "lines to make it unique). The change becomes a pending patch for the user to review.")
    parameters = {
        "type": "object",
        "properties": {
            "path": {"type": "string"},
            "old_text": {"type": "string", "description": "exact text to replace (must occur once)"},
            "new_text": {"type": "string", "description": "replacement text"},
        },
        "required": ["path", "old_text", "new_text"],
    }

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        rel = fenced(ctx, args["path"])
        text = ctx.view.read(rel, ctx.task_id)
        if text is None:
            raise ToolError(f"{rel}: no such file (use write_file to create it)")
        old, new = args["old_text"], args["new_text"]
        if not old:
            raise ToolError("edit_file: old_text must not be empty (use write_file to replace a whole file)")
        if "\r\n" in text and "\r\n" not in old:
            # The model writes '\n'; the file says '\r\n': match it the way the user sees it.
            old, new = old.replace("\n", "\r\n"), new.replace("\r\n", "\n").replace("\n", "\r\n")
        count = text.count(old)
        if count == 0:
            hint = " (it matches if whitespace is ignored: copy indentation exactly)" if _loose_match(text, old) else ""
            raise ToolError(f"edit_file: old_text was not found in {rel}{hint}. Read the file again and copy the "
                            f"text exactly.")
        if count > 1:
            raise ToolError(f"edit_file: old_text occurs {count} times in {rel}; include more surrounding lines so "
                            f"it occurs once.")
        patch = propose(ctx, rel, text.replace(old, new, 1))
        return ToolOutcome(summary(patch), [patch.id])


def _loose_match(text: str, old: str) -> bool:
    squash = lambda s: " ".join(s.split())  # noqa: E731 - tiny local normaliser
    return squash(old) in squash(text)


class WriteFile(Tool):
    """Create a file or replace it whole."""

    name = "write_file"
    description = ("Create a new file, or replace a whole file, with content. The change becomes a pending patch "
                   "for the user to review. Prefer edit_file for small changes to existing files.")
    parameters = {
        "type": "object",
        "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
        "required": ["path", "content"],
    }

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        rel = fenced(ctx, args["path"])
        if not rel or ctx.view.abs(rel).is_dir():
            raise ToolError(f"write_file: {args['path']!r} is a folder")
        patch = propose(ctx, rel, args["content"])
        return ToolOutcome(summary(patch), [patch.id])
