"""Client capabilities, resolved once at `initialize` (not a feature: what every feature consults)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lsprotocol import types as lsp

from gdm.patches.lsp import EditSupport


@dataclass(frozen=True)
class ClientCaps:
    """What the client can do, resolved once at `initialize`."""

    apply_edit: bool = False
    document_changes: bool = False
    resource_operations: frozenset[str] = frozenset()
    change_annotations: bool = False
    work_done_progress: bool = False
    show_message_request: bool = False
    code_lens_refresh: bool = False
    configuration: bool = False
    custom_notifications: bool = True
    undo_lens: bool = True

    @classmethod
    def from_params(cls, caps: lsp.ClientCapabilities, init_options: Any) -> "ClientCaps":
        """Resolve the capabilities an editor declared (absent = unsupported)."""
        ws = caps.workspace
        edit = ws.workspace_edit if ws else None
        window = caps.window
        opts = init_options if isinstance(init_options, dict) else {}
        experimental = caps.experimental if isinstance(caps.experimental, dict) else {}
        gdm_exp = experimental.get("gdm", {}) if isinstance(experimental.get("gdm"), dict) else {}
        return cls(
            apply_edit=bool(ws and ws.apply_edit),
            document_changes=bool(edit and edit.document_changes),
            resource_operations=frozenset(str(getattr(op, "value", op)) for op in (edit.resource_operations or []))
            if edit else frozenset(),
            change_annotations=bool(edit and edit.change_annotation_support is not None),
            work_done_progress=bool(window and window.work_done_progress),
            show_message_request=bool(window and window.show_message),
            code_lens_refresh=bool(ws and ws.code_lens and ws.code_lens.refresh_support),
            configuration=bool(ws and ws.configuration),
            # Custom gdm/* notifications go to every client unless it opts out: unknown
            # notifications are ignored by conforming clients, and some want them without a plugin.
            custom_notifications=bool(gdm_exp.get("notifications", opts.get("gdmNotifications", True))),
            # "↶ Undo task" lenses after an accept: shown unless the client turns them off
            # (`experimental.gdm.undoLens: false` / `gdmUndoLens: false`); the code action is always there.
            undo_lens=bool(gdm_exp.get("undoLens", opts.get("gdmUndoLens", True))),
        )

    def edit_support(self) -> EditSupport:
        """The parts of workspace-edit support that shape an accepted patch's edit."""
        return EditSupport(self.document_changes, self.resource_operations, self.change_annotations)
