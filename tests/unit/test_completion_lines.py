"""LineStarts: the offset of a line's start, as LSP counts lines, with the last one reused."""

from __future__ import annotations

import random
import re

from gdm.completions.lines import LineStarts


def starts_by_splitting(text: str) -> list[int]:
    """Every line start, LSP's way: only \\n, \\r\\n and \\r end a line (not \\u2028 as splitlines has it)."""
    out = [0]
    for line in re.split(r"(?<=\r\n)|(?<=\r)(?!\n)|(?<=\n)", text)[:-1]:
        out.append(out[-1] + len(line))
    return out


def test_every_line_start_matches_splitting_and_the_line_past_the_end_is_none():
    for text in ["", "a", "a\n", "a\nbc\n\nd", "x\r\ny\r\n", "x\ry\rz", "é😋\n\u2028still one line\n"]:
        starts = LineStarts()
        expected = starts_by_splitting(text)
        for line, start in enumerate(expected):
            assert starts.line_start("u", text, line) == start, (text, line)
        assert starts.line_start("u", text, len(expected)) is None
        assert starts.line_start("u", text, -1) is None


def test_the_hint_is_reused_only_while_the_text_before_it_is_unchanged():
    rnd = random.Random(3)
    text = "".join(f"line {i} {'x' * rnd.randrange(5)}\n" for i in range(300))
    starts = LineStarts()
    for _ in range(500):
        at = rnd.randrange(len(text) + 1)
        if rnd.random() < 0.3:
            text = text[:at] + "\n" + text[at:]  # a new line, before or after the last hint
        else:
            text = text[:at] + rnd.choice("ab") + text[at:]
        expected = starts_by_splitting(text)
        line = rnd.randrange(len(expected))
        assert starts.line_start("u", text, line) == expected[line]
