"""`textDocument/codeLens`: "Accept", "Reject" and the risk above each pending hunk (or move),
and "↶ Undo task" (features/history.py) and "✓ Commit this task" (features/commit.py) unless the
client turns them off.

Lenses follow the hunk while the user types: each is placed where the hunk's lines sit in
the current buffer, found by content (patches/apply.py), not where they were at proposal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lsprotocol import types as lsp

from gdm.commands import Command
from gdm.features.commit import commit_lenses
from gdm.features.history import undo_lenses
from gdm.features.notifications import document
from gdm.patches.apply import hunk_ranges
from gdm.patches.model import FilePatch, PatchKind

if TYPE_CHECKING:
    from gdm.server import GdmServer


@dataclass(frozen=True)
class Target:
    """One decision a person makes on a patch: a hunk, or the whole file operation."""

    hunks: list[int] | None  # None: the patch as a whole (a move has no hunks)
    where: tuple[int, int] | None  # its lines [start, end) in the current text; None: no longer fits
    line: int  # where to show it when it no longer fits
    accept: str  # what accepting does, for titles: "change", "deletion", "move to b.py"


def review_targets(patch: FilePatch, text: str) -> list[Target]:
    """What can be accepted or rejected on a pending patch, placed in the current text."""
    if patch.kind is PatchKind.RENAME:
        return [Target(None, (0, 1), 0, f"move to {patch.new_path}")]
    noun = "deletion" if patch.kind is PatchKind.DELETE else "change"
    ranges = hunk_ranges(patch, text)  # all hunks in one pass: lenses are asked for often
    last = max(0, text.count("\n"))
    return [Target([h.index], ranges.get(h.index), min(h.old_start, last), noun) for h in patch.pending_hunks()]


def register(server: GdmServer) -> None:
    """Register the code lens provider."""

    @server.ls.feature(lsp.TEXT_DOCUMENT_CODE_LENS)
    async def code_lens(params: lsp.CodeLensParams) -> list[lsp.CodeLens]:
        await server.get_session()  # the pending patches are the session's: wait for it (bounded)
        found = document(server, params.text_document.uri)
        undo = (undo_lenses(server, params.text_document.uri) + commit_lenses(server, params.text_document.uri)
                if server.caps.undo_lens else [])
        if found is None:
            return undo
        session, rel, text = found
        lenses: list[lsp.CodeLens] = []
        for patch in session.patches.open_for_path(rel):
            tier = f"risk: {patch.risk.tier.value} {patch.risk.score:.2f}" if patch.risk else "risk: not scored"
            for target in review_targets(patch, text):
                line = target.where[0] if target.where is not None else target.line
                rng = lsp.Range(start=lsp.Position(line=line, character=0), end=lsp.Position(line=line, character=0))
                args = [{"patchId": patch.id, **({"hunks": target.hunks} if target.hunks is not None else {})}]
                what = "" if target.accept == "change" else f" {target.accept}"
                accept_title = f"✓ Accept{what}" if target.where is not None else "⚠ Accept (no longer fits)"
                commands = [(accept_title, Command.PATCH_ACCEPT, args), ("✗ Reject", Command.PATCH_REJECT, args),
                            (tier, Command.PATCH_SHOW_RISK, [{"patchId": patch.id}])]
                lenses += [lsp.CodeLens(range=rng, command=lsp.Command(title=title, command=cmd.identifier,
                                                                       arguments=cmd_args))
                           for title, cmd, cmd_args in commands]
        return lenses + undo
