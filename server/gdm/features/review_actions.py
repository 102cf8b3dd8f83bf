"""Review as code actions, for editors that show no code lenses (Helix, Emacs by default).

On a pending hunk's lines: "gdm: Accept this change", "gdm: Reject this change" and
"gdm: Accept all changes of this task" — the same commands the lenses run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from gdm.commands import Command
from gdm.features.code_actions import wanted
from gdm.features.code_lens import review_targets
from gdm.features.notifications import document

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
        for target in review_targets(patch, text):
            if target.where is None or not _touches(target.where, params.range):
                continue
            args = [{"patchId": patch.id, **({"hunks": target.hunks} if target.hunks is not None else {})}]
            what = {"change": "this change", "deletion": "deleting this file"}.get(
                target.accept, f"moving this file ({target.accept})")
            actions += [_action(f"gdm: Accept {what} (risk {tier})", Command.PATCH_ACCEPT, args),
                        _action(f"gdm: Reject {what}", Command.PATCH_REJECT, args)]
            if patch.task_id not in tasks_offered:
                tasks_offered.add(patch.task_id)
                actions.append(_action("gdm: Accept all changes of this task", Command.TASK_ACCEPT,
                                       [{"taskId": patch.task_id}]))
    return actions


def _action(title: str, command: Command, args: list) -> lsp.CodeAction:
    return lsp.CodeAction(title=title, kind=REVIEW_KIND,
                          command=lsp.Command(title=title, command=command.identifier, arguments=args))
