"""`textDocument/codeLens`: "Accept", "Reject" and the risk above each pending hunk.

Lenses follow the hunk while the user types: each is placed where the hunk's lines sit in
the current buffer, found by content (patches/apply.py), not where they were at proposal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from gdm.commands import Command
from gdm.features.notifications import document
from gdm.patches.apply import hunk_ranges

if TYPE_CHECKING:
    from gdm.server import GdmServer


def register(server: GdmServer) -> None:
    """Register the code lens provider."""

    @server.ls.feature(lsp.TEXT_DOCUMENT_CODE_LENS)
    def code_lens(params: lsp.CodeLensParams) -> list[lsp.CodeLens]:
        found = document(server, params.text_document.uri)
        if found is None:
            return []
        session, rel, text = found
        lenses: list[lsp.CodeLens] = []
        for patch in session.patches.open_for_path(rel):
            tier = f"risk: {patch.risk.tier.value} {patch.risk.score:.2f}" if patch.risk else "risk: not scored"
            ranges = hunk_ranges(patch, text)  # all hunks in one pass: lenses are asked for often
            for hunk in patch.pending_hunks():
                where = ranges.get(hunk.index)
                line = where[0] if where is not None else min(hunk.old_start, max(0, text.count("\n")))
                rng = lsp.Range(start=lsp.Position(line=line, character=0), end=lsp.Position(line=line, character=0))
                target = [{"patchId": patch.id, "hunks": [hunk.index]}]
                accept_title = "✓ Accept" if where is not None else "⚠ Accept (no longer fits)"
                commands = [(accept_title, Command.PATCH_ACCEPT, target), ("✗ Reject", Command.PATCH_REJECT, target),
                            (tier, Command.PATCH_SHOW_RISK, [{"patchId": patch.id}])]
                lenses += [lsp.CodeLens(range=rng, command=lsp.Command(title=title, command=cmd.identifier,
                                                                       arguments=args))
                           for title, cmd, args in commands]
        return lenses
