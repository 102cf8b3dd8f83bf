"""The first index of a large workspace over LSP: `$/progress` (create, begin, reports, end) while it
runs, and a task started meanwhile gets its map without waiting for the whole index — what is ready
plus its focus file (issue 18, item 5)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gdm.commands import Command
from gdm.scripted import ScriptedModel
from tests.conftest import scripted_settings
from tests.e2e.editor import start_editor, stop_editor

FILES = 4000  # parsed in a few seconds on 2 free cores: longer than a task waits for the index
TOKEN = "gdm-index"


def generate(root: Path, count: int) -> None:
    """A workspace of `count` small Python modules referencing each other, and a focus file parsed last."""
    for i in range(count):
        folder = root / f"pkg{i // 500}"
        folder.mkdir(parents=True, exist_ok=True)
        body = ["from pkg0.m0 import helper_0\n\n"]
        for j in range(8):
            body.append(f"class Thing{i}_{j}:\n    def run_{j}(self, x):\n        return helper_0(x) + {j}\n\n"
                        f"def func_{i}_{j}(a, b):\n    return Thing{i}_{j}().run_{j}(a) + b\n\n")
        (folder / f"m{i}.py").write_text("".join(body))
    (root / "zzz").mkdir()
    (root / "zzz" / "target.py").write_text("def focus_only_function(value: int) -> int:\n    return value * 2\n")


@pytest.fixture
def big(tmp_path: Path) -> Path:
    root = tmp_path / "big"
    generate(root, FILES)
    return root


async def test_first_index_reports_progress_and_a_task_meanwhile_gets_ready_part_plus_focus(big, tmp_path):
    script = {"conversations": [{"match": "double it", "turns": [{"reply": {"content": "It doubles."}}]}]}
    with ScriptedModel(script) as model:
        editor, _ = await start_editor(big, tmp_path, init_options=scripted_settings(model, tmp_path, mapTokens=1024))
        try:
            reports = editor.client.progress_reports
            await editor.wait_for(lambda: reports.get(TOKEN), timeout=120)  # created and begun
            assert reports[TOKEN][0].kind == "begin" and "files to parse" in reports[TOKEN][0].message

            uri = editor.uri("zzz/target.py")
            result = await editor.command(Command.ASK.identifier, {"prompt": "explain: double it", "uri": uri})
            await editor.wait_done(result["taskId"], timeout=120)
            assert model.requests, model.failures
            first_user = next(m for m in model.requests[0]["messages"] if m["role"] == "user")
            text = first_user["content"] if isinstance(first_user["content"], str) else str(first_user["content"])
            indexed_then = any(r.kind == "end" for r in reports[TOKEN])

            await editor.wait_for(lambda: reports[TOKEN][-1].kind == "end", timeout=300)
        finally:
            await stop_editor(editor)
    kinds = [r.kind for r in reports[TOKEN]]
    assert kinds[0] == "begin" and kinds[-1] == "end" and "report" in kinds
    percentages = [r.percentage for r in reports[TOKEN] if r.kind == "report"]
    assert percentages == sorted(percentages) and all(0 <= p <= 100 for p in percentages)
    # The task's map has its focus file even though it may not have been parsed yet by the index.
    assert "zzz/target.py:" in text and "def focus_only_function(value: int) -> int:" in text
    if not indexed_then:  # it did not wait for the whole index, and says its map is partial
        assert "still being indexed" in text
