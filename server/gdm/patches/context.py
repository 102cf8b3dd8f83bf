"""How well a hunk's context fits at a place of the current text (locate.py decides the place).

A context line counts by how rare it is in the file; the base text (what the patch was made
against) tells look-alike places that were already there from places the user edited, and gives
the anchor lines: found once in both texts, they moved with the hunk.
"""

from __future__ import annotations

import difflib
from collections import Counter

from gdm.patches.model import Hunk, split_lines

CONTEXT_SLACK = 2  # extra lines searched around context that moved by a deleted/inserted line
ANCHOR_SCAN = 200  # base lines searched on each side of a hunk for a line found once in both texts


def _norm(line: str) -> str:
    # whitespace-only differences in context don't move a hunk
    return " ".join(line.split())


class Context:
    """Scores how well a hunk's context fits at a position of the current text.

    A context line counts 1 toward the match count, and 1/(its number of occurrences in the file)
    toward the weight: a matching "def load_config():" says far more than a matching blank line.
    `base_text`, the text the patch was made against, tells look-alike places that were already
    there from places the user edited (`in_base`).
    """

    def __init__(self, lines: list[str], base_text: str | None = None) -> None:
        self.lines = lines
        self.base_text = base_text
        self._base: tuple[list[str], dict[str, list[int]]] | None = None  # built on first use
        self._base_ctx: Context | None = None
        self._changes: list[tuple[str, int, int, int, int]] | None = None  # base -> current line diff, on first use
        self.norm = [_norm(line) for line in lines]
        self.freq = Counter(self.norm)
        self.where: dict[str, list[int]] = {}  # normalised line -> its line numbers, ascending
        self.exact: dict[str, list[int]] = {}
        for i, (line, normed) in enumerate(zip(lines, self.norm)):
            self.where.setdefault(normed, []).append(i)
            self.exact.setdefault(line, []).append(i)
        self._normed: dict[str, str] = {}

    def n(self, line: str) -> str:
        """`_norm(line)`, cached: the same context lines are compared at many positions."""
        normed = self._normed.get(line)
        if normed is None:
            normed = self._normed[line] = _norm(line)
        return normed

    def _base_index(self) -> tuple[list[str], dict[str, list[int]]]:
        if self._base is None:
            base = split_lines(self.base_text or "")
            where: dict[str, list[int]] = {}
            for i, line in enumerate(base):
                where.setdefault(line, []).append(i)
            self._base = base, where
        return self._base

    def in_base(self, block: list[str]) -> bool:
        """Whether `block` stands, line for line, somewhere in the base text."""
        if not block or self.base_text is None:
            return False
        base, where = self._base_index()
        k, line = min(enumerate(block), key=lambda item: len(where.get(item[1], ())))
        return any(base[b - k:b - k + len(block)] == block for b in where.get(line, ()) if b >= k)

    def anchored(self, hunk: Hunk, expected: int, lo: int) -> tuple[int, tuple[int, int] | None]:
        """Where the hunk's old lines should start, from the nearest line outside the hunk (context
        included) that occurs once in the base and once in the current text, at `lo` or later;
        `expected` if there is none within ANCHOR_SCAN lines. Such a line moved with the hunk
        unless the user typed between them: a far better guess than the drift of the previous hunk,
        which can be hundreds of lines away. Also returns that line (base index, current index)."""
        if self.base_text is None:
            return expected, None
        base, where = self._base_index()
        start = hunk.old_start - len(hunk.before)
        end = hunk.old_start + len(hunk.old_lines) + len(hunk.after)
        for d in range(1, ANCHOR_SCAN + 1):
            for i in (start - d, end - 1 + d):
                if 0 <= i < len(base) and len(where[base[i]]) == 1:
                    found = self.exact.get(base[i], ())
                    if len(found) == 1 and found[0] >= lo and self._with_a_neighbour(base, i, found[0]):
                        return hunk.old_start + found[0] - i, (i, found[0])
        return expected, None

    def mapped(self, line: int) -> int:
        """Where base line `line` stands in the current text by a line diff of the two (difflib; the
        first line of what replaced it if the user changed it; after lines typed before it): a
        second guess at a hunk's place, independent of the drift of the hunk before it. Itself a
        guess where blocks repeat."""
        if self._changes is None:
            base = self._base_index()[0]
            self._changes = difflib.SequenceMatcher(None, base, self.lines, autojunk=False).get_opcodes()
        for tag, i1, i2, j1, _j2 in self._changes:
            if i1 <= line < i2:  # an insertion (i1 == i2) holds no base line: the op after it does
                return j1 + (line - i1 if tag == "equal" else 0)
        return len(self.lines)

    def base_context(self) -> Context:
        """A Context over the base text (for the look-alikes that were already there)."""
        if self._base_ctx is None:
            self._base_ctx = Context(self._base_index()[0])
        return self._base_ctx

    def _with_a_neighbour(self, base: list[str], i: int, k: int) -> bool:
        """Whether base line i, found at k, still has a base neighbour beside it there: a lone copy of
        it pasted elsewhere (its own place deleted) would point far from the hunk."""
        return any(0 <= i + d < len(base) and 0 <= k + d < len(self.lines) and self.lines[k + d] == base[i + d]
                   for d in (-1, 1))

    def weight(self, normed: str) -> float:
        """1 / how often this (normalised) line occurs in the current text."""
        return 1.0 / max(1, self.freq[normed])

    def positional(self, hunk: Hunk, p: int) -> tuple[int, float]:
        """Context lines that sit exactly (modulo whitespace) where they sat in the base."""
        count, weight = 0, 0.0
        end = p + len(hunk.old_lines)
        pairs = [(p - k, want) for k, want in enumerate(reversed(hunk.before), start=1)]
        pairs += [(end + k, want) for k, want in enumerate(hunk.after)]
        for i, want in pairs:
            if 0 <= i < len(self.lines) and self.norm[i] == self.n(want):
                count, weight = count + 1, weight + self.weight(self.norm[i])
        return count, weight

    def nearby(self, hunk: Hunk, p: int) -> tuple[int, float]:
        """Context lines found near p in order, even if a line among them was added or deleted."""
        width = len(hunk.before) + CONTEXT_SLACK
        end = p + len(hunk.old_lines)
        c1, w1 = self._common(hunk.before, self.norm[max(0, p - width):p])
        c2, w2 = self._common(hunk.after, self.norm[end:end + len(hunk.after) + CONTEXT_SLACK])
        return c1 + c2, w1 + w2

    def side(self, block: list[str], start: int) -> float | None:
        """Weight of `block` if all of it sits at `start` (modulo whitespace), else None."""
        if start < 0 or start + len(block) > len(self.lines):
            return None
        if any(self.norm[start + k] != self.n(want) for k, want in enumerate(block)):
            return None
        return sum(self.weight(self.norm[start + k]) for k in range(len(block)))

    def sides(self, hunk: Hunk, p: int) -> tuple[float | None, float | None]:
        """Weights of the before and after blocks if each sits whole around a block at p."""
        before = self.side(hunk.before, p - len(hunk.before)) if hunk.before else None
        after = self.side(hunk.after, p + len(hunk.old_lines)) if hunk.after else None
        return before, after

    def _common(self, want: list[str], got: list[str]) -> tuple[int, float]:
        """Longest common subsequence: its length, and its greatest weight (context is <= 3 lines)."""
        a = [self.n(x) for x in want]
        count = [[0] * (len(got) + 1) for _ in range(len(a) + 1)]
        weight = [[0.0] * (len(got) + 1) for _ in range(len(a) + 1)]
        for i, x in enumerate(a):
            for j, y in enumerate(got):
                same = x == y
                count[i + 1][j + 1] = max(count[i][j + 1], count[i + 1][j], count[i][j] + same)
                weight[i + 1][j + 1] = max(weight[i][j + 1], weight[i + 1][j],
                                           weight[i][j] + (self.weight(y) if same else 0.0))
        return count[-1][-1], weight[-1][-1]
