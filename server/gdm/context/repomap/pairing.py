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
from dataclasses import dataclass, field

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


def _norm(key: str) -> str:
    key = key.lower().replace("-", "_")
    return "_".join(part[:-1] if len(part) > 3 and part.endswith("s") and not part.endswith("ss") else part
                    for part in key.split("_") if part)


def is_test(path: str) -> bool:
    """A test file by its path: under a test folder, or named as tests are (test_x, x_test, x.spec…)."""
    folders, stem = _split(path)
    return (any(f.lower() in TEST_FOLDERS for f in folders) or stem == "conftest"
            or bool(_TEST_AFFIX.search(stem)) or bool(_CAMEL_TEST.search(stem)))


def test_key(path: str) -> str:
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


def _common(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a.split("/")[:-1], b.split("/")[:-1]):
        if x != y:
            break
        n += 1
    return n


@dataclass
class Pairs:
    """The path index of one graph's files: modules and tests by key, files by folder."""

    paths: Sequence[str]
    tests: set[int] = field(default_factory=set)
    modules_by_key: dict[str, list[int]] = field(default_factory=dict)
    tests_by_key: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # (file, level)
    by_folder: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def of(cls, paths: Sequence[str]) -> Pairs:
        """The index of these paths (one pass over them)."""
        pairs = cls(paths)
        for i, path in enumerate(paths):
            pairs.by_folder.setdefault(path.rsplit("/", 1)[0] if "/" in path else "", []).append(i)
            if is_test(path):
                pairs.tests.add(i)
                parts = test_key(path).split("_")
                for level in range(len(parts)):  # the whole key (level 0), then its prefixes
                    key = "_".join(parts[:len(parts) - level])
                    pairs.tests_by_key.setdefault(key, []).append((i, level))
            else:
                for key in module_keys(path):
                    pairs.modules_by_key.setdefault(key, []).append(i)
        return pairs

    def partners(self, focus: int) -> list[int]:
        """The tests of a module, or the module(s) of a test: the best-matching, nearest ones."""
        path = self.paths[focus]
        found: list[tuple[int, int]] = []  # (level, file)
        if focus in self.tests:
            parts = test_key(path).split("_")
            for level in range(len(parts)):
                key = "_".join(parts[:len(parts) - level])
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
