"""Which files go with a focus by their paths alone: a module's tests, a test's module, the files
beside it (rank.py personalises PageRank on them besides the focus).

A test only uses the code it tests, so nothing in the def/ref graph leads from a module to its test;
the projects' own naming conventions do: `tests/test_app.py` (and `tests/…/test_app.py`,
`test_app_*.py`) for `src/flask/app.py`, `testing/python/fixtures.py` for `_pytest/fixtures.py`,
`tests/test_ext_autodoc.py` for `sphinx/ext/autodoc/__init__.py`, `foo_test.go` beside `foo.go`,
`Foo.test.ts` / `foo.spec.js` / `__tests__/foo.js`, `FooTest.java`, `foo_spec.rb`. Both sides are
reduced to keys (lower case, a plural's `s` dropped, the module's folders joined in front of its
name: `autodoc`, `ext_autodoc`, `sphinx_ext_autodoc`) and matched: a test's whole key first, then
its underscore prefixes (`serializer_nested` → `serializer`); of several matches, those nearest the
focus by folder.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cached_property, lru_cache

TEST_FOLDERS = frozenset({"tests", "test", "testing", "__tests__", "spec", "specs", "unittests", "unit_tests"})
PACKAGE_STEMS = frozenset({"__init__", "index", "mod", "main", "lib", "__main__"})  # named by their folder
_CAMEL_TEST = re.compile(r"^(?:Test(?=[A-Z])|Tests(?=[A-Z]))|(?<=[a-z0-9])(?:Tests?|Spec)$")
_TEST_AFFIX = re.compile(r"^(?:tests?_)|(?:_tests?|_spec|[.\-](?:test|spec))$", re.IGNORECASE)
MODULE_DEPTH = 3  # keys from the module's name and up to two of its folders


def _split(path: str) -> tuple[list[str], str]:
    *folders, name = path.split("/")
    stem = name.split(".", 1)[0] if not name.startswith(".") else name
    tail = name[len(stem):].rsplit(".", 1)[0]  # `.test` of `foo.test.ts`
    return folders, stem + tail


@lru_cache(maxsize=65536)  # folder names and stems repeat: the kernel's 56k paths have ~25k of them
def _norm(key: str) -> str:
    key = key.lower().replace("-", "_")
    return "_".join(part[:-1] if len(part) > 3 and part.endswith("s") and not part.endswith("ss") else part
                    for part in key.split("_") if part)


def is_test(path: str) -> bool:
    """A test file by its path: under a test folder, or named as tests are (test_x, x_test, x.spec…)."""
    folders, stem = _split(path)
    return (any(f.lower() in TEST_FOLDERS for f in folders) or stem == "conftest"
            or bool(_TEST_AFFIX.search(stem)) or bool(_CAMEL_TEST.search(stem)))


def tested_key(path: str) -> str:
    """What a test file is the test of: its name without the test affix (`test_app.py` → `app`)."""
    _folders, stem = _split(path)
    return _norm(_TEST_AFFIX.sub("", _CAMEL_TEST.sub("", stem)))


def module_keys(path: str) -> list[str]:
    """The keys a module answers to: its name, then with its folders in front (`ext_autodoc`)."""
    folders, stem = _split(path)
    if stem in PACKAGE_STEMS and folders:
        stem = folders.pop()
    parts = [_norm(stem)]
    for folder in reversed(folders[-(MODULE_DEPTH - 1):]):
        parts.append(f"{_norm(folder)}_{parts[-1]}")
    return [p for p in parts if p]


def _prefixes(key: str) -> list[str]:
    """A test's key, then its underscore prefixes, longest first (`serializer_nested`, `serializer`):
    the level of a match is its place here."""
    parts = key.split("_")
    return ["_".join(parts[:len(parts) - level]) for level in range(len(parts))]


def _common(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a.split("/")[:-1], b.split("/")[:-1]):
        if x != y:
            break
        n += 1
    return n


class Pairs:
    """The path index of one graph's files, each part made when a focus first needs it (a map of the
    kernel's 78k files must not wait a second for all of them): the tests by key (for a module
    focus), the modules by key (for a test focus), the files by folder (for the siblings). Only a
    path with `test` or `spec` in it can be a test (every rule of `is_test` spells one), so the
    rules run on those alone."""

    def __init__(self, paths: Sequence[str]) -> None:
        self.paths = paths

    @cached_property
    def tests(self) -> frozenset[int]:
        return frozenset(i for i, path in enumerate(self.paths)
                         if ("test" in (low := path.lower()) or "spec" in low) and is_test(path))

    @cached_property
    def tests_by_key(self) -> dict[str, list[tuple[int, int]]]:
        """(file, level) by key: each test under its key and its prefixes (`_prefixes`)."""
        by_key: dict[str, list[tuple[int, int]]] = {}
        for i in sorted(self.tests):
            for level, key in enumerate(_prefixes(tested_key(self.paths[i]))):
                by_key.setdefault(key, []).append((i, level))
        return by_key

    @cached_property
    def modules_by_key(self) -> dict[str, list[int]]:
        by_key: dict[str, list[int]] = {}
        tests = self.tests
        for i, path in enumerate(self.paths):
            if i not in tests:
                for key in module_keys(path):
                    by_key.setdefault(key, []).append(i)
        return by_key

    @cached_property
    def by_folder(self) -> dict[str, list[int]]:
        by_folder: dict[str, list[int]] = {}
        for i, path in enumerate(self.paths):
            by_folder.setdefault(path.rsplit("/", 1)[0] if "/" in path else "", []).append(i)
        return by_folder

    def partners(self, focus: int) -> list[int]:
        """The tests of a module, or the module(s) of a test: the best-matching, nearest ones."""
        path = self.paths[focus]
        found: list[tuple[int, int]] = []  # (level, file)
        if focus in self.tests:
            for level, key in enumerate(_prefixes(tested_key(path))):
                found += [(level, m) for m in self.modules_by_key.get(key, ())]
                if found:
                    break
        else:
            for key in module_keys(path):
                found += [(level, t) for t, level in self.tests_by_key.get(key, ())]
        found = [(level, f) for level, f in found if f != focus]
        if not found:
            return []
        best = min(level for level, _ in found)
        chosen = sorted({f for level, f in found if level == best})
        near = max(_common(path, self.paths[f]) for f in chosen)
        return [f for f in chosen if _common(path, self.paths[f]) == near]

    def siblings(self, focus: int) -> list[int]:
        """The other files of the focus's folder."""
        path = self.paths[focus]
        folder = path.rsplit("/", 1)[0] if "/" in path else ""
        return [i for i in self.by_folder.get(folder, ()) if i != focus]
