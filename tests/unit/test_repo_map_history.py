"""benchmarks/repo_map_history.py on a tiny real git repository: which commits it takes, the focus it
picks, the trees it shows each tool, and how it scores a ranking (Aider's arm only where its venv
from benchmarks/repo_map.py exists)."""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("repo_map_history", REPO / "benchmarks" / "repo_map_history.py")
history = importlib.util.module_from_spec(_spec)
sys.modules["repo_map_history"] = history  # its dataclasses look their module up there
_spec.loader.exec_module(history)

AIDER_PYTHON = Path.home() / ".cache" / "gdm-bench" / "aider-venv" / "bin" / "python"


# -- scoring: a case table ----------------------------------------------------------------

@pytest.mark.parametrize(("ranked", "focus", "targets", "expected"), [
    # both targets in the top 5; the first at rank 1
    (["b", "c", "d"], "a", ["b", "c"], (1.0, 1.0, 1.0)),
    # the focus takes no rank: "b" is first once "a" is left out
    (["a", "x", "b"], "a", ["b"], (1.0, 1.0, 0.5)),
    # one target at rank 7 (in the top 10, not the top 5), the other absent
    (["x1", "x2", "x3", "x4", "x5", "x6", "t", "x8"], "f", ["t", "u"], (0.0, 0.5, 1 / 7)),
    # a target at rank 11 counts for nothing
    ([f"x{i}" for i in range(10)] + ["t"], "f", ["t"], (0.0, 0.0, 0.0)),
    # repeats take no rank either
    (["x", "x", "x", "t"], "f", ["t"], (1.0, 1.0, 0.5)),
    ([], "f", ["t"], (0.0, 0.0, 0.0)),
])
def test_score(ranked, focus, targets, expected):
    got = history.score(ranked, focus, targets)
    assert (got["recall@5"], got["recall@10"], got["mrr@10"]) == pytest.approx(expected)


def test_summarize_is_the_mean_over_commits():
    rows = [{"recall@5": 1.0, "recall@10": 1.0, "mrr@10": 1.0}, {"recall@5": 0.0, "recall@10": 0.5, "mrr@10": 0.25}]
    assert history.summarize(rows) == {"recall@5": 0.5, "recall@10": 0.75, "mrr@10": 0.625}
    assert history.summarize([])["recall@10"] == 0.0


@pytest.mark.parametrize(("path", "source"), [
    ("src/app.py", True), ("lib/x.ts", True), ("docs/index.rst", False), ("CHANGES.md", False),
    ("setup.cfg", False), (".github/scripts/x.py", False), ("vendor/lib.py", False),
    ("static/app.min.js", False), ("build/gen.py", False), ("Makefile", False),
])
def test_is_source(path, source):
    assert history.is_source(path) is source


@pytest.mark.parametrize(("path", "test"), [
    ("tests/test_app.py", True), ("testing/python/approx.py", True), ("src/_pytest/python.py", False),
    ("pkg/test_utils.py", True), ("pkg/conftest.py", True), ("pkg/utils_test.go", True),
    ("src/testament.py", False), ("src/flask/testing.py", False),
])
def test_is_test(path, test):
    assert history.is_test(path) is test


def test_by_kind_counts_the_targets_of_each_kind_in_the_top_10():
    cases = [{"targets": ["tests/test_a.py", "src/b.py"], "arms": {"x": {"files": ["src/b.py", "src/c.py"]}}},
             {"targets": ["tests/test_d.py"], "arms": {"x": {"files": [f"s{i}" for i in range(10)] + ["tests/test_d.py"]}}}]
    assert history.by_kind(cases, "x") == {"tests": (0, 2), "others": (1, 1)}


# -- a tiny repository ----------------------------------------------------------------------

def _git(repo: Path, *args: str, when: int = 0) -> str:
    date = f"{1_600_000_000 + when * 60} +0000"  # a minute apart: the log's order is the commits' order
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t", "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env).stdout.strip()


def _commit(repo: Path, message: str, files: dict[str, str | None]) -> str:
    for path, text in files.items():
        target = repo / path
        if text is None:
            _git(repo, "rm", "-q", path)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        _git(repo, "add", path)
    when = len(list((repo / ".git" / "objects").rglob("*")))  # grows with every commit
    _git(repo, "commit", "-q", "-m", message, when=when)
    return _git(repo, "rev-parse", "HEAD")


@pytest.fixture
def tiny(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    repo = tmp_path / "tiny"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    shas = {"base": _commit(repo, "base", {
        "pkg/models.py": "class Model:\n    def save(self):\n        return 1\n",
        "pkg/views.py": "from pkg.models import Model\n\ndef show():\n    return Model().save()\n",
        "pkg/old.py": "def legacy_helper():\n    return 2\n",
        "tests/test_views.py": "from pkg.views import show\n\ndef test_show():\n    assert show()\n",
        "README.md": "tiny\n"})}
    # two source files: the focus is the one with more changed lines (views.py), the other the target
    shas["two"] = _commit(repo, "two", {
        "pkg/models.py": "class Model:\n    def save(self):\n        return 10\n",
        "pkg/views.py": "from pkg.models import Model\n\ndef show():\n    m = Model()\n    m.save()\n    return m\n"})
    # one source file and the README: not a case
    shas["one"] = _commit(repo, "one", {"pkg/models.py": "class Model:\n    def save(self):\n        return 3\n",
                                        "README.md": "tiny!\n"})
    # an added file beside a modified one: the added file did not exist at the parent, so no target
    shas["added"] = _commit(repo, "added", {"pkg/new.py": "def fresh():\n    return 0\n",
                                            "pkg/views.py": "from pkg.models import Model\n\ndef show():\n    return Model()\n"})
    # a deleted file is a target (it existed at the parent)
    shas["deleted"] = _commit(repo, "deleted", {"pkg/old.py": None,
                                                "tests/test_views.py": "from pkg.views import show\n\ndef test_show():\n    assert show() is not None\n"})
    # seven source files: too many
    shas["seven"] = _commit(repo, "seven", {f"pkg/m{i}.py": f"X{i} = {i}\n" for i in range(7)})
    # a merge: never a case
    _git(repo, "checkout", "-q", "-b", "side", shas["deleted"])
    shas["side"] = _commit(repo, "side", {"pkg/models.py": "class Model:\n    def save(self):\n        return 4\n",
                                          "pkg/views.py": "from pkg.models import Model\n\ndef show():\n    return Model().save()\n"})
    _git(repo, "checkout", "-q", "main")
    _git(repo, "merge", "-q", "--no-ff", "-m", "merge", "side", when=10_000)
    return repo, shas


def test_select_commits_takes_the_cases_newest_first(tiny):
    repo, shas = tiny
    cases = history.select_commits(Path(_git(repo, "rev-parse", "--absolute-git-dir")), 10)
    assert [(c.sha, c.focus, c.targets) for c in cases] == [
        (shas["side"], "pkg/models.py", ["pkg/views.py"]),  # equal lines: the first by path
        (shas["deleted"], "tests/test_views.py", ["pkg/old.py"]),
        (shas["two"], "pkg/views.py", ["pkg/models.py"]),
    ]
    assert cases[1].parent == shas["added"]
    assert [c.sha for c in history.select_commits(Path(_git(repo, "rev-parse", "--absolute-git-dir")), 2)] == \
        [shas["side"], shas["deleted"]]


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def test_the_work_tree_is_exactly_the_parent_tree_and_unchanged_files_keep_their_mtime(tiny, tmp_path):
    repo, shas = tiny
    git_dir = Path(_git(repo, "rev-parse", "--absolute-git-dir"))
    head = _git(repo, "rev-parse", "HEAD")
    tree = history.WorkTree(git_dir, tmp_path / "work" / "t")
    tree.move(shas["added"])
    listed = set(_git(repo, "ls-tree", "-r", "--name-only", shas["added"]).splitlines())
    assert _files(tree.folder) == listed - {"README.md"}  # the code files; docs stay out
    assert "pkg/new.py" in listed
    views = tree.folder / "pkg" / "views.py"
    written = views.stat().st_mtime_ns
    tree.move(shas["deleted"])
    assert not (tree.folder / "pkg" / "old.py").exists()  # deleted by the commit: gone from the tree
    assert views.stat().st_mtime_ns == written  # unchanged between the two: not rewritten
    assert (tree.folder / "tests" / "test_views.py").read_text().endswith("is not None\n")
    tree.move(shas["base"])
    assert (tree.folder / "pkg" / "old.py").is_file() and not (tree.folder / "pkg" / "new.py").exists()
    assert _git(repo, "rev-parse", "HEAD") == head  # the repository's HEAD never moved
    assert _git(repo, "status", "--porcelain") == ""
    tree.close()


def test_a_blob_missing_from_the_mirror_leaves_its_file_out(tiny, tmp_path):
    repo, shas = tiny
    git_dir = Path(_git(repo, "rev-parse", "--absolute-git-dir"))
    blob = _git(repo, "rev-parse", f"{shas['base']}:pkg/old.py")
    (git_dir / "objects" / blob[:2] / blob[2:]).unlink()  # as a fetched mirror lacks its largest blobs
    tree = history.WorkTree(git_dir, tmp_path / "work" / "m")
    tree.move(shas["base"])
    assert tree.missing == {"pkg/old.py"} and not (tree.folder / "pkg" / "old.py").exists()
    assert (tree.folder / "pkg" / "models.py").is_file()
    tree.close()


def _args(tmp_path: Path, repo: Path) -> argparse.Namespace:
    return argparse.Namespace(repo=[str(repo)], commits=10, tokens=1024, cache=tmp_path / "cache")


def test_run_repo_scores_gdm_on_each_parent_tree(tiny, tmp_path):
    repo, shas = tiny
    result = history.run_repo(str(repo), _args(tmp_path, repo), aider=None)
    assert result["repo"] == "tiny" and result["commits"] == 3
    names = list(result["summary"])
    assert all(name.startswith("gdm") for name in names)
    assert len(names) == (2 if history.takes_resolve() else 1)
    by_sha = {c["sha"]: c for c in result["cases"]}
    assert [c["sha"] for c in result["cases"]] == [shas["two"], shas["deleted"], shas["side"]]  # oldest first
    for name in names:
        # views.py calls Model.save and tests/test_views.py calls show: focused on views.py, its paired
        # test (the walk against the edges, the pairing by path) and the module it uses rank first;
        # the commit's other file is second, so MRR@10 is 1/2
        two = by_sha[shas["two"]]["arms"][name]
        assert two["files"][:2] == ["tests/test_views.py", "pkg/models.py"]
        assert two["recall@5"] == 1.0 and two["recall@10"] == 1.0 and two["mrr@10"] == 0.5
        # old.py existed at the parent of its deletion: it is in the map of that tree
        assert "pkg/old.py" in by_sha[shas["deleted"]]["arms"][name]["files"]
        # the side commit's parent is the deletion: new.py is in its tree, old.py no longer
        assert "pkg/new.py" in by_sha[shas["side"]]["arms"][name]["files"]
        assert "pkg/old.py" not in by_sha[shas["side"]]["arms"][name]["files"]
    table = history.table([result])
    assert table.splitlines()[0].startswith("| repo | commits | arm | recall@5 | recall@10 | MRR@10 |")
    assert "| tiny | 3 |" in table
    assert "| repo | arm | test files in the top 10 | other files in the top 10 |" in table


@pytest.mark.skipif(not AIDER_PYTHON.exists(), reason="Aider's venv (benchmarks/repo_map.py makes it) is missing")
def test_the_aider_arm_ranks_the_same_trees(tiny, tmp_path):
    repo, shas = tiny
    result = history.run_repo(str(repo), _args(tmp_path, repo), aider=AIDER_PYTHON)
    by_sha = {c["sha"]: c for c in result["cases"]}
    aider = by_sha[shas["two"]]["arms"]["Aider 0.86"]
    assert "pkg/models.py" in aider["files"] and "pkg/views.py" not in aider["files"]  # the focus left out
    assert "pkg/old.py" not in by_sha[shas["side"]]["arms"]["Aider 0.86"]["files"]
    assert "| Aider 0.86 |" in history.table([result])
