"""A patch's accepted hunks as an LSP `WorkspaceEdit`, shaped to what the client supports.

Versioned `documentChanges` (with a change annotation naming the task and its risk) when the
client has them, plain `changes` otherwise; creating, deleting and moving files as `CreateFile`,
`DeleteFile` and `RenameFile` resource operations. `plan_edit` turns a whole edit plan
(patches/plan.py: an accept, an undo) into one such edit; the per-patch builders below it
predate the plan and keep their callers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from lsprotocol import types as lsp

from gdm.patches.apply import TextEdit
from gdm.patches.plan import Annotation, EditPlan, Op, Step
from gdm.patches.model import FilePatch, PatchKind
from gdm.patches.risk import Tier

CONFIRM_TIERS = (Tier.MEDIUM, Tier.HIGH, Tier.CRITICAL)


@dataclass(frozen=True)
class EditSupport:
    """The parts of the client's workspace-edit support that shape the edit."""

    document_changes: bool
    resource_operations: frozenset[str]
    change_annotations: bool


class UnsupportedEdit(Exception):
    """The client cannot express this edit (e.g. creating a file without resource operations)."""


def _text_edit(edit: TextEdit, annotation: str | None) -> lsp.TextEdit | lsp.AnnotatedTextEdit:
    rng = lsp.Range(start=lsp.Position(line=edit.start_line, character=edit.start_char),
                    end=lsp.Position(line=edit.end_line, character=edit.end_char))
    if annotation is not None:
        return lsp.AnnotatedTextEdit(range=rng, new_text=edit.new_text, annotation_id=annotation)
    return lsp.TextEdit(range=rng, new_text=edit.new_text)


def annotation_for(patch: FilePatch, task_label: str) -> lsp.ChangeAnnotation:
    """The label names the task; the description gives the risk; MEDIUM and above need confirmation."""
    risk = patch.risk
    if risk is None:
        return lsp.ChangeAnnotation(label=f"gdm: {task_label}", description="risk not scored", needs_confirmation=True)
    reasons = "; ".join(r.message for r in risk.reasons) or "no risk signals"
    return lsp.ChangeAnnotation(label=f"gdm: {task_label}",
                                description=f"risk {risk.tier.value} {risk.score:.2f}: {reasons}",
                                needs_confirmation=risk.tier in CONFIRM_TIERS)


def can(support: EditSupport, operation: str) -> bool:
    """Whether the client takes this resource operation ('create', 'rename', 'delete')."""
    return support.document_changes and operation in support.resource_operations


def rename_edit(patch: FilePatch, old_uri: str, new_uri: str, support: EditSupport,
                task_label: str) -> lsp.WorkspaceEdit:
    """A `RenameFile` operation moving the file (never over an existing one)."""
    if not can(support, "rename"):
        raise UnsupportedEdit("this editor cannot rename files through LSP (no 'rename' resource operation)")
    annotation_id = patch.id if support.change_annotations else None
    annotations = {patch.id: annotation_for(patch, task_label)} if annotation_id else None
    op = lsp.RenameFile(old_uri=old_uri, new_uri=new_uri, annotation_id=annotation_id,
                        options=lsp.RenameFileOptions(overwrite=False, ignore_if_exists=False))
    return lsp.WorkspaceEdit(document_changes=[op], change_annotations=annotations)


def workspace_edit(patch: FilePatch, uri: str, version: int | None, edits: list[TextEdit],
                   support: EditSupport, task_label: str, *, create: bool = False) -> lsp.WorkspaceEdit:
    """The `WorkspaceEdit` that applies `edits` (already located against the current text).

    `create`: the file does not exist yet and is made by a `CreateFile` operation. A DELETE
    patch is a `DeleteFile` operation.
    """
    creating = create
    annotation_id = patch.id if support.document_changes and support.change_annotations else None
    if patch.kind is PatchKind.DELETE:
        if not can(support, "delete"):
            raise UnsupportedEdit("this editor cannot delete files through LSP (no 'delete' resource operation)")
        annotations = {patch.id: annotation_for(patch, task_label)} if annotation_id else None
        return lsp.WorkspaceEdit(document_changes=[lsp.DeleteFile(uri=uri, annotation_id=annotation_id)],
                                 change_annotations=annotations)
    if not support.document_changes:
        if creating:
            raise UnsupportedEdit("this editor cannot create files through LSP (no documentChanges support)")
        return lsp.WorkspaceEdit(changes={uri: [_text_edit(e, None) for e in edits]})
    ops: list = []
    if creating:
        if not can(support, "create"):
            raise UnsupportedEdit("this editor cannot create files through LSP (no 'create' resource operation)")
        ops.append(lsp.CreateFile(uri=uri, options=lsp.CreateFileOptions(overwrite=False, ignore_if_exists=True),
                                  annotation_id=annotation_id))
    ops.append(lsp.TextDocumentEdit(
        text_document=lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
        edits=[_text_edit(e, annotation_id) for e in edits]))
    annotations = {patch.id: annotation_for(patch, task_label)} if annotation_id else None
    return lsp.WorkspaceEdit(document_changes=ops, change_annotations=annotations)


def lsp_annotation(annotation: Annotation) -> lsp.ChangeAnnotation:
    """A plan's annotation as LSP carries it."""
    return lsp.ChangeAnnotation(label=annotation.label, description=annotation.description,
                                needs_confirmation=annotation.needs_confirmation)


def plan_edit(plan: EditPlan, uri: Callable[[str], str], support: EditSupport,
              edits: Callable[[Step], list[TextEdit]]) -> lsp.WorkspaceEdit:
    """The one `WorkspaceEdit` that carries out `plan`'s steps in order.

    `edits(step)` gives a step's text edits in the client's position units (the caller converts).
    Versioned `documentChanges` with one change annotation for the plan when the client has
    them; plain `changes` (text steps only) otherwise; creating, deleting and moving files as
    `CreateFile`, `DeleteFile` and `RenameFile` (never overwriting). A step the client cannot
    express is an UnsupportedEdit (the applier decides whether another way is safe first).
    """
    for step in plan.steps:
        needed = {Op.CREATE: "create", Op.DELETE: "delete", Op.MOVE: "rename"}.get(step.op)
        if needed is not None and not can(support, needed):
            why = "no documentChanges support" if not support.document_changes else f"no '{needed}' resource operation"
            raise UnsupportedEdit(f"this editor cannot {needed} files through LSP ({why})")
    if not support.document_changes:
        changes: dict[str, list[lsp.TextEdit]] = {}
        for step in plan.steps:
            changes.setdefault(uri(step.path), []).extend(_text_edit(e, None) for e in edits(step))
        return lsp.WorkspaceEdit(changes=changes)
    note = plan.annotation.id if support.change_annotations else None
    ops: list = []
    for step in plan.steps:
        if step.op is Op.DELETE:
            ops.append(lsp.DeleteFile(uri=uri(step.path), annotation_id=note))
            continue
        if step.op is Op.MOVE:
            ops.append(lsp.RenameFile(old_uri=uri(step.path), new_uri=uri(step.new_path or step.path), annotation_id=note,
                                      options=lsp.RenameFileOptions(overwrite=False, ignore_if_exists=False)))
            continue
        if step.op is Op.CREATE:
            ops.append(lsp.CreateFile(uri=uri(step.path), annotation_id=note,
                                      options=lsp.CreateFileOptions(overwrite=False, ignore_if_exists=True)))
        ops.append(lsp.TextDocumentEdit(
            text_document=lsp.OptionalVersionedTextDocumentIdentifier(uri=uri(step.path), version=step.version),
            edits=[_text_edit(e, note) for e in edits(step)]))
    annotations = {note: lsp_annotation(plan.annotation)} if note else None
    return lsp.WorkspaceEdit(document_changes=ops, change_annotations=annotations)
