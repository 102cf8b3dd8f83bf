"""`gdm undo` headless, as a user runs it after `gdm ask --apply`: the disk applier reverts the task,
keeping what was typed since; bad requests are refused with exit code 2."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from gdm.scripted import ScriptedModel
from tests.conftest import FIXTURES
from tests.e2e.editor import server_env
from tests.unit.test_cli import gdm


@pytest.fixture
def undo_model() -> Iterator[ScriptedModel]:
    with ScriptedModel(json.loads((FIXTURES / "scripts" / "undo.json").read_text())) as model:
        yield model


def test_undo_on_disk_after_ask_apply(workspace, tmp_path, undo_model):
    env = server_env(tmp_path, GDM_MODEL="openai/scripted", GDM_API_BASE=undo_model.base_url,
                     GDM_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}")
    original = {rel: (workspace / rel).read_text() for rel in ("calc.py", "test_calc.py")}
    asked = gdm("ask", "Tidy the calculator and note it", "--workspace", str(workspace), "--apply", env=env)
    assert asked.returncode == 0 and "applied NOTES.md" in asked.stdout, asked.stdout + asked.stderr
    task_id = re.search(r"pending patch (t-[0-9a-f]+)-p", asked.stdout).group(1)
    (workspace / "calc.py").write_text("# typed after the task\n" + (workspace / "calc.py").read_text())

    undone = gdm("undo", task_id, "--workspace", str(workspace), env=env)
    assert undone.returncode == 0, undone.stdout + undone.stderr
    assert f"undid 3 change(s) of task {task_id}" in undone.stdout
    assert (workspace / "calc.py").read_text() == "# typed after the task\n" + original["calc.py"]
    assert (workspace / "test_calc.py").read_text() == original["test_calc.py"]
    assert not (workspace / "NOTES.md").exists()

    again = gdm("undo", task_id, "--workspace", str(workspace), env=env)
    assert again.returncode == 2 and "undone already" in again.stdout
    unknown = gdm("undo", "t-nosuch", "--workspace", str(workspace), env=env)
    assert unknown.returncode == 2 and "unknown task 't-nosuch'" in unknown.stdout
