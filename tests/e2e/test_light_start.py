"""A light start (issue 30): a server on an empty workspace, ready and asked for its map, has loaded
neither numpy (with OpenBLAS's thread buffers) nor tree-sitter; both load when the map first
needs them for a workspace with files. Seen from outside, as an editor's machine would: the
shared objects mapped into the server's process (/proc/PID/maps)."""

from __future__ import annotations

from pathlib import Path

from gdm.commands import Command
from tests.e2e.editor import start_editor, stop_editor

HEAVY = {"numpy": "_multiarray_umath", "tree_sitter": "tree_sitter/_binding"}


def loaded(pid: int) -> set[str]:
    """Which of the heavy libraries the process has mapped."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    return {name for name, marker in HEAVY.items() if marker in maps}


async def test_an_empty_workspace_loads_no_numpy_nor_tree_sitter_until_it_has_files(tmp_path, settings):
    root = tmp_path / "empty"
    root.mkdir()
    editor, _ = await start_editor(root, tmp_path, init_options=settings)
    try:
        pid = editor.client._server.pid  # pygls keeps the server's process here (no public accessor)
        empty = await editor.command(Command.MAP.identifier, {})  # ready: the session is open
        assert empty["files"] == []
        assert loaded(pid) == set()
        (root / "app.py").write_text("def main():\n    return helper()\n\n\ndef helper():\n    return 1\n")
        await editor.open("app.py")
        mapped = await editor.command(Command.MAP.identifier, {"focus": ["app.py"]})
        assert mapped["files"] == ["app.py"] and "def main" in mapped["text"]
        assert loaded(pid) == {"numpy", "tree_sitter"}
    finally:
        await stop_editor(editor)
