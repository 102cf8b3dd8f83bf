"""A three-way merge of lines: one side's changes put on the other side's text, or conflicts.

`merge3(base, ours, theirs)` is `ours` with the changes `base → theirs` in it. Both sides' changes
are computed against `base` (patches/model.py's hunks: every run of changed lines its own), so
they share one line numbering; they merge when their base ranges do not overlap (changes that
touch, one ending where the other begins, do merge: there is no line both change), or when both
sides made the very same change (it is taken once). Anything else is a conflict, reported with
the line in `theirs` where that change of theirs sits: it is never guessed.

The commit engine (review/staging.py) uses it with base = the file without the task's hunks,
ours = the file as HEAD has it, theirs = the file on disk now: the result is HEAD plus exactly
the task's hunks, whatever the user changed elsewhere (and nothing twice if HEAD has it already).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gdm.patches.model import compute_hunks, split_lines


@dataclass(frozen=True)
class _Change:
    start: int  # base lines [start, end) become `lines`
    end: int
    lines: tuple[str, ...]
    theirs: bool
    line: int = 0  # theirs: the 1-based line of `theirs` where it sits


@dataclass
class Merged:
    """The merged text, and the 1-based lines of `theirs` whose change conflicts with ours."""

    text: str
    conflicts: list[int] = field(default_factory=list)


def _changes(base: str, other: str, theirs: bool) -> list[_Change]:
    out, shift = [], 0
    for hunk in compute_hunks(base, other):
        end = hunk.old_start + len(hunk.old_lines)
        out.append(_Change(hunk.old_start, end, tuple(hunk.new_lines), theirs, hunk.old_start + shift + 1))
        shift += len(hunk.new_lines) - len(hunk.old_lines)
    return out


def _clash(a: _Change, b: _Change) -> bool:
    """Whether two changes of base lines cannot both be made (overlap, or insert at one place)."""
    if a.start == a.end == b.start == b.end:
        return True
    return a.start < b.end and b.start < a.end


def merge3(base: str, ours: str, theirs: str) -> Merged:
    """`ours` with the changes `base → theirs` in it; conflicting changes of theirs are left out
    and listed (the text is then not to be used)."""
    mine, yours = _changes(base, ours, False), _changes(base, theirs, True)
    conflicts: list[int] = []
    kept: list[_Change] = list(mine)
    for change in yours:
        clashing = [m for m in mine if _clash(m, change)]
        if not clashing:
            kept.append(change)
        elif not any((m.start, m.end, m.lines) == (change.start, change.end, change.lines) for m in clashing):
            conflicts.append(change.line)
    lines = split_lines(base)
    out: list[str] = []
    pos = 0
    for change in sorted(kept, key=lambda c: (c.start, c.end)):
        out.extend(lines[pos:change.start])
        out.extend(change.lines)
        pos = change.end
    out.extend(lines[pos:])
    return Merged("".join(out), conflicts)
