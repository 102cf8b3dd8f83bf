"""The patch model: hunks, statuses, unified diffs rendered with difflib and parsed with unidiff."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gdm.patches.model import (FilePatch, Hunk, HunkStatus, PatchKind, PatchStatus, apply_to_base, make_patch,
                               parse_diff, render_diff, sha256_text, split_lines)
from gdm.patches.risk import Risk, RiskReason, Tier

BASE = "".join(f"line {i}\n" for i in range(20))


def mk(base: str = BASE, new: str | None = None, **kw) -> FilePatch:
    new = BASE.replace("line 2\n", "LINE 2\n").replace("line 15\n", "") if new is None else new
    return make_patch(patch_id="p1", task_id="t1", path="src/a.py", base_text=base, new_text=new, **kw)


def test_make_patch_fields_and_hunks():
    patch = mk(base_version=7)
    assert (patch.id, patch.task_id, patch.path, patch.kind, patch.base_version) == (
        "p1", "t1", "src/a.py", PatchKind.MODIFY, 7)
    assert patch.base_hash == sha256_text(BASE)
    assert patch.created_at.endswith("+00:00")
    assert patch.hunks == [
        Hunk(0, 2, ["line 2\n"], ["LINE 2\n"], ["line 0\n", "line 1\n"], ["line 3\n", "line 4\n", "line 5\n"]),
        Hunk(1, 15, ["line 15\n"], [], ["line 12\n", "line 13\n", "line 14\n"],
             ["line 16\n", "line 17\n", "line 18\n"]),
    ]


def test_every_change_is_its_own_hunk_with_context_cut_at_its_neighbour():
    # issue 15 replaced the old contract (nearby changes merged like `diff -u`): one hunk per change
    new = BASE.replace("line 5\n", "five\n").replace("line 7\n", "seven\n").replace("line 8\n", "")
    first, second = mk(new=new).hunks
    assert (first.index, first.old_start, first.old_lines, first.new_lines) == (0, 5, ["line 5\n"], ["five\n"])
    assert first.before == ["line 2\n", "line 3\n", "line 4\n"] and first.after == ["line 6\n"]
    assert (second.index, second.old_start, second.old_lines, second.new_lines) == (
        1, 7, ["line 7\n", "line 8\n"], ["seven\n"])
    assert second.before == ["line 6\n"] and second.after == ["line 9\n", "line 10\n", "line 11\n"]
    diff = mk(new=new).diff()
    assert diff.count("@@ -") == 2 and "@@ -3,5 +3,5 @@\n" in diff and "@@ -7,6 +7,5 @@\n line 6\n" in diff
    assert parse_diff(diff) == mk(new=new).hunks


def test_a_merged_section_of_diff_u_parses_into_one_hunk_per_change():
    merged = ("--- a/f\n+++ b/f\n@@ -1,9 +1,9 @@\n a\n-b\n+B\n c\n d\n e\n f\n g\n-h\n+H\n i\n")
    one, two = parse_diff(merged)
    assert (one.old_start, one.before, one.after) == (1, ["a\n"], ["c\n", "d\n", "e\n"])
    assert (two.index, two.old_start, two.before, two.after) == (1, 7, ["e\n", "f\n", "g\n"], ["i\n"])


def test_sha256_text():
    assert sha256_text("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_split_lines_breaks_after_newline_only():
    assert split_lines("a\r\nb\x0cc\u2028d\ne") == ["a\r\n", "b\x0cc\u2028d\n", "e"]
    assert split_lines("") == [] and split_lines("\n") == ["\n"]


def test_status_follows_hunks():
    patch = mk()
    assert patch.status is PatchStatus.PENDING
    patch.hunks[0].status = HunkStatus.ACCEPTED
    assert patch.status is PatchStatus.PARTIAL and patch.pending_hunks() == [patch.hunks[1]]
    patch.hunks[1].status = HunkStatus.REJECTED
    assert patch.status is PatchStatus.ACCEPTED
    patch.hunks[0].status = HunkStatus.REJECTED
    assert patch.status is PatchStatus.REJECTED


def test_diff_headers_and_body():
    assert mk().diff() == (
        "--- a/src/a.py\n+++ b/src/a.py\n"
        "@@ -1,6 +1,6 @@\n line 0\n line 1\n-line 2\n+LINE 2\n line 3\n line 4\n line 5\n"
        "@@ -13,7 +13,6 @@\n line 12\n line 13\n line 14\n-line 15\n line 16\n line 17\n line 18\n")


def test_create_and_delete_use_dev_null():
    create = make_patch(patch_id="c", task_id="t", path="n.py", base_text="", new_text="x\n", kind=PatchKind.CREATE)
    assert create.diff() == "--- /dev/null\n+++ b/n.py\n@@ -0,0 +1 @@\n+x\n"
    delete = make_patch(patch_id="d", task_id="t", path="n.py", base_text="x\n", new_text="", kind="delete")
    assert delete.kind is PatchKind.DELETE
    assert delete.diff() == "--- a/n.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n"
    with pytest.raises(ValueError):
        make_patch(patch_id="c", task_id="t", path="n.py", base_text="x", new_text="y", kind=PatchKind.CREATE)


def test_diff_only_pending_goes_from_the_reviewed_text():
    patch = mk()
    patch.hunks[0].status = HunkStatus.ACCEPTED
    pending = patch.diff(only_pending=True)
    assert "line 2" not in pending and "-line 15" in pending
    patch.hunks[1].status = HunkStatus.REJECTED
    assert patch.diff(only_pending=True) == ""


def test_no_newline_marker_crlf_and_empty():
    assert render_diff("f", "a\nb", "a\nc") == (
        "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n"
        "\\ No newline at end of file\n")
    crlf = render_diff("f", "a\r\nb\r\n", "a\r\nB\r\n")
    assert "-b\r\n+B\r\n" in crlf
    assert parse_diff(crlf)[0].new_lines == ["B\r\n"]
    assert render_diff("f", "", "") == "" and parse_diff("") == []


def test_pure_insertion_and_pure_deletion_hunks():
    ins, = mk(new=BASE.replace("line 9\n", "line 9\nnew\n")).hunks
    assert (ins.old_start, ins.old_lines, ins.new_lines) == (10, [], ["new\n"])
    dele, = mk(new=BASE.replace("line 9\n", "")).hunks
    assert (dele.old_start, dele.old_lines, dele.new_lines) == (9, ["line 9\n"], [])
    for patch in (mk(new=BASE.replace("line 9\n", "line 9\nnew\n")), mk(new=BASE.replace("line 9\n", ""))):
        assert parse_diff(patch.diff()) == patch.hunks


def test_parse_diff_refuses_several_files():
    two = render_diff("a", "x\n", "y\n") + render_diff("b", "x\n", "y\n")
    with pytest.raises(ValueError):
        parse_diff(two)


def test_to_dict_round_trips_with_risk_through_json():
    patch = mk(base_version=3)
    patch.hunks[1].status = HunkStatus.REJECTED
    patch.risk = Risk(score=0.31, tier=Tier.MEDIUM, reasons=[RiskReason("size", 0.06, "2 lines changed")])
    data = json.loads(json.dumps(patch.to_dict()))
    assert data["status"] == "partial"
    assert FilePatch.from_dict(data) == patch
    patch.risk = None
    assert FilePatch.from_dict(json.loads(json.dumps(patch.to_dict()))) == patch


LINES = st.lists(st.sampled_from(["a\n", "b\n", "c\r\n", "\n", "  d\n", "-- e\n", "+++ f\n", "@@ g\n",
                                  "\\ h\n", "ü😀\n", "x\x0cy\n", "z\u2028\n"]), max_size=30)


def texts() -> st.SearchStrategy[str]:
    return st.builds(lambda lines, tail: "".join(lines) + tail, LINES, st.sampled_from(["", "end", "\r"]))


@settings(max_examples=400, deadline=None)
@given(old=texts(), new=texts(), kind=st.sampled_from([PatchKind.MODIFY, PatchKind.CREATE, PatchKind.DELETE]))
def test_parse_of_render_gives_make_patch_hunks(old, new, kind):
    old = "" if kind is PatchKind.CREATE else old
    new = "" if kind is PatchKind.DELETE else new
    patch = mk(base=old, new=new, kind=kind)
    assert parse_diff(render_diff("p/q.py", old, new, kind)) == patch.hunks
    assert apply_to_base(old, patch.hunks) == new
    assert FilePatch.from_dict(json.loads(json.dumps(patch.to_dict()))) == patch
