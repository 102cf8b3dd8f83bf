"""The code map over LSP: `gdm.map` answers what the model would see, and follows the editor's
unsaved buffer after `didChange` (re-parsed incrementally), then the disk again after close."""

from __future__ import annotations

from pathlib import Path

from pygls.exceptions import JsonRpcException

import pytest

from tests.e2e.editor import start_editor, stop_editor


@pytest.fixture
async def editor(workspace: Path, tmp_path: Path, settings: dict):
    ed, _result = await start_editor(workspace, tmp_path, init_options=settings)
    yield ed
    await stop_editor(ed)


async def test_gdm_map_answers_and_follows_unsaved_typing(editor, workspace):
    result = await editor.command("gdm.map", {"maxTokens": 512})
    assert set(result) == {"text", "files", "symbols", "ms"}
    assert "calc.py:\n  def add(a: float, b: float) -> float:" in result["text"] and result["symbols"] >= 6
    assert "calc.py" in result["files"] and result["ms"] >= 0

    await editor.open("calc.py")
    await editor.type("calc.py", 16, 0, "\n\ndef unsaved_power(base: float, exp: int) -> float:\n    return base ** exp\n")

    # gdm.map reads the buffer as it is now (the didChange feed parses it in the background too).
    found = await editor.command("gdm.map", {"focus": ["calc.py"], "maxTokens": 512})
    assert "def unsaved_power(base: float, exp: int) -> float:" in found["text"]
    assert "unsaved_power" not in (workspace / "calc.py").read_text()  # only the buffer has it


async def test_gdm_map_refuses_a_focus_outside_the_workspace(editor):
    with pytest.raises(JsonRpcException, match="outside|leaves"):
        await editor.command("gdm.map", {"focus": ["../elsewhere.py"]})
