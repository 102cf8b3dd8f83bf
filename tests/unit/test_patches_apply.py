"""Drift-tolerant apply: plain cases, one behaviour each."""

from __future__ import annotations

import pytest

from gdm.patches.apply import (ApplyResult, Conflict, TextEdit, apply_hunks, hunk_current_range, hunk_ranges,
                               locate_hunk, pending_view)
from gdm.patches.model import FilePatch, HunkStatus, make_patch, split_lines

# Blocks of repeated lines on purpose: the context, not the changed line, must place these hunks.
BASE = "".join(f"def f{i}():\n    return None\n\n" for i in range(12))


def patch_of(base: str, new: str) -> FilePatch:
    return make_patch(patch_id="p1", task_id="t1", path="src/m.py", base_text=base, new_text=new)


def two_hunks() -> tuple[FilePatch, str]:
    new = BASE.replace("def f1():\n    return None", "def f1():\n    return 1").replace(
        "def f9():\n    return None", "def f9():\n    return 9")
    patch = patch_of(BASE, new)
    assert len(patch.hunks) == 2
    return patch, new


def test_fast_path_on_the_base_text_uses_exact_positions():
    patch, new = two_hunks()
    result = apply_hunks(patch, BASE)
    assert result == ApplyResult(text=new, edits=[TextEdit(4, 0, 5, 0, "    return 1\n"),
                                                  TextEdit(28, 0, 29, 0, "    return 9\n")],
                                 applied=[0, 1], conflicts=[])


def test_lines_inserted_above_shift_the_edits():
    patch, new = two_hunks()
    result = apply_hunks(patch, "import os\nimport sys\n" + BASE)
    assert result.text == "import os\nimport sys\n" + new
    assert [(e.start_line, e.end_line) for e in result.edits] == [(6, 7), (30, 31)]


def test_lines_removed_above_shift_the_edits():
    patch, new = two_hunks()
    current = BASE.replace("def f0():\n    return None\n\n", "")
    result = apply_hunks(patch, current)
    assert result.conflicts == []
    assert result.text == new.replace("def f0():\n    return None\n\n", "")
    assert [(e.start_line, e.end_line) for e in result.edits] == [(1, 2), (25, 26)]


def test_edits_elsewhere_are_kept():
    patch, new = two_hunks()
    current = BASE.replace("def f5():", "def f5(x):").replace("def f11():", "def renamed():")
    result = apply_hunks(patch, current)
    assert result.text == new.replace("def f5():", "def f5(x):").replace("def f11():", "def renamed():")


def test_whitespace_change_in_context_is_tolerated():
    patch, new = two_hunks()
    # the only lines that tell f1's block from the others changed in whitespace only
    current = BASE.replace("def f1():", "   def f1():\t").replace("def f2():", "def  f2():")
    result = apply_hunks(patch, current)
    assert result.conflicts == []
    assert result.text == new.replace("def f1():", "   def f1():\t").replace("def f2():", "def  f2():")
    # a real change to those lines (not whitespace) leaves no way to tell the blocks apart
    current = BASE.replace("def f1():", "def g1():").replace("def f2():", "def g2():")
    assert apply_hunks(patch, current, [0]).applied == []


def test_context_edited_by_the_user_is_tolerated_when_unambiguous():
    base = "import os\n\ndef main():\n    value = compute_the_answer()\n    print(value)\n"
    patch = patch_of(base, base.replace("compute_the_answer()", "compute_the_answer(42)"))
    current = base.replace("import os", "import os, sys").replace("print(value)", "log(value)")
    result = apply_hunks(patch, current)
    assert result.conflicts == []
    assert result.text == current.replace("compute_the_answer()", "compute_the_answer(42)")


def test_user_edit_inside_the_hunk_is_a_conflict_with_a_reason():
    patch, new = two_hunks()
    current = BASE.replace("def f1():\n    return None", "def f1():\n    return 'user'")
    result = apply_hunks(patch, current)
    assert result.applied == [1]
    assert len(result.conflicts) == 1 and result.conflicts[0].hunk == 0
    assert "changed" in result.conflicts[0].reason
    assert result.text == new.replace("def f1():\n    return 1", "def f1():\n    return 'user'")


def test_ambiguous_place_is_a_conflict():
    base = "a\nb\nc\nX\nd\ne\nf\n" + "filler\n" * 20
    patch = patch_of(base, base.replace("X\n", "Y\n"))
    # the user destroyed the context and made the old line appear twice
    current = "q\nX\nr\n" + "filler\n" * 5 + "s\nX\nt\n"
    result = apply_hunks(patch, current)
    assert result.applied == []
    assert result.conflicts[0].hunk == 0


def test_per_hunk_accept_leaves_the_other_hunk_untouched():
    patch, new = two_hunks()
    result = apply_hunks(patch, BASE, [1])
    assert result.applied == [1]
    assert "def f1():\n    return None" in result.text
    assert "def f9():\n    return 9" in result.text
    assert len(result.edits) == 1


def test_non_pending_and_unknown_indices_are_conflicts():
    patch, _ = two_hunks()
    patch.hunks[0].status = HunkStatus.ACCEPTED
    result = apply_hunks(patch, BASE, [0, 1, 7])
    assert result.applied == [1]
    assert result.conflicts == [Conflict(0, "hunk 0 is already accepted"), Conflict(7, "no hunk 7")]
    patch.hunks[1].status = HunkStatus.REJECTED
    assert apply_hunks(patch, BASE, [1]).conflicts == [Conflict(1, "hunk 1 is already rejected")]
    assert apply_hunks(patch, BASE).applied == []  # None = pending only: nothing left


def test_accepting_the_second_hunk_after_the_first_was_applied():
    patch, new = two_hunks()
    first = apply_hunks(patch, BASE, [0])
    patch.hunks[0].status = HunkStatus.ACCEPTED
    second = apply_hunks(patch, first.text, [1])
    assert second.text == new


def test_crlf_file():
    base = BASE.replace("\n", "\r\n")
    new = base.replace("f3():\r\n    return None", "f3():\r\n    return 3")
    patch = patch_of(base, new)
    result = apply_hunks(patch, "# header\r\n" + base)
    assert result.text == "# header\r\n" + new
    assert result.edits == [TextEdit(11, 0, 12, 0, "    return 3\r\n")]


def test_no_trailing_newline_end_of_range_is_last_line_length():
    base = "first\nsecond\nlast line"
    patch = patch_of(base, "first\nsecond\nLAST")
    result = apply_hunks(patch, base)
    assert result.edits == [TextEdit(2, 0, 2, 9, "LAST")]
    assert result.text == "first\nsecond\nLAST"


def test_emoji_on_the_last_line_counts_utf16_units():
    base = "x = 1\ny = 2\nprint('😀 ok')"
    patch = patch_of(base, "x = 1\ny = 3\nprint('😀 ok')")
    assert patch.hunks[0].old_lines == ["y = 2\n"]
    patch = patch_of(base, "x = 1\ny = 2\nprint('😀 fine')")
    edit = apply_hunks(patch, "# top\n" + base).edits[0]
    assert (edit.start_line, edit.start_char, edit.end_line) == (3, 0, 3)
    assert edit.end_char == len("print('😀 ok')") + 1  # the emoji is two UTF-16 units


def test_adding_a_final_newline_and_appending():
    base = "a\nb"
    patch = patch_of(base, "a\nb\nc\n")
    result = apply_hunks(patch, "top\n" + base)
    assert result.text == "top\na\nb\nc\n"
    assert result.edits == [TextEdit(2, 0, 2, 1, "b\nc\n")]


def test_insertions_at_file_edges_anchor_to_the_edge():
    base = "one\ntwo\nthree\nfour\n"
    top = patch_of(base, "zero\n" + base)
    assert apply_hunks(top, "ONE\ntwo\nthree\nfour\n").text == "zero\nONE\ntwo\nthree\nfour\n"
    end = patch_of(base, base + "five\n")
    assert apply_hunks(end, base + "extra\n").text == base + "extra\nfive\n"
    assert "newline" in apply_hunks(end, base + "tail").conflicts[0].reason


def test_insertion_in_the_middle_needs_its_context():
    base = "".join(f"line {i}\n" for i in range(10))
    patch = patch_of(base, base.replace("line 5\n", "new\nline 5\n"))
    assert patch.hunks[0].old_lines == []
    shifted = "head\n" + base
    assert apply_hunks(patch, shifted).text == "head\n" + base.replace("line 5\n", "new\nline 5\n")
    gone = "".join(f"other {i}\n" for i in range(10))
    result = apply_hunks(patch, gone)
    assert result.applied == [] and "context" in result.conflicts[0].reason


def test_create_patch_on_an_empty_or_missing_file_and_refused_on_a_non_empty_one():
    patch = make_patch(patch_id="c", task_id="t", path="new.py", base_text="", new_text="print(1)\n",
                       kind="create")
    result = apply_hunks(patch, "")
    assert result.text == "print(1)\n" and result.edits == [TextEdit(0, 0, 0, 0, "print(1)\n")]
    assert apply_hunks(patch, "someone else's\n").conflicts[0].reason == "hunk 0: the file is no longer empty"


def test_delete_patch_empties_the_file():
    base = "a\nb\n"
    patch = make_patch(patch_id="d", task_id="t", path="old.py", base_text=base, new_text="", kind="delete")
    result = apply_hunks(patch, base)
    assert result.text == "" and result.edits == [TextEdit(0, 0, 2, 0, "")]


def test_lone_carriage_return_positions_follow_lsp_lines():
    base = "a\rb\nc\nd\n"  # an LSP client sees lines a, b, c, d
    patch = patch_of(base, "a\rb\nc\nD\n")
    result = apply_hunks(patch, base)
    assert result.edits == [TextEdit(3, 0, 4, 0, "D\n")]
    assert hunk_current_range(patch, patch.hunks[0], base) == (3, 4)


def test_pending_view_shows_pending_hunks_only():
    patch, new = two_hunks()
    assert pending_view(patch, BASE) == new
    patch.hunks[0].status = HunkStatus.REJECTED
    assert pending_view(patch, BASE) == BASE.replace("def f9():\n    return None", "def f9():\n    return 9")


def test_hunk_current_range_follows_drift_and_reports_lost_hunks():
    patch, _ = two_hunks()
    assert hunk_current_range(patch, patch.hunks[1], BASE) == (28, 29)
    assert hunk_current_range(patch, patch.hunks[1], "x\ny\n" + BASE) == (30, 31)
    edited = BASE.replace("def f9():\n    return None", "def f9():\n    return 'mine'")
    assert hunk_current_range(patch, patch.hunks[1], edited) is None


@pytest.mark.parametrize("expected, found", [(0, 3), (20, 3)])
def test_locate_hunk_finds_a_unique_block_anywhere(expected, found):
    patch = patch_of("a\nb\nc\nimportant = call()\nd\n", "a\nb\nc\nimportant = call(1)\nd\n")
    current = split_lines("x\ny\nz\nimportant = call()\nw\n")
    assert locate_hunk(patch.hunks[0], current, expected) == found


def test_locate_hunk_prefers_the_match_nearest_the_expected_place():
    # the fourth of six look-alike blocks: its full context stands in every block but the edges
    base = "".join("block\n    same\nend\n" for _ in range(6))
    patch = patch_of(base, base[:57] + base[57:].replace("same", "changed", 1))
    hunk = patch.hunks[0]
    assert (hunk.old_lines, len(hunk.before), len(hunk.after)) == (["    same\n"], 3, 3)
    lines = split_lines(base)
    assert locate_hunk(hunk, lines, hunk.old_start) == hunk.old_start
    assert locate_hunk(hunk, lines, hunk.old_start + 3) == hunk.old_start + 3
    assert locate_hunk(hunk, lines, hunk.old_start - 3) == hunk.old_start - 3


def test_an_insertion_at_the_files_edge_stays_at_that_edge_among_look_alikes():
    # Found by the look-alike property test: an insertion with less than 3 lines of context after
    # it touched the file's end; when an earlier hunk of its patch was refused, the drift it should
    # have taught was missing and the nearest look-alike block (not the file's end) took it.
    base = "".join(f"def block_{i}():\n" + "".join(f"    {k} alpha\n" for k in range(11)) + "\n" for i in range(3))
    patch = patch_of(base, base[:-1] + "patch_2 alpha\n\n")
    hunk = patch.hunks[0]
    assert (hunk.old_lines, len(hunk.after)) == ([], 1)
    current = base.replace("    8 alpha\n", "user alpha\n    8 alpha\n", 2).replace(
        "def block_2():\n", "".join(f"typed_{k}\n" for k in range(8)) + "def block_2():\n")
    lines = split_lines(current)
    # expected where the base had it: nearer block_1's end than the file's end
    assert locate_hunk(hunk, lines, hunk.old_start) == len(lines) - 1
    # and at its start: an insertion with less than 3 lines before it
    patch = patch_of(base, "# header\n" + base)
    hunk = patch.hunks[0]
    assert locate_hunk(hunk, split_lines(current), 20) == 0


def test_edit_inside_the_hunk_does_not_move_it_to_a_look_alike_block():
    base = ("def load():\n    data = read_config()\n    return data\n\n\n"
            "def other():\n    x = 1\n    y = 2\n    return x + y\n\n\n"
            "def save():\n    data = read_config()\n    return data\n")
    patch = patch_of(base, base.replace("def load():\n    data = read_config()",
                                        "def load():\n    data = read_config(strict=True)"))
    # the user rewrote that very line; the same line in save() must not take the change
    current = base.replace("def load():\n    data = read_config()", "def load():\n    data = {}")
    result = apply_hunks(patch, current)
    assert result.applied == [] and "changed" in result.conflicts[0].reason
    # and with the load() context gone too, the one copy left is still not taken: a context side is
    # gone, the other still stands around the edited place
    current = current.replace("def load():", "def load_all():")
    assert apply_hunks(patch, current).applied == []


def test_blank_line_context_is_no_evidence_against_a_fit():
    base = "\n\n\nstart()\nvalue = compute_total(items)\nfinish()\n\n\n\n"
    patch = patch_of(base, base.replace("compute_total(items)", "compute_total(items, tax=True)"))
    current = "\n\n\n\n\n\nbegin()\nvalue = compute_total(items)\nend()\n\n\n\n"
    result = apply_hunks(patch, current)
    assert result.conflicts == []
    assert "compute_total(items, tax=True)" in result.text


def test_hunk_ranges_gives_every_pending_hunk_at_once():
    patch, _ = two_hunks()
    current = "x\n" + BASE.replace("def f9():\n    return None", "def f9():\n    return 'mine'")
    assert hunk_ranges(patch, current) == {0: (5, 6), 1: None}
    patch.hunks[0].status = HunkStatus.REJECTED
    assert hunk_ranges(patch, current) == {1: None}


# From werkzeug 3.0.6 -> 3.1.0 (tests/test_datastructures.py): two tests open with the same three
# lines; the patch edits the second. With a dozen lines typed between them, the first test's
# opening sits nearer the expected line than the hunk's own place.
CALLBACK_TESTS = '''\
class TestCallbackDict:
    def test_callback_dict_reads(self):
        assert_calls, func = make_call_asserter()
        initial = {"a": "foo", "b": "bar"}
        dct = self.storage_class(initial=initial, on_update=func)
        with assert_calls(0, "callback triggered by read-only method"):
            # read-only methods
            dct["a"]
            dct.get("a")
            pytest.raises(KeyError, lambda: dct["x"])

    def test_callback_dict_writes(self):
        assert_calls, func = make_call_asserter()
        initial = {"a": "foo", "b": "bar"}
        dct = self.storage_class(initial=initial, on_update=func)
        with assert_calls(8, "callback not triggered by write method"):
            # always-write methods
            dct["z"] = 123
            dct["z"] = 123  # must trigger again
            del dct["z"]
'''
TYPED_BETWEEN = "".join(f"    def test_added_{i}(self):\n        assert helper({i}) == {i}\n\n" for i in range(6))


def test_a_look_alike_already_in_the_base_does_not_veto_the_hunks_own_place():
    new = CALLBACK_TESTS.replace("assert_calls(8,", "assert_calls(9,")
    patch = patch_of(CALLBACK_TESTS, new)
    cut = CALLBACK_TESTS.index("    def test_callback_dict_writes")
    current = CALLBACK_TESTS[:cut] + TYPED_BETWEEN + CALLBACK_TESTS[cut:]
    result = apply_hunks(patch, current)
    assert result.conflicts == []
    assert result.text == new[:cut] + TYPED_BETWEEN + new[cut:]


def test_a_look_alike_the_user_made_still_vetoes():
    new = CALLBACK_TESTS.replace("assert_calls(8,", "assert_calls(9,")
    patch = patch_of(CALLBACK_TESTS, new)
    cut = CALLBACK_TESTS.index("    def test_callback_dict_writes")
    # the user rewrote the hunk's own lines in place and pasted the original block further down:
    # the rewritten place still has the hunk's context, so the pasted copy is no safe target
    own = CALLBACK_TESTS[cut:].replace('with assert_calls(8, "callback not triggered by write method"):',
                                       "with assert_calls(7):")
    current = CALLBACK_TESTS[:cut] + own + TYPED_BETWEEN + CALLBACK_TESTS[cut:]
    result = apply_hunks(patch, current)
    assert result.applied == [] and "changed" in result.conflicts[0].reason


# From pydantic 2.11.10 -> 2.12.0 (tests/test_discriminated_union.py): the hunk's leading context,
# the end of a discriminator function, ends an earlier function too; lines were added above both.
DISCRIMINATORS = '''\
def test_callable_discriminated_union_recursive():
    def model_x_discriminator(v):
        if isinstance(v, (str, int)):
            return 'str'
        if isinstance(v, (dict, BaseModel)):
            return 'model'

    class SelfReferencingDiscriminatedModel(BaseModel):
        x: Union[Annotated[str, Tag('str')], Annotated['SelfReferencingDiscriminatedModel', Tag('model')]]

    assert SelfReferencingDiscriminatedModel.model_validate({'x': 'abc'}).x == 'abc'


def test_callable_discriminated_union_with_missing_tag() -> None:
    def model_x_discriminator(v):
        if isinstance(v, str):
            return 'str'
        if isinstance(v, (dict, BaseModel)):
            return 'model'

    try:

        class DiscriminatedModel(BaseModel):
            x: Annotated[
                Union[str, 'DiscriminatedModel'],
                Discriminator(model_x_discriminator),
            ]
    except PydanticUserError as exc_info:
        assert exc_info.code == 'callable-discriminator-no-tag'
'''


def test_shared_leading_context_of_an_earlier_function_does_not_veto():
    new = DISCRIMINATORS.replace("    try:\n", "    with pytest.raises(PydanticUserError) as exc_info:\n").replace(
        "    except PydanticUserError as exc_info:\n        assert exc_info.code",
        "\n    assert exc_info.value.code")
    patch = patch_of(DISCRIMINATORS, new)
    # two changes 12 lines apart: one hunk each since issue 15 (the test once said one merged hunk)
    assert len(patch.hunks) == 2 and patch.hunks[0].before[-2:] == ["            return 'model'\n", "\n"]
    added = "import pytest\nfrom pydantic import BaseModel, Discriminator, Tag\n" + "\n" * 12
    result = apply_hunks(patch, added + DISCRIMINATORS)
    assert result.conflicts == []
    assert result.text == added + new


# From pydantic 2.11.10 -> 2.12.0 (tests/test_json_schema.py): a line added between two tests whose
# whole context (the end of one test, the start of the next) repeats after every test of the file.
SPECIAL_TYPES = '''\
def test_special_int_types(field_type, expected_schema):
    class Model(BaseModel):
        a: field_type

    assert Model.model_json_schema() == base_schema


@pytest.mark.parametrize(
    'field_type,expected_schema',
    [
        (confloat(gt=5, lt=10), {'exclusiveMinimum': 5, 'exclusiveMaximum': 10}),
        (confloat(ge=5, le=10), {'minimum': 5, 'maximum': 10}),
        (confloat(multiple_of=5), {'multipleOf': 5}),
    ],
)
def test_special_float_types(field_type, expected_schema):
    class Model(BaseModel):
        a: field_type

    assert Model.model_json_schema() == base_schema


@pytest.mark.parametrize(
    'field_type,expected_schema',
    [
        (condecimal(gt=5, lt=10), {'exclusiveMinimum': 5, 'exclusiveMaximum': 10}),
    ],
)
def test_special_decimal_types(field_type, expected_schema):
    pass
'''


def test_among_equal_full_fits_the_one_next_to_its_own_unique_lines_wins():
    cut = SPECIAL_TYPES.index("@pytest.mark.parametrize(\n", SPECIAL_TYPES.index("confloat(multiple"))
    comment = "# ADDTESTS: add test cases to check max_digits and decimal_places\n"
    new = SPECIAL_TYPES[:cut] + comment + SPECIAL_TYPES[cut:]
    patch = patch_of(SPECIAL_TYPES, new)
    assert patch.hunks[0].old_lines == []
    # 16 lines typed at the top: the end of the int test is now nearer the hunk's old line number
    # than the end of the float test, where it belongs; both have the whole context
    top = "".join(f"HELPER_{i} = {i}\n" for i in range(16))
    result = apply_hunks(patch, top + SPECIAL_TYPES)
    assert result.conflicts == []
    assert result.text == top + new


# From pydantic 2.11.10 -> 2.12.0 (pydantic/root_model.py): __copy__ and __deepcopy__ end alike.
ROOT_MODEL = '''\
    def __copy__(self) -> Self:
        """Returns a shallow copy of the model."""
        cls = type(self)
        m = cls.__new__(cls)
        _object_setattr(m, '__dict__', copy(self.__dict__))
        _object_setattr(m, '__pydantic_fields_set__', copy(self.__pydantic_fields_set__))
        return m

    def __deepcopy__(self, memo: dict[int, Any] | None = None) -> Self:
        """Returns a deep copy of the model."""
        cls = type(self)
        m = cls.__new__(cls)
        _object_setattr(m, '__dict__', deepcopy(self.__dict__, memo=memo))
        # This next line doesn't need a deepcopy because __pydantic_fields_set__ is a set[str],
        # and attempting a deepcopy would be marginally slower.
        _object_setattr(m, '__pydantic_fields_set__', copy(self.__pydantic_fields_set__))
        return m

    if typing.TYPE_CHECKING:

        def model_dump(  # type: ignore
            self,
'''


def test_a_nearer_look_alike_edited_by_the_user_does_not_veto_the_hunks_own_place():
    new = ROOT_MODEL.replace("if typing.TYPE_CHECKING:", "if TYPE_CHECKING:")
    patch = patch_of(ROOT_MODEL, new)
    # the user grew __deepcopy__ right below its docstring: the end of __copy__ (the hunk's leading
    # context, followed by an edited line) is now nearer the hunk's old line number than its place
    doc = '        """Returns a deep copy of the model."""\n'
    grown = doc + "".join(f"        memo_{i} = memo\n" for i in range(11))
    result = apply_hunks(patch, ROOT_MODEL.replace(doc, grown))
    assert result.conflicts == []
    assert result.text == new.replace(doc, grown)


def test_a_hunk_that_ended_the_file_prefers_the_look_alike_that_still_does():
    body = "    x = setup()\n    y = x.run()\n    assert y.ok\n    assert y.done\n"
    base = f"def test_a():\n{body}\n\ndef test_b():\n{body}"
    patch = patch_of(base, base[:-len("    assert y.done\n")] + "    assert y.done is True\n")
    assert patch.hunks[0].after == []  # it ends the file
    # a new test typed above test_b, which was renamed: test_a's identical end is now nearer
    typed = "def test_new():\n" + "".join(f"    step_{i}()\n" for i in range(12)) + "\n\n"
    current = base.replace("def test_b():", typed + "def test_b_runs():")
    result = apply_hunks(patch, current)
    assert result.text == current[:-len("    assert y.done\n")] + "    assert y.done is True\n"


def test_edit_inside_a_hunk_among_many_identical_functions_is_a_conflict():
    body = ("    client = make_client()\n    response = client.get(URL)\n    assert response.status == 200\n"
            "    assert response.json() == {}\n    client.close()\n    del client\n\n")
    base = "".join(f"def test_get_{i}():\n{body}" for i in range(5))
    tail = base.rindex("    assert response.json() == {}")
    new = base[:tail] + base[tail:].replace("== {}", "== {'ok': True}")
    patch = patch_of(base, new)
    # the user changed that very line; four functions still hold it, context and all (each line of
    # it common enough to weigh little): none of them may take the change
    current = base[:tail] + base[tail:].replace("== {}", "== []")
    result = apply_hunks(patch, current)
    assert result.applied == [] and "changed" in result.conflicts[0].reason
    # and at the end of the file: the last line changed by the patch, then by the user
    new = base[:-len("    del client\n\n")] + "    del client\n"
    assert apply_hunks(patch_of(base, new), base[:-1] + "    # gone\n").applied == []


def test_a_far_anchor_with_look_alikes_between_never_puts_the_hunk_in_a_neighbour():
    # Found by the look-alike property test: the user replaced the def line of the hunk's own block
    # (its one unique neighbour) and typed 15 lines above it, more than a block is long. The nearest
    # line found once in both texts is then the block before's def, with that block's look-alike body
    # between it and the hunk: measured from that line, the block before was the nearer fit, and the
    # hunk landed there. Now it is refused (nothing tells the look-alikes apart); never misplaced.
    body = "".join(f"    {k} alpha\n" for k in range(12))
    blocks = [f"def block_{i}():\n{body}\n" for i in range(5)]
    base = "".join(blocks)
    new = "".join(blocks[:4]) + blocks[4].replace("    7 alpha\n", "patch_0 alpha\n")
    patch = patch_of(base, new)
    own = blocks[4].replace("def block_4():\n", "user_0 alpha\n")
    current = "".join(blocks[:4]) + "".join(f"user_typed_{k}\n" for k in range(15)) + own
    result = apply_hunks(patch, current)
    assert result.text in (current, current.replace(own, own.replace("    7 alpha\n", "patch_0 alpha\n")))
    if result.conflicts:
        assert "look-alike" in result.conflicts[0].reason
