"""The three-way line merge behind commits (patches/merge.py): both sides' changes when they do
not overlap (touching is fine), a change made on both sides taken once, overlaps reported with
the line of `theirs`, never guessed; and a property: independent changes always merge to both."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gdm.patches.merge import merge3

BASE = "".join(f"line {i}\n" for i in range(1, 11))


def edit(text: str, line: int, new: str) -> str:
    lines = text.splitlines(keepends=True)
    lines[line - 1] = new
    return "".join(lines)


def test_separate_and_touching_changes_merge():
    ours = edit(BASE, 2, "ours 2\n")
    theirs = edit(BASE, 8, "theirs 8\n")
    assert merge3(BASE, ours, theirs).text == edit(ours, 8, "theirs 8\n")
    touching = edit(BASE, 3, "theirs 3\n")  # right below ours' line 2
    merged = merge3(BASE, ours, touching)
    assert merged.conflicts == [] and merged.text == edit(ours, 3, "theirs 3\n")
    inserted = BASE.replace("line 3\n", "new a\nnew b\nline 3\n")  # an insertion right after ours' change
    assert merge3(BASE, ours, inserted).text == ours.replace("line 3\n", "new a\nnew b\nline 3\n")


def test_the_same_change_on_both_sides_is_taken_once():
    both = BASE.replace("line 5\n", "line 5\nadded\n")
    assert merge3(BASE, both, both) == merge3(BASE, both, BASE) and merge3(BASE, both, both).text == both


def test_overlapping_changes_are_conflicts_with_the_line_of_theirs():
    ours = edit(BASE, 5, "ours 5\n")
    theirs = BASE.replace("line 1\n", "top\nline 1\n").replace("line 5\n", "theirs 5\n")
    merged = merge3(BASE, ours, theirs)
    assert merged.conflicts == [6]  # line 5 of base is line 6 of theirs, after its insertion at the top
    at_one_place = merge3(BASE, BASE.replace("line 4\n", "line 4\nours\n"), BASE.replace("line 4\n", "line 4\nyours\n"))
    assert at_one_place.conflicts == [5]


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=3, max_value=30), st.data())
def test_changes_apart_merge_to_both(n, data):
    """Base lines distinct (in repeated text which copy changed is not knowable from text alone, for
    git as for gdm); ours changes a run of lines, theirs a later run (touching allowed)."""
    lines = [f"l{i}\n" for i in range(n)]
    a1 = data.draw(st.integers(min_value=0, max_value=n - 2))
    a2 = data.draw(st.integers(min_value=a1, max_value=n - 2))
    b1 = data.draw(st.integers(min_value=a2, max_value=n))  # touching (b1 == a2) merges too
    b2 = data.draw(st.integers(min_value=b1, max_value=n))
    ours_new = data.draw(st.lists(st.sampled_from(["x\n", "y\n"]), max_size=3))
    theirs_new = data.draw(st.lists(st.sampled_from(["p\n", "q\n"]), max_size=3))
    if a1 == a2 and not ours_new or b1 == b2 and not theirs_new:
        return  # no change on one side
    base = "".join(lines)
    ours = "".join(lines[:a1] + ours_new + lines[a2:])
    theirs = "".join(lines[:b1] + theirs_new + lines[b2:])
    merged = merge3(base, ours, theirs)
    if a2 == b1 and a1 == a2 and b1 == b2:  # two insertions at one place: a conflict, by design
        assert merged.conflicts
        return
    assert merged.conflicts == [], (base, ours, theirs)
    assert merged.text == "".join(lines[:a1] + ours_new + lines[a2:b1] + theirs_new + lines[b2:])
