"""The code action "Continue: <last task's title, else its prompt>" (`gdm.ask` with `followUp`).

Offered beside "Ask gdm…" when the last task that proposed a change to this file still has one
pending review and is not running: the follow-up continues that task's conversation. Like "Ask
gdm…" it carries no prompt; a client with an input box asks for it (Neovim's `:GdmFollowUp` and
Emacs' `gdm-follow-up` do the same from a command).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from gdm.commands import Command
from gdm.features.code_actions import ASK_KIND, range_payload, wanted

if TYPE_CHECKING:
    from gdm.server import GdmServer

TITLE_CHARS = 60


def last_reviewable_task(server: GdmServer, uri: str) -> str | None:
    """The task whose pending patch on this document is the latest, unless it is still running."""
    session = server.session
    rel = session.view.rel_of_uri(uri) if session is not None else None
    if session is None or rel is None:
        return None
    pending = session.patches.open_for_path(rel)
    if not pending:
        return None
    task_id = pending[-1].task_id
    return None if task_id in server.tasks.running() else task_id


def continue_actions(server: GdmServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    """ "Continue: …" when the last task in this file is still reviewable."""
    if not wanted(ASK_KIND.value, params):
        return []
    uri = params.text_document.uri
    task_id = last_reviewable_task(server, uri)
    if task_id is None or server.session is None:
        return []
    label = " ".join(server.session.task_label(task_id).split())
    label = label if len(label) <= TITLE_CHARS else label[: TITLE_CHARS - 1] + "…"
    title = f"Continue: {label}"
    payload = {"uri": uri, "range": range_payload(params.range), "followUp": task_id}
    command = lsp.Command(title=title, command=Command.ASK.identifier, arguments=[payload])
    return [lsp.CodeAction(title=title, kind=ASK_KIND, command=command)]
