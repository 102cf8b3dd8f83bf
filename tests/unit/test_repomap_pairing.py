"""Which files go with a focus by their paths (pairing.py), and what a focused map shows because of
it and of the step against the edges (issue 30): the files that use the focus (its tests), its test
or module by the path conventions, its folder when nothing else leads anywhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from gdm.context.repomap import pairing
from gdm.context.repomap.service import CodeMap


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def map_files(root: Path, tmp_path: Path, focus: list[str], tokens: int = 4096) -> list[str]:
    code_map = CodeMap(root, cache_folder=tmp_path / "cache", workers=1)
    try:
        return [p for p in code_map.map(focus, max_tokens=tokens).files if p not in focus]
    finally:
        code_map.close()


@pytest.mark.parametrize(("path", "test", "key"), [
    ("tests/test_app.py", True, "app"),
    ("tests/unit/test_ext_autodoc.py", True, "ext_autodoc"),
    ("testing/python/fixtures.py", True, "fixture"),
    ("pkg/server_test.go", True, "server"),
    ("web/src/Button.test.tsx", True, "button"),
    ("web/src/button.spec.js", True, "button"),
    ("web/__tests__/button.js", True, "button"),
    ("src/test/java/org/FooTest.java", True, "foo"),
    ("spec/models/user_spec.rb", True, "user"),
    ("tests/test_serializers.py", True, "serializer"),
    ("Tests/TestHelpers.py", True, "helper"),
    ("src/flask/app.py", False, None),
    ("src/contest.py", False, None),
    ("lib/testsuite.py", False, None),
    ("lib/inspect.py", False, None),
])
def test_what_a_test_is_and_what_it_tests(path, test, key):
    assert pairing.is_test(path) is test
    assert (pairing.Pairs([path]).tests == {0}) is test  # the index's prefilter agrees
    if test:
        assert pairing.tested_key(path) == key


def test_a_module_answers_to_its_name_and_its_folders():
    assert pairing.module_keys("src/flask/app.py") == ["app", "flask_app", "src_flask_app"]
    assert pairing.module_keys("sphinx/ext/autodoc/__init__.py") == ["autodoc", "ext_autodoc", "sphinx_ext_autodoc"]
    assert pairing.module_keys("rest_framework/serializers.py") == ["serializer", "rest_framework_serializer"]


def test_tests_and_modules_pair_by_the_usual_conventions():
    paths = ["src/flask/app.py", "tests/test_app.py", "tests/test_apps/helper.py",
             "src/_pytest/fixtures.py", "testing/python/fixtures.py",
             "sphinx/ext/autodoc/__init__.py", "tests/test_extensions/test_ext_autodoc.py",
             "rest_framework/serializers.py", "tests/test_serializer.py", "tests/test_serializer_nested.py",
             "rest_framework/fields.py", "tests/test_fields_extra.py",
             "pkg/a/server.go", "pkg/a/server_test.go", "pkg/b/server.go", "pkg/b/server_test.go",
             "web/src/Button.tsx", "web/src/Button.test.tsx", "README_helper.py"]
    pairs = pairing.Pairs(paths)

    def partners(path: str) -> list[str]:
        return [paths[i] for i in pairs.partners(paths.index(path))]

    assert partners("src/flask/app.py") == ["tests/test_app.py"]
    assert partners("tests/test_app.py") == ["src/flask/app.py"]
    assert partners("src/_pytest/fixtures.py") == ["testing/python/fixtures.py"]
    assert partners("testing/python/fixtures.py") == ["src/_pytest/fixtures.py"]
    assert partners("sphinx/ext/autodoc/__init__.py") == ["tests/test_extensions/test_ext_autodoc.py"]
    # the whole name before a prefix of it; a prefix when nothing has the whole name
    assert partners("rest_framework/serializers.py") == ["tests/test_serializer.py"]
    assert partners("tests/test_serializer_nested.py") == ["rest_framework/serializers.py"]
    assert partners("rest_framework/fields.py") == ["tests/test_fields_extra.py"]
    # of several with the same name, the nearest by folder
    assert partners("pkg/a/server.go") == ["pkg/a/server_test.go"]
    assert partners("pkg/b/server_test.go") == ["pkg/b/server.go"]
    assert partners("web/src/Button.tsx") == ["web/src/Button.test.tsx"]
    assert partners("README_helper.py") == []
    assert [paths[i] for i in pairs.siblings(paths.index("pkg/a/server.go"))] == ["pkg/a/server_test.go"]


def _library(root: Path) -> None:
    """A package of modules that use one another, its tests (which use it: nothing uses them), and
    a helper used everywhere."""
    write(root, "lib/core.py", "def base_value(x):\n    return x\n")
    for name in ("alpha", "beta", "gamma", "delta"):
        write(root, f"lib/{name}.py", f"from lib.core import base_value\n\n\ndef {name}_parse(text):\n"
                                      f"    return base_value(text)\n\n\ndef {name}_render(node):\n    return node\n")
    for name in ("alpha", "beta", "gamma", "delta"):
        write(root, f"tests/test_{name}.py", f"from lib.{name} import {name}_parse, {name}_render\n\n\n"
                                             f"def test_{name}_roundtrip():\n"
                                             f"    assert {name}_render({name}_parse('x')) == 'x'\n")


def test_a_focused_map_shows_the_files_that_use_the_focus(tmp_path):
    # `checks/verify.py` uses beta's names and is named like no test: only the step against the
    # edges (from beta to its users) reaches it; the walk along them from beta reaches core alone.
    root = tmp_path / "p"
    _library(root)
    write(root, "checks/verify.py", "from lib.beta import beta_parse, beta_render\n\n\ndef verify_beta():\n"
                                    "    return beta_render(beta_parse('y'))\n")
    files = map_files(root, tmp_path, ["lib/beta.py"])
    assert "checks/verify.py" in files[:3]
    assert "tests/test_beta.py" in files[:3]  # (it uses beta too, and is beta's test by name)
    assert "checks/verify.py" not in map_files(root, tmp_path, ["lib/alpha.py"])[:3]


def test_a_modules_test_by_name_ranks_when_it_uses_nothing_of_the_module_by_name(tmp_path):
    # tests/test_gamma.py calls gamma through an attribute of a fixture: no name of gamma.py is
    # referenced, so no edge reaches it; the path convention does.
    root = tmp_path / "p"
    _library(root)
    write(root, "tests/test_gamma.py", "def test_gamma_through_the_fixture(parser_fixture):\n"
                                       "    assert parser_fixture.run('x')\n")
    files = map_files(root, tmp_path, ["lib/gamma.py"])
    assert "tests/test_gamma.py" in files[:3]
    assert files.index("tests/test_gamma.py") < min(files.index(f"tests/test_{n}.py") for n in ("alpha", "beta", "delta")
                                                     if f"tests/test_{n}.py" in files)


def test_a_tests_module_by_name_ranks_first(tmp_path):
    # the test of delta names nothing of delta either: its module comes by its name
    root = tmp_path / "p"
    _library(root)
    write(root, "tests/test_delta.py", "def test_delta_through_the_fixture(parser_fixture):\n"
                                       "    assert parser_fixture.run('x')\n")
    files = map_files(root, tmp_path, ["tests/test_delta.py"])
    assert files[0] == "lib/delta.py"


def test_a_focus_no_edge_leaves_or_enters_gets_its_folder_then_the_important_files(tmp_path):
    # `aaa/setup_things.py` sorts first and `zzz/isolated.py` references only names defined
    # nowhere in the workspace, and nothing uses it: its folder comes first, then what the
    # untargeted map ranks high (lib/core.py, used by all), never the index order.
    root = tmp_path / "p"
    _library(root)
    write(root, "aaa/setup_things.py", "def setup_everything():\n    return 1\n")
    write(root, "zzz/isolated.py", "import os\n\n\ndef lonely_walk(path):\n    return os.path.join(path, 'x')\n")
    write(root, "zzz/neighbour.py", "def neighbour_thing():\n    return 2\n")
    files = map_files(root, tmp_path, ["zzz/isolated.py"])
    assert files[0] == "zzz/neighbour.py"
    assert files.index("lib/core.py") < files.index("aaa/setup_things.py")


def test_the_untargeted_map_holds_no_test_before_the_modules(tmp_path):
    root = tmp_path / "p"
    _library(root)
    files = map_files(root, tmp_path, [])
    assert files[0] == "lib/core.py"
    assert max(files.index(f"lib/{n}.py") for n in ("alpha", "beta", "gamma", "delta")) < min(
        files.index(f"tests/test_{n}.py") for n in ("alpha", "beta", "gamma", "delta"))
