"""Apply a patch's hunks to the CURRENT text of a file, tolerating drift, never forcing.

The user may have typed since the patch was made. Each hunk is found again by content
(patches/locate.py): its
`old_lines` must match exactly; its context may have moved (lines added or removed above), changed
in whitespace, or been edited, as long as the place stays unambiguous. A hunk that cannot be placed
is a Conflict with a reason a person can read; it is never merged by guesswork.

Positions in TextEdits are LSP positions (0-based lines, UTF-16 code units), computed from character
offsets so that they stay right even where LSP counts a lone '\\r' as a line break and the diff
model (which splits after '\\n' only) does not.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gdm.patches.context import Context
from gdm.patches.locate import NotFound, locate, locate_hunk
from gdm.patches.model import CONTEXT, FilePatch, Hunk, HunkStatus, apply_to_base, split_lines
from gdm.patches.positions import LinePositions

__all__ = ["ApplyResult", "Conflict", "TextEdit", "apply_hunks", "hunk_current_range", "hunk_ranges",
           "locate_hunk", "pending_view"]


@dataclass
class TextEdit:
    """An edit on the current text, LSP-shaped: 0-based lines, characters in UTF-16 code units."""

    start_line: int
    start_char: int
    end_line: int
    end_char: int
    new_text: str


@dataclass
class Conflict:
    """A hunk that was not applied, and why."""

    hunk: int
    reason: str


@dataclass
class ApplyResult:
    """The current text with the fitting hunks applied, the edits that do it, and what did not fit."""

    text: str
    edits: list[TextEdit] = field(default_factory=list)
    applied: list[int] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)


def _expected(patch: FilePatch) -> tuple[str, dict[int, int]]:
    """The text the document should hold now (the base with the accepted hunks in it) and where
    each hunk's old lines start in it."""
    done = [h for h in patch.hunks if h.status is HunkStatus.ACCEPTED]
    shift, starts = 0, {}
    for h in sorted(patch.hunks, key=lambda h: (h.old_start, h.index)):
        starts[h.index] = h.old_start + shift
        if h.status is HunkStatus.ACCEPTED:
            shift += len(h.new_lines) - len(h.old_lines)
    return apply_to_base(patch.base_text, done), starts


def _as_seen(hunk: Hunk, start: int, expected: list[str]) -> Hunk:
    """The hunk as it should stand in the expected text: at `start`, with a full CONTEXT lines on each
    side taken from that text (a neighbouring change's lines included, old or accepted as they are
    there), so that fewer than CONTEXT lines still means the file's edge to `locate`."""
    end = start + len(hunk.old_lines)
    return Hunk(hunk.index, start, hunk.old_lines, hunk.new_lines, expected[max(0, start - CONTEXT):start],
                expected[end:end + CONTEXT], hunk.status)


def _place(patch: FilePatch, lines: list[str], hunks: list[Hunk]) -> tuple[dict[int, int], list[Conflict]]:
    """Positions of the hunks that fit (by index), in document order, and conflicts for the rest.

    Each hunk is one change whose own context may be a single line between it and its neighbour:
    it is located with the full context of the expected text instead (`_as_seen`). A document
    equal to that text takes the recorded positions."""
    placed: dict[int, int] = {}
    conflicts: list[Conflict] = []
    expected_text, starts = _expected(patch)
    fast = "".join(lines) == expected_text
    expected = split_lines(expected_text)
    ctx = None if fast else Context(lines, expected_text)
    drift, lo = 0, 0
    for hunk in sorted(hunks, key=lambda h: (h.old_start, h.index)):
        base_pos = starts[hunk.index]
        try:
            seen = _as_seen(hunk, base_pos, expected)
            p = base_pos if ctx is None else locate(seen, ctx, base_pos + drift, lo)
            end = p + len(hunk.old_lines)
            if hunk.new_lines and not hunk.new_lines[-1].endswith("\n") and end < len(lines):
                raise NotFound("its last line has no newline but text now follows it")
        except NotFound as exc:
            conflicts.append(Conflict(hunk.index, f"hunk {hunk.index}: {exc}"))
            continue
        placed[hunk.index] = p
        drift, lo = p - base_pos, end
    return placed, conflicts


def _select(patch: FilePatch, indices: list[int] | None) -> tuple[list[Hunk], list[Conflict]]:
    if indices is None:
        return patch.pending_hunks(), []
    by_index = {h.index: h for h in patch.hunks}
    chosen: list[Hunk] = []
    conflicts: list[Conflict] = []
    for i in dict.fromkeys(indices):
        hunk = by_index.get(i)
        if hunk is None:
            conflicts.append(Conflict(i, f"no hunk {i}"))
        elif hunk.status is not HunkStatus.PENDING:
            conflicts.append(Conflict(i, f"hunk {i} is already {hunk.status.value}"))
        else:
            chosen.append(hunk)
    return chosen, conflicts


def apply_hunks(patch: FilePatch, current_text: str, indices: list[int] | None = None, *,
                code_points: bool = False) -> ApplyResult:
    """Apply the chosen pending hunks (None = all pending) to `current_text`.

    Edits are whole lines, non-overlapping, in document order, against `current_text`; a range
    reaching the end of a document without a final newline ends at (last line, its UTF-16 length).
    With `code_points`, characters are counted in code points (Python string indices): the edit
    plan's columns, converted to the client's units only at the LSP edge (features/lsp_applier.py).
    """
    chosen, conflicts = _select(patch, indices)
    lines = split_lines(current_text)
    placed, misfits = _place(patch, lines, chosen)
    by_index = {h.index: h for h in patch.hunks}
    where = LinePositions(current_text, lines, code_points)
    out: list[str] = []
    edits: list[TextEdit] = []
    pos = 0
    for index, p in sorted(placed.items(), key=lambda item: (item[1], item[0])):
        hunk = by_index[index]
        end = p + len(hunk.old_lines)
        new = "".join(hunk.new_lines)
        out.extend(lines[pos:p])
        out.append(new)
        pos = end
        start_pos, end_pos = where.at(p), where.at(end)
        edits.append(TextEdit(start_pos[0], start_pos[1], end_pos[0], end_pos[1], new))
    out.extend(lines[pos:])
    all_conflicts = sorted(conflicts + misfits, key=lambda c: c.hunk)
    return ApplyResult(text="".join(out), edits=edits, applied=sorted(placed), conflicts=all_conflicts)


def pending_view(patch: FilePatch, current_text: str) -> str:
    """`current_text` with every pending hunk that fits applied: what the model proposed, in place."""
    return apply_hunks(patch, current_text).text


def hunk_ranges(patch: FilePatch, current_text: str) -> dict[int, tuple[int, int] | None]:
    """`hunk_current_range` of every pending hunk at once (one pass; code lenses want them all)."""
    return _ranges(patch, patch.pending_hunks(), current_text)


def hunk_current_range(patch: FilePatch, hunk: Hunk, current_text: str) -> tuple[int, int] | None:
    """0-based [start_line, end_line) of the hunk's old lines in `current_text`, None if lost.

    Located together with the other pending hunks, so drift above it is accounted for the same
    way as on accept. Lines are LSP lines (a lone '\\r' counts as a break).
    """
    others = [h for h in patch.pending_hunks() if h.index != hunk.index]
    return _ranges(patch, others + [hunk], current_text)[hunk.index]


def _ranges(patch: FilePatch, hunks: list[Hunk], current_text: str) -> dict[int, tuple[int, int] | None]:
    lines = split_lines(current_text)
    placed, _ = _place(patch, lines, hunks)
    where = LinePositions(current_text, lines)
    found: dict[int, tuple[int, int] | None] = {}
    for hunk in hunks:
        if hunk.index not in placed:
            found[hunk.index] = None
            continue
        start, end = placed[hunk.index], placed[hunk.index] + len(hunk.old_lines)
        start_line = where.at(start)[0]
        end_line, end_char = where.at(end)
        found[hunk.index] = (start_line, end_line + (1 if end_char else 0))
    return found
