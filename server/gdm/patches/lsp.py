"""A patch's accepted hunks as an LSP `WorkspaceEdit`, shaped to what the client supports.

Versioned `documentChanges` (with a change annotation naming the task and its risk) when the
client has them, plain `changes` otherwise; creating, deleting and moving files as `CreateFile`,
`DeleteFile` and `RenameFile` resource operations.
"""

from __future__ import annotations

from dataclasses import dataclass

from lsprotocol import types as lsp

from gdm.patches.apply import TextEdit
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
