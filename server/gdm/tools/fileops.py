"""`delete_file` and `rename_file`: whole-file operations, proposed as patches like every edit.

Nothing is removed or moved until the user accepts; then the editor does it, as a `DeleteFile` or
`RenameFile` resource operation of a `workspace/applyEdit` (features/review.py).
"""

from __future__ import annotations

from typing import Any

from gdm.patches.model import FilePatch, HunkStatus, PatchKind, make_patch, make_rename
from gdm.patches.risk import score_patch
from gdm.tools.base import Tool, ToolContext, ToolError, ToolOutcome
from gdm.tools.edit import supersede
from gdm.tools.files import fenced


def _not_moving(ctx: ToolContext, rel: str) -> None:
    """A file this task is already moving takes no second whole-file operation."""
    if ctx.patches.moving_to(ctx.task_id, rel) or ctx.patches.renamed_from(ctx.task_id, rel):
        raise ToolError(f"{rel}: this task already proposes to move it; the user reviews that first")


def _own_creations(ctx: ToolContext, rel: str) -> list[FilePatch]:
    return [p for p in ctx.patches.open_for_path(rel) if ctx.patches.kin(p.task_id, ctx.task_id) and p.kind is PatchKind.CREATE]


def _scored(ctx: ToolContext, patch: FilePatch) -> FilePatch:
    patch.risk = score_patch(patch, ctx.risk_context)
    ctx.patches.put(patch)
    return patch


def _risk(patch: FilePatch) -> str:
    return f"risk {patch.risk.tier.value} {patch.risk.score:.2f}" if patch.risk else "risk unknown"


class DeleteFile(Tool):
    """Propose deleting a file."""

    name = "delete_file"
    description = ("Delete a file of the workspace. The deletion becomes a pending patch for the user to review; "
                   "the file stays until they accept it.")
    parameters = {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        rel = fenced(ctx, args["path"])
        _not_moving(ctx, rel)
        current = ctx.view.current(rel)
        if current is None:
            created = _own_creations(ctx, rel)
            if not created:
                raise ToolError(f"delete_file: {rel}: no such file")
            for patch in created:  # the file only exists as this task's proposal: withdraw it
                ctx.patches.set_hunks(patch, [h.index for h in patch.pending_hunks()], HunkStatus.REJECTED)
            return ToolOutcome(f"Withdrew your proposal to create {rel}; nothing else to delete.",
                               [p.id for p in created])
        if ctx.view.abs(rel).is_dir():
            raise ToolError(f"delete_file: {rel} is a folder; delete its files one by one")
        supersede(ctx, rel)  # this task's own pending edits to the file give way to its deletion
        patch = _scored(ctx, make_patch(patch_id=ctx.new_patch_id(), task_id=ctx.task_id, path=rel,
                                        base_text=current.text, new_text="", base_version=current.version,
                                        kind=PatchKind.DELETE))
        return ToolOutcome(f"Proposed deleting {rel} as pending patch {patch.id} ({_risk(patch)}). It is NOT "
                           f"deleted yet: the user reviews it.", [patch.id])


class RenameFile(Tool):
    """Propose moving a file to a new path."""

    name = "rename_file"
    description = ("Rename or move a file to new_path (which must not exist). The move becomes a pending patch for "
                   "the user to review. Until then, read and edit the file under its new path: your edits follow "
                   "it. Update the references to the old path with edit_file.")
    parameters = {
        "type": "object",
        "properties": {"path": {"type": "string"}, "new_path": {"type": "string"}},
        "required": ["path", "new_path"],
    }

    async def run(self, args: dict[str, Any], ctx: ToolContext) -> ToolOutcome:
        rel, dest = fenced(ctx, args["path"]), fenced(ctx, args["new_path"])
        if not dest or rel == dest:
            raise ToolError("rename_file: new_path must name another file")
        _not_moving(ctx, rel)
        if ctx.view.exists_for(dest, ctx.task_id) or ctx.view.abs(dest).exists():
            raise ToolError(f"rename_file: {dest} already exists; not overwriting it")
        current = ctx.view.current(rel)
        if current is None:
            created = _own_creations(ctx, rel)
            if not created:
                raise ToolError(f"rename_file: {rel}: no such file")
            for patch in created:  # a file only this task proposes: propose it at the new path instead
                patch.path = dest
                ctx.patches.put(_scored(ctx, patch))
            return ToolOutcome(f"Your proposed new file {rel} is now proposed as {dest}.", [p.id for p in created])
        if ctx.view.abs(rel).is_dir():
            raise ToolError(f"rename_file: {rel} is a folder; move its files one by one")
        patch = _scored(ctx, make_rename(patch_id=ctx.new_patch_id(), task_id=ctx.task_id, path=rel, new_path=dest,
                                         text=current.text, base_version=current.version))
        return ToolOutcome(f"Proposed moving {rel} to {dest} as pending patch {patch.id} ({_risk(patch)}). It is "
                           f"NOT moved yet: the user reviews it. Read and edit it as {dest} from now on.", [patch.id])
