"""The workspace view: fences, buffers over disk, the task's pending patches on top, listing."""

import os
from pathlib import Path

import pytest

from gdm.context.workspace import Buffer, NoBuffers, PathRefused, WorkspaceView
from gdm.patches.book import PatchBook
from gdm.patches.model import make_patch


class Buffers:
    def __init__(self, docs):
        self.docs = docs

    def buffer(self, path):
        return self.docs.get(path)

    def open_paths(self):
        return set(self.docs)


@pytest.fixture
def view(workspace: Path) -> WorkspaceView:
    return WorkspaceView(workspace, NoBuffers(), PatchBook())


@pytest.mark.parametrize("path", [
    "../x", "a/../../x", "/etc/passwd", "~/x", "C:/x", "\\\\server\\share", ".git/config", "a/\x00b", "",
])
def test_fence_refuses(view, path):
    with pytest.raises(PathRefused):
        view.rel(path)


def test_fence_refuses_symlink_out(view, workspace, tmp_path):
    (tmp_path / "secret.txt").write_text("s")
    os.symlink(tmp_path / "secret.txt", workspace / "link.txt")
    os.symlink(tmp_path, workspace / "linkdir")
    with pytest.raises(PathRefused):
        view.rel("link.txt")
    with pytest.raises(PathRefused):
        view.rel("linkdir/secret.txt")


def test_fence_normalises(view):
    assert view.rel("./calc.py") == "calc.py"
    assert view.rel("sub//x/./y.py") == "sub/x/y.py"
    assert view.rel("sub\\y.py") == "sub/y.py"


def test_buffer_over_disk_and_patches_on_top(workspace):
    book = PatchBook()
    view = WorkspaceView(workspace, Buffers({"calc.py": Buffer("unsaved\n", 4)}), book)
    assert view.current("calc.py") == Buffer("unsaved\n", 4)
    assert view.current("test_calc.py").version is None
    book.put(make_patch(patch_id="p1", task_id="t1", path="calc.py", base_text="unsaved\n", new_text="proposed\n"))
    assert view.read("calc.py", "t1") == "proposed\n"
    assert view.read("calc.py", "t2") == "unsaved\n"  # other tasks' proposals are not shown
    assert view.read("missing.py", "t1") is None


def test_list_files_honours_gitignore(view, workspace):
    (workspace / "__pycache__").mkdir()
    (workspace / "__pycache__" / "calc.cpython-311.pyc").write_bytes(b"\0")
    (workspace / "build.log").write_text("x")
    (workspace / ".gitignore").write_text("*.log\n")
    files = view.list_files()
    assert "calc.py" in files and "test_calc.py" in files
    assert "build.log" not in files and not any("__pycache__" in f for f in files)
    assert view.list_files(pattern="test_*.py") == ["test_calc.py"]


def test_uri_round_trip(view, workspace):
    uri = view.uri("calc.py")
    assert uri.startswith("file://") and view.rel_of_uri(uri) == "calc.py"
    assert view.rel_of_uri("file:///etc/passwd") is None
    assert view.rel_of_uri("untitled:Untitled-1") is None
