"""Find a hunk again in text the user may have changed since the patch was made.

Its `old_lines` must match exactly; its context may have moved (lines added or removed above),
changed in whitespace, or been edited, as long as the place stays unambiguous. Context lines
weigh by how rare they are in the file (context.py). What cannot be placed raises NotFound with a reason a
person can read: it is never merged by guesswork. (apply.py turns placements into edits.)
"""

from __future__ import annotations

import math

from gdm.patches.context import CONTEXT_SLACK, Context
from gdm.patches.model import CONTEXT, Hunk

MAX_ANCHOR_REPEATS = 50  # context lines more frequent than this cannot anchor an insertion alone
EVIDENCE = 0.99  # a context block weighs as much as one line found once in the file: it points somewhere


class NotFound(Exception):
    """A hunk has no place in the current text; the message is the Conflict reason."""


def _aligned(hunk: Hunk, ctx: Context, block: list[str], offset) -> set[int]:
    """Positions where the rarest line of `block` would sit if the block stood there whole;
    `offset(k)` maps the index of that line in the block to its distance from the position."""
    if not block:
        return set()
    k, want = min(enumerate(block), key=lambda item: ctx.freq[ctx.n(item[1])])
    return {i - offset(k) for i in ctx.where.get(ctx.n(want), [])}


def _full_insertions(hunk: Hunk, ctx: Context, lo: int) -> list[int]:
    """Insertion points where the whole context stands as it stood in the base."""
    if hunk.before:
        places = _aligned(hunk, ctx, hunk.before, lambda k: k - len(hunk.before))
    else:
        places = _aligned(hunk, ctx, hunk.after, lambda k: k)
    total = len(hunk.before) + len(hunk.after)
    return sorted(p for p in places if lo <= p <= len(ctx.lines) and ctx.positional(hunk, p)[0] == total)


def _full_replacements(hunk: Hunk, ctx: Context, lo: int) -> tuple[list[int], list[int]]:
    """Where the old lines stand (at `lo` or later), and of those the places where the whole
    context stands around them as it stood in the base."""
    lines = ctx.lines
    cands = [p for p in ctx.exact.get(hunk.old_lines[0], [])
             if p >= lo and lines[p:p + len(hunk.old_lines)] == hunk.old_lines]
    # a full fit has every context line in place, the rarest one included: look only there
    aligned = (_aligned(hunk, ctx, hunk.before, lambda k: k - len(hunk.before)) if hunk.before
               else _aligned(hunk, ctx, hunk.after, lambda k: k + len(hunk.old_lines)) if hunk.after
               else set(cands))
    total = len(hunk.before) + len(hunk.after)
    return cands, [p for p in cands if p in aligned and ctx.positional(hunk, p)[0] == total]


def _counted(hunk: Hunk, ctx: Context, full: list[int], chosen: int, anchor: tuple[int, int] | None) -> None:
    """Refuse `chosen`, the look-alike full fit nearest where `anchor` (a line found once in both
    texts, base index and current index) puts the hunk, when the base had look-alike fits between
    that line and the hunk and a different number stand between it and `chosen` now: the user
    typed between them (more than a look-alike block is long, the anchor's distance then points at
    a neighbour of the hunk's own block), or added or removed look-alikes there. Either way
    nothing tells which look-alike is the hunk's."""
    if anchor is None or len(full) < 2:
        return
    base_line, line = anchor
    own = hunk.old_start
    base_ctx = ctx.base_context()
    base_full = (_full_replacements(hunk, base_ctx, 0)[1] if hunk.old_lines
                 else _full_insertions(hunk, base_ctx, 0))
    want = _between(base_full, base_line, own)
    if want and ((chosen > line) != (own > base_line) or _between(full, line, chosen) != want):
        shown = ", ".join(str(q + 1) for q in full)
        raise NotFound(f"ambiguous: its text and context stand at lines {shown}, and the nearest line found once "
                       f"(line {line + 1}) had {want} look-alike(s) of it between them; which one is its own "
                       f"cannot be told")


def _drifted(hunk: Hunk, ctx: Context, full: list[int], chosen: int, expected: int,
             anchor: tuple[int, int] | None) -> None:
    """Refuse `chosen`, the look-alike full fit nearest `expected`, when no anchor line corrected
    `expected` and a line diff of the base and the current text puts the hunk nearer another
    look-alike: two guesses, the drift of the hunk before it and the diff, disagree on which is its
    own (five like blocks, nine lines added above the fifth: the drift points at the fourth)."""
    if anchor is not None or len(full) < 2 or ctx.base_text is None:
        return
    guess = ctx.mapped(hunk.old_start - len(hunk.before)) + len(hunk.before)
    nearest = min(full, key=lambda q: abs(q - guess))
    if abs(chosen - guess) != abs(nearest - guess) or sum(abs(q - guess) == abs(nearest - guess) for q in full) > 1:
        shown = ", ".join(str(q + 1) for q in full)
        raise NotFound(f"ambiguous: its text and context stand at lines {shown}; the lines added and "
                       f"removed above it point at line {chosen + 1} or at line {nearest + 1}, and no "
                       f"line found once near it tells which")


def _between(places: list[int], a: int, b: int) -> int:
    return sum(1 for q in places if min(a, b) < q < max(a, b))


def _reach(hunk: Hunk, ctx: Context, lo: int) -> list[int]:
    """Insertion points with at least one telling context line within reach."""
    reach: set[int] = set()
    width, span = len(hunk.before) + CONTEXT_SLACK, len(hunk.after) + CONTEXT_SLACK
    for block, lo_off, hi_off in ((hunk.before, 1, width + 1), (hunk.after, 1 - span, 1)):
        for want in block:
            where = ctx.where.get(ctx.n(want), [])
            if len(where) <= MAX_ANCHOR_REPEATS:  # a line seen everywhere (blank, "}") tells nothing
                for i in where:
                    reach.update(range(i + lo_off, i + hi_off))
    return sorted(p for p in reach if lo <= p <= len(ctx.lines))


def _nearest(positions: list[int], expected: int, what: str) -> int:
    best = min(abs(p - expected) for p in positions)
    closest = [p for p in positions if abs(p - expected) == best]
    if len(closest) > 1:
        shown = ", ".join(str(p + 1) for p in closest)
        raise NotFound(f"ambiguous: {what} fits equally well at lines {shown}")
    return closest[0]


def _edge_places(hunk: Hunk, n: int) -> list[int]:
    """Where the old lines start if the hunk touches the start (end) of a file of n lines as it did
    in the base, where it had less than CONTEXT lines before (after) it."""
    places = [len(hunk.before)] if len(hunk.before) < CONTEXT else []
    if len(hunk.after) < CONTEXT and n - len(hunk.old_lines) - len(hunk.after) >= 0:
        places.append(n - len(hunk.old_lines) - len(hunk.after))
    return places


def _at_its_edge(hunk: Hunk, p: int, n: int) -> bool:
    """Whether a fit at p touches the file's edge as the hunk did: of look-alike fits, the hunk's."""
    return p in _edge_places(hunk, n)


def _distinctive(old: list[str]) -> bool:
    # a unique copy of a real line of code is an anchor by itself; a lone "}" or blank line is not
    return any(len("".join(line.split())) >= 6 for line in old)


def _edge(hunk: Hunk, lines: list[str]) -> int | None:
    """Insertions at the start or end of the file anchor to that edge."""
    if hunk.old_lines:
        return None
    if not hunk.before and not hunk.after:
        if lines:
            raise NotFound("the file is no longer empty")
        return 0
    if not hunk.before and hunk.old_start == 0:
        return 0
    if not hunk.after:
        if lines and not lines[-1].endswith("\n"):
            raise NotFound("the file's last line no longer ends with a newline")
        return len(lines)
    return None


def locate_hunk(hunk: Hunk, current_lines: list[str], expected: int, lo: int = 0) -> int | None:
    """Where `hunk.old_lines` start in `current_lines` (0-based), or None if there is no safe place.

    `expected` is where it should be (old_start shifted by the drift of earlier hunks); candidates
    start at `lo` or later. See `_locate` for the rules.
    """
    try:
        return locate(hunk, Context(current_lines), expected, lo)
    except NotFound:
        return None


def locate(hunk: Hunk, ctx: Context, expected: int, lo: int) -> int:
    """Rules: old_lines must match exactly. If the whole context also fits somewhere, the fit at the
    file's edge the hunk touched wins, else the fit nearest to `expected` as a line found once in
    both texts next to the hunk corrects it (`Context.anchored`), unless look-alike fits between
    that line and the hunk say otherwise (`_counted`); an insertion likewise. Otherwise the one
    best partial fit wins if at least half the context (one line for an insertion) is still found near it; a block
    found once and made of real code lines stands without context. Either way, a place where the
    hunk's context still stands whole but its old lines do not (the user edited inside the hunk)
    vetoes a weaker fit elsewhere. Without such a line, a line diff of the two texts must point at
    the same look-alike as the drift (`_drifted`)."""
    lines = ctx.lines
    edge = _edge(hunk, lines)
    if edge is not None:
        if edge < lo:
            raise NotFound("its place is inside a change applied before it")
        return edge
    expected, anchor = ctx.anchored(hunk, expected, lo)
    span = f"lines {expected + 1}-{expected + max(1, len(hunk.old_lines))}"
    total = len(hunk.before) + len(hunk.after)
    if not hunk.old_lines:
        full = _full_insertions(hunk, ctx, lo)
        if full:
            edge = [q for q in full if _at_its_edge(hunk, q, len(lines))]
            if edge:  # it touched the file's start or end (less than CONTEXT lines there): of look-alikes, that one
                return edge[0]
            p = _nearest(full, expected, "its context")
            if 2 * abs(p - expected) > len(hunk.before) + len(hunk.after) + CONTEXT_SLACK:
                _rival(hunk, ctx, [q for q in _reach(hunk, ctx, lo) if q not in full], p, expected)
            _counted(hunk, ctx, full, p, anchor)
            _drifted(hunk, ctx, full, p, expected, anchor)
            return p
        cands = _reach(hunk, ctx, lo)
        if not cands:
            raise NotFound(f"context no longer matches: cannot find where to insert (around {span})")
    else:
        cands, full = _full_replacements(hunk, ctx, lo)
        if not cands:
            raise NotFound(f"the lines it replaces were changed (expected at {span})")
        if full:
            edge = [q for q in full if _at_its_edge(hunk, q, len(lines))]
            p = edge[0] if edge else _nearest(full, expected, "its text and context")
            _veto(hunk, ctx, cands, p, lo, lambda q, _b, _a: abs(q - expected) < abs(p - expected))
            if not edge:
                _rival(hunk, ctx, [q for q in cands if q not in full], p, expected)
                _counted(hunk, ctx, full, p, anchor)
                _drifted(hunk, ctx, full, p, expected, anchor)
            return p
    scored = []
    for p in cands:
        pos_weight = ctx.positional(hunk, p)[1]
        near, near_weight = ctx.nearby(hunk, p)
        # equal weights: the place whose context lines right next to it are in place is the hunk's
        scored.append(((round(pos_weight + near_weight, 9), _adjacent(hunk, ctx, p)), near, p))
    scored.sort(reverse=True)
    key, near, p = scored[0]
    unique_best = len(scored) == 1 or scored[1][0] < key
    needed = math.ceil(total / 2) if hunk.old_lines else 1
    if (unique_best and near >= needed) or (len(cands) == 1 and _distinctive(hunk.old_lines)):
        if hunk.old_lines:
            mine = ctx.sides(hunk, p)
            _veto(hunk, ctx, cands, p, lo,
                  lambda _q, b, a: (b or 0.0) > (mine[0] or 0.0) or (a or 0.0) > (mine[1] or 0.0))
        return p
    if near == 0:
        raise NotFound(f"context no longer matches: the lines around {span} changed")
    raise NotFound(f"ambiguous: context around {span} changed and it fits at several places")


def _adjacent(hunk: Hunk, ctx: Context, p: int) -> int:
    """How many of the two context lines touching the hunk (the last before, the first after) sit
    right next to a block at p."""
    end = p + len(hunk.old_lines)
    found = bool(hunk.before) and p > 0 and ctx.norm[p - 1] == ctx.n(hunk.before[-1])
    return found + (bool(hunk.after) and end < len(ctx.lines) and ctx.norm[end] == ctx.n(hunk.after[0]))


def _rival(hunk: Hunk, ctx: Context, partial: list[int], chosen: int, expected: int) -> None:
    """Refuse a full fit at `chosen` when a place nearer to where the hunk belongs holds its old
    lines with at least half its context around them: that is the hunk's own place whose context
    the user edited (often a neighbouring hunk's lines, which one change per hunk puts in the
    context), and the full fit is a look-alike elsewhere. Places within reach of the full fit's own
    context are that same place seen off by a line, not a rival."""
    total = len(hunk.before) + len(hunk.after)
    if 2 * abs(chosen - expected) <= total + CONTEXT_SLACK:
        return  # a place nearer than `chosen` would be within reach of its context: none is a rival
    needed = max(1, math.ceil(total / 2))
    for q in partial:
        if abs(q - chosen) <= total + CONTEXT_SLACK or abs(q - expected) >= abs(chosen - expected):
            continue
        if ctx.nearby(hunk, q)[0] >= needed:
            raise NotFound(f"ambiguous: its context stands whole at line {chosen + 1}, but line {q + 1}, "
                           f"nearer its place, holds its lines with part of its context (edited there?)")


def _veto(hunk: Hunk, ctx: Context, cands: list[int], chosen: int, lo: int, stronger) -> None:
    """Refuse `chosen` if the hunk's context stands whole (on a side) around a place whose old lines
    changed and `stronger(q, before_weight, after_weight)` says that place has the better claim.

    A place whose whole span (context and the lines between) already stood as it is in the base
    text is another place that shares some context, not the hunk's own place edited by the user:
    it vetoes nothing (real files repeat a few lines before similar blocks; drift then makes such
    a place look nearer than the hunk's true one)."""
    taken = set(cands)
    for q in _edge_places(hunk, len(ctx.lines)):
        # the file's edge is an anchor of its own: context whole there, old lines not = edited there
        if q != chosen and q >= lo and q not in taken and None not in (
                ctx.side(hunk.before, q - len(hunk.before)), ctx.side(hunk.after, q + len(hunk.old_lines))):
            raise NotFound(f"the lines it replaces were changed: its context is still at line {q + 1}, "
                           f"where the file {'starts' if q == len(hunk.before) else 'ends'}, "
                           f"but not the lines between (found a weaker fit at line {chosen + 1})")
    places = _aligned(hunk, ctx, hunk.before, lambda k: k - len(hunk.before))
    places |= _aligned(hunk, ctx, hunk.after, lambda k: k + len(hunk.old_lines))
    for q in sorted(places):
        if q < lo or q in taken:
            continue
        sides = ctx.sides(hunk, q)
        # context whole on both sides is evidence however common its lines are (look-alike blocks)
        both = bool(hunk.before and hunk.after) and None not in sides
        before, after = (w if w is not None and (w >= EVIDENCE or both) else None for w in sides)
        span = ctx.lines[max(0, q - len(hunk.before)):q + len(hunk.old_lines) + len(hunk.after)]
        if (before is not None or after is not None) and stronger(q, before, after) and not ctx.in_base(span):
            raise NotFound(f"the lines it replaces were changed: its context is still around line {q + 1}, "
                            f"but not the lines between (found a weaker fit at line {chosen + 1})")
