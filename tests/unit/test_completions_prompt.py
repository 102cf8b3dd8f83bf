"""Completion prompts as pure functions: the window's budgets, the names at the cursor, the map
context they choose (definitions from other files, not those already in the window), and the
cleaning of the model's text into a suggestion."""

from __future__ import annotations

from pathlib import Path

import pytest

from gdm.completions import context
from gdm.completions.clean import clean, overlap, unfence
from gdm.completions.prompt import HOLE, context_block, fim_prompt, hole_filler_messages, window
from gdm.context.repomap.service import CodeMap

TEXT = "".join(f"line {i}\n" for i in range(100))


@pytest.mark.parametrize("prefix_chars, suffix_chars", [(30, 20), (64, 8), (10_000, 10_000)])
def test_the_window_keeps_whole_lines_within_its_budgets(prefix_chars, suffix_chars):
    offset = TEXT.index("line 50") + 3
    win = window(TEXT, offset, prefix_chars, suffix_chars)
    assert len(win.prefix) <= prefix_chars and len(win.suffix) <= max(suffix_chars, len("e 50\n"))
    assert win.prefix.endswith("lin") and win.suffix.startswith("e 50")
    assert win.prefix == TEXT[:offset] or win.prefix.startswith("line ")  # cut at a line start
    assert win.suffix == TEXT[offset:] or win.suffix.endswith("\n")  # cut at a line end
    assert (win.line_prefix, win.line_suffix) == ("lin", "e 50")
    assert win.cut_prefix == (len(TEXT[:offset]) > prefix_chars)
    assert TEXT.splitlines()[win.first_line] == win.prefix.splitlines()[0]


def test_the_window_at_the_edges_of_the_text():
    assert window("", 0).prefix == "" and window("", 0).suffix == ""
    end = window("a\nbc", 99)
    assert (end.prefix, end.suffix, end.line_prefix, end.line_suffix) == ("a\nbc", "", "bc", "")


def test_prompts_carry_the_context_in_the_files_comment_syntax_and_a_hole_for_chat():
    win = window("x = add(\n", 8)
    snippets = ["calc.py: def add(a: float, b: float) -> float:"]
    assert fim_prompt("app.py", snippets, win) == "# Path: app.py\n# calc.py: def add(a: float, b: float) -> float:\nx = add("
    assert context_block("app.ts", ["a.ts: function f()"]).startswith("// Path: app.ts\n// a.ts")
    messages = hole_filler_messages("app.py", snippets, win)
    assert messages[0]["role"] == "system" and HOLE in messages[0]["content"]
    assert f"x = add({HOLE}\n" in messages[1]["content"] and "def add(a: float" in messages[1]["content"]


def test_names_at_the_cursor_nearest_and_most_telling_first():
    text = ("from shapes import Circle, area\nimport helpers\n\nradius = 3\nvalue = 1\n"
            "shape = Circle(radius)\nresult = helpers.scale(shape, value)\n")
    win = window(text, len(text))
    names = context.names_near(win)
    assert names.index("helpers") < names.index("Circle") < names.index("radius")
    assert {"scale", "area", "shapes"} <= set(names)
    assert "import" not in names and "len" not in names
    method = window("items = []\nitems.append(1)\n", 27)
    assert "append" not in context.names_near(method)  # a list's own method says nothing


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "shapes.py").write_text("class Circle:\n    def __init__(self, radius: float) -> None:\n"
                                        "        self.radius = radius\n\n    def area(self) -> float:\n"
                                        "        return 3.14 * self.radius ** 2\n\n\n"
                                        "def perimeter(c: Circle) -> float:\n    return 2 * 3.14 * c.radius\n")
    (tmp_path / "unrelated.py").write_text("def other_thing(x):\n    return x\n")
    return tmp_path


def test_the_map_context_holds_the_definitions_the_cursor_names(project: Path):
    code_map = CodeMap(project, use_cache=False)
    code_map.build()
    text = "from shapes import Circle, perimeter\n\nc = Circle(2)\nprint(perimeter(c), c.area"
    index = context.DefinitionIndex()
    snippets = context.gather(index, code_map.index.snapshot(), "main.py", window(text, len(text)), [])
    joined = "\n".join(snippets)
    assert "shapes.py: class Circle:" in joined and "def area(self) -> float:" in joined
    assert "shapes.py: def perimeter(c: Circle) -> float:" in joined
    assert "other_thing" not in joined
    # The budget is kept; the nearest name's definition comes first.
    tight = context.gather(context.DefinitionIndex(), code_map.index.snapshot(), "main.py",
                           window(text, len(text)), [], budget=60)
    assert sum(len(s) + 1 for s in tight) <= 61 and len(tight) == 1


def test_definitions_already_in_the_window_are_not_repeated(project: Path):
    code_map = CodeMap(project, use_cache=False)
    code_map.build()
    text = (project / "shapes.py").read_text() + "\nprint(perimeter(Circle(1)))"
    snippets = context.gather(context.DefinitionIndex(), code_map.index.snapshot(), "shapes.py",
                              window(text, len(text)), [])
    assert snippets == []


def test_the_definition_index_reads_only_the_files_that_changed(project: Path):
    code_map = CodeMap(project, use_cache=False)
    code_map.build()
    index = context.DefinitionIndex()
    assert index.update(code_map.index.snapshot()) == 2
    assert index.update(code_map.index.snapshot()) == 0
    code_map.index.update_buffer("unrelated.py", "def renamed(x):\n    return x\n")
    assert index.update(code_map.index.snapshot()) == 1
    assert index.files_defining("renamed") == ["unrelated.py"] and index.files_defining("other_thing") == []
    assert index.update({}) == 0 and index.files_defining("Circle") == []


def test_recent_places_in_other_files_join_the_context():
    text = "".join(f"row {i}\n" for i in range(40))
    snippets = context.gather(context.DefinitionIndex(), {}, "a.py", window("x", 1),
                              [context.Recent("b.py", text, 20), context.Recent("a.py", "same file", 0)])
    assert len(snippets) == 1 and snippets[0].startswith("b.py (edited recently, from line 17):")
    assert "row 20" in snippets[0] and "row 10\n" not in snippets[0]


def test_cleaning_fences_echoes_overlap_and_what_follows():
    assert unfence("```python\nreturn a + b\n```") == "return a + b"
    win = window("def add(a, b):\n    ret\n\ndef mean(v):\n", len("def add(a, b):\n    ret"))
    assert clean("```python\n    return a + b\n```", win, chat=True).text == "urn a + b"
    assert clean("urn a + b\n\ndef mean(v):\n    pass", win).text == "urn a + b"  # stops at what follows
    assert clean("   \n\n", win) is None
    long = clean("\n".join(f"x{i}" for i in range(40)), win)
    assert long.text.count("\n") == 11
    call = window("print(add()\n", len("print(add("))
    assert clean("1, 2))", call).replace == 1  # the auto-closed ")" is replaced, not doubled
    assert overlap("a + b", "b") == 0 and overlap('x")', '")') == 2


def test_the_tags_a_keystroke_reads_are_one_object_until_the_index_changes(project: Path):
    code_map = CodeMap(project, use_cache=False)
    code_map.build()
    first = code_map.index.tags_now()
    assert code_map.index.tags_now() is first and dict(first) == code_map.index.snapshot()
    index = context.DefinitionIndex()
    assert index.update(first) == 2 and index.update(code_map.index.tags_now()) == 0
    code_map.index.update_buffer("unrelated.py", "def renamed(x):\n    return x\n")
    after_edit = code_map.index.tags_now()
    assert after_edit is not first and "renamed" in after_edit["unrelated.py"].top_names()
    assert index.update(after_edit) == 1 and index.files_defining("renamed") == ["unrelated.py"]
    code_map.index.close_buffer("unrelated.py")
    assert code_map.index.tags_now() is not after_edit
    (project / "more.py").write_text("def more():\n    pass\n")
    code_map.build()
    assert "more.py" in code_map.index.tags_now()
