"""Review as code actions, for editors that show no code lenses (Helix, Emacs by default).

On a pending hunk's lines: "gdm: Accept this change", "gdm: Reject this change" and
"gdm: Accept all changes of this task" — the same commands the lenses run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from gdm.commands import Command
from gdm.features.code_actions import wanted
from gdm.features.notifications import document
from gdm.patches.apply import hunk_ranges

if TYPE_CHECKING:
    from gdm.server import GdmServer

REVIEW_KIND = lsp.CodeActionKind.QuickFix


def _touches(where: tuple[int, int], rng: lsp.Range) -> bool:
    """Does the hunk at lines [start, end) touch the selection (or the cursor's line)?"""
    start, end = where
    last = max(start, end - 1)  # a pure insertion sits on its line
    return rng.start.line <= last and rng.end.line >= start


def review_actions(server: GdmServer, params: lsp.CodeActionParams) -> list[lsp.CodeAction]:
    """Accept / reject the pending hunks under the selection, or the whole task."""
    found = document(server, params.text_document.uri) if wanted(REVIEW_KIND.value, params) else None
    if found is None:
        return []
    session, rel, text = found
    actions: list[lsp.CodeAction] = []
    tasks_offered: set[str] = set()
    for patch in session.patches.open_for_path(rel):
        tier = patch.risk.tier.value if patch.risk else "unscored"
        for index, where in hunk_ranges(patch, text).items():
            if where is None or not _touches(where, params.range):
                continue
            target = [{"patchId": patch.id, "hunks": [index]}]
            actions += [_action(f"gdm: Accept this change (risk {tier})", Command.PATCH_ACCEPT, target),
                        _action("gdm: Reject this change", Command.PATCH_REJECT, target)]
            if patch.task_id not in tasks_offered:
                tasks_offered.add(patch.task_id)
                actions.append(_action("gdm: Accept all changes of this task", Command.TASK_ACCEPT,
                                       [{"taskId": patch.task_id}]))
    return actions


def _action(title: str, command: Command, args: list) -> lsp.CodeAction:
    return lsp.CodeAction(title=title, kind=REVIEW_KIND,
                          command=lsp.Command(title=title, command=command.identifier, arguments=args))
