"""Sending a `workspace/applyEdit` and telling the editor what changed in the review.

Used by the LSP applier (features/lsp_applier.py) for every edit plan: accepts and undos.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from lsprotocol import types as lsp
from pygls.exceptions import JsonRpcException

from gdm.features import notifications
from gdm.patches.model import FilePatch

if TYPE_CHECKING:
    from gdm.agent.session import Session
    from gdm.server import GdmServer

APPLY_EDIT_TIMEOUT_S = 120.0  # a person may be looking at VS Code's refactor preview
# A client that did not declare workspace/applyEdit may still apply the edit and never answer
# (Vim + ALE): wait this long, then judge by the text it reports with didChange.
UNDECLARED_APPLY_EDIT_TIMEOUT_S = 10.0


def changed(server: GdmServer, session: Session, patch: FilePatch) -> None:
    """A patch's review state moved: tell clients that follow patches, and redraw the lenses."""
    notifications.patch_proposed(server, session, patch)
    server.refresh_code_lenses()


async def send_edit(server: GdmServer, path: str, edit: lsp.WorkspaceEdit, landed: Callable[[], bool],
                    label: str | None = None) -> str | None:
    """Send `workspace/applyEdit`; None once the editor applied it, else why not (already shown).

    `path` names the change in messages; `label` is the edit's label (default `gdm: <path>`).
    `landed` tells, when an editor never answers, whether the edit arrived all the same.
    """
    timeout = APPLY_EDIT_TIMEOUT_S if server.caps.apply_edit else UNDECLARED_APPLY_EDIT_TIMEOUT_S
    try:
        answer = await asyncio.wait_for(server.ls.workspace_apply_edit_async(
            lsp.ApplyWorkspaceEditParams(edit=edit, label=label or f"gdm: {path}")), timeout)
    except asyncio.TimeoutError:
        if not landed():
            server.show(f"gdm: the editor did not answer workspace/applyEdit for {path}; the patch stays pending")
            return "the editor did not answer workspace/applyEdit"
        return None  # applied without a word: its text says so
    except JsonRpcException as exc:
        server.show(f"gdm: the editor failed to apply {path}: {exc}; the patch stays pending")
        return f"the editor failed to apply the edit: {exc}"
    if not answer.applied:
        reason = answer.failure_reason or "the editor did not apply the edit"
        server.show(f"gdm: {path} was not changed: {reason}. The patch stays pending.", lsp.MessageType.Warning)
        return reason
    return None
