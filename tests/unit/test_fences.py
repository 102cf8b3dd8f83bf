"""The fence: 30+ attempts to leave the workspace or read secrets through the tools, all refused.

Each attempt goes through the real tools (read_file, edit_file, write_file, list_files, search)
against a workspace with symlinks leading out, `.git` internals, `.env` files and private keys,
next to an outside folder holding a marker that must never come back.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gdm.context.workspace import NoBuffers, PathRefused, WorkspaceView
from gdm.patches.book import PatchBook
from gdm.patches.risk import RiskContext
from gdm.tools import default_tools
from gdm.tools.base import ToolContext, ToolError, counter_ids

OUTSIDE_MARK = "OUTSIDE-MARKER-7f3a"
SECRET_MARK = "SECRET-MARKER-91bc"


@pytest.fixture
def fenced_ws(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    outside = tmp_path / "outside"
    (root / "src").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "vendor" / "lib" / ".git").mkdir(parents=True)
    (root / "keys").mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text(OUTSIDE_MARK + "\n")
    (root / "src" / "app.py").write_text("print('hello')\n")
    (root / ".git" / "config").write_text(f"[remote] url=https://u:{SECRET_MARK}@example.com\n")
    (root / "vendor" / "lib" / ".git" / "HEAD").write_text(SECRET_MARK + "\n")
    for name in (".env", ".env.local", "prod.env", "keys/server.pem", "keys/deploy.key", "id_rsa", ".npmrc",
                 "keys/store.p12", ".git-credentials"):
        (root / name).write_text(f"TOKEN={SECRET_MARK}\n")
    os.symlink(outside, root / "out_dir")                       # a folder link leading out
    os.symlink(outside / "secret.txt", root / "out_file.txt")   # a file link leading out
    os.symlink("../../outside/secret.txt", root / "src" / "rel_link.txt")
    os.symlink("/etc", root / "etc_link")
    os.symlink(root / "out_dir", root / "chain")                # a link to a link that leads out
    os.symlink(".env", root / "notes.txt")                      # an innocent name for the secrets file
    os.symlink(".git", root / "gitlink")                        # another name for .git
    os.symlink(root / "src", root / "src_alias")                # a link that stays inside: allowed
    return root


SECRET_FILES = [".env", ".ENV", ".env.local", "prod.env", "keys/server.pem", "keys/deploy.key", "ID_RSA", ".npmrc",
                "keys/store.P12", ".git-credentials", "notes.txt", "\uff0eenv"]
ATTEMPTS = SECRET_FILES + [
    "../outside/secret.txt", "src/../../outside/secret.txt", "./../outside/secret.txt", "src/../..",
    "/etc/passwd", "//etc/passwd", "\\etc\\passwd", "..\\outside\\secret.txt", "C:\\Windows\\win.ini",
    "c:/windows/win.ini", "~/.ssh/id_rsa", "~root/.bashrc", "out_dir/secret.txt", "out_file.txt",
    "src/rel_link.txt", "etc_link/passwd", "chain/secret.txt", "\uff0e\uff0e/outside/secret.txt",  # fullwidth dots
    "\uff0e\uff0e\uff0foutside\uff0fsecret.txt", "src/\u2024\u2024/\u2024\u2024/outside/secret.txt",  # one-dot leaders
    "src/app.py\x00.txt", "\u202etxt.terces/edistuo/..", "src/\u200b../../outside/secret.txt",
    ".git/config", ".GIT/config", ".Git/HEAD", "vendor/lib/.git/HEAD", ".git./config", "gitlink/config",
]


@pytest.fixture
def ctx(fenced_ws: Path) -> ToolContext:
    book = PatchBook()
    return ToolContext("t1", WorkspaceView(fenced_ws, NoBuffers(), book), book, RiskContext(), counter_ids("p"))


async def call(ctx: ToolContext, name: str, **args):
    tool = default_tools().get(name)
    return await tool.run(tool.check_args(args), ctx)


def test_the_table_is_big_enough():
    assert len(ATTEMPTS) >= 30 and len(set(ATTEMPTS)) == len(ATTEMPTS)


@pytest.mark.parametrize("path", ATTEMPTS)
async def test_every_attempt_is_refused_by_every_tool(ctx, path):
    with pytest.raises(ToolError):
        await call(ctx, "read_file", path=path)
    with pytest.raises(ToolError):
        await call(ctx, "edit_file", path=path, old_text="x", new_text="y")
    with pytest.raises(ToolError):
        await call(ctx, "write_file", path=path, content="pwned")
    assert ctx.patches.open() == []


@pytest.mark.parametrize("path", [p for p in ATTEMPTS if p not in SECRET_FILES])
async def test_listing_and_searching_there_is_refused_too(ctx, path):
    with pytest.raises(ToolError):
        await call(ctx, "list_files", path=path)
    with pytest.raises(ToolError):
        await call(ctx, "search", query="MARKER", path=path)


async def test_search_and_list_of_the_whole_workspace_never_show_a_secret(ctx):
    found = (await call(ctx, "search", query="MARKER")).text
    assert OUTSIDE_MARK not in found and SECRET_MARK not in found
    listed = (await call(ctx, "list_files")).text.splitlines()
    assert "src/app.py" in listed
    assert not [p for p in listed if p.startswith((".git/", "out_dir", "chain", "etc_link", "gitlink"))]


async def test_ordinary_paths_still_work(ctx):
    assert (await call(ctx, "read_file", path="src/app.py")).text == "print('hello')\n"
    assert (await call(ctx, "read_file", path="./src//app.py")).text == "print('hello')\n"
    assert (await call(ctx, "read_file", path="src_alias/app.py")).text == "print('hello')\n"
    assert "src/app.py" in (await call(ctx, "search", query="hello")).text


def test_the_view_says_why(fenced_ws):
    view = WorkspaceView(fenced_ws, NoBuffers(), PatchBook())
    reasons = {}
    for path in ("../x", "/etc/passwd", "out_dir/secret.txt", ".GIT/config", "notes.txt", "a\u200bb"):
        with pytest.raises(PathRefused) as info:
            view.rel(path)
        reasons[path] = str(info.value)
    assert "leaves the workspace" in reasons["../x"]
    assert "absolute" in reasons["/etc/passwd"]
    assert "outside the workspace" in reasons["out_dir/secret.txt"]
    assert "version-control" in reasons[".GIT/config"]
    assert "holds secrets" in reasons["notes.txt"]
    assert "invisible" in reasons["a\u200bb"]
